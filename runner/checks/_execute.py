"""Run one check command in a fresh workspace, in a session of its own, with a timeout.

Output goes to a file (not a pipe): a background grandchild that keeps stdout open can
neither block the runner nor outlive the check. On Linux each check runs under a small
supervisor (``_supervise.py``) that is a child subreaper: whatever the check leaves
behind — even through ``setsid``, ``nohup`` or a double fork — stays in the supervisor's
process tree and is ended (SIGTERM, a short grace, SIGKILL) when the check exits or times
out, and at once when the runner is interrupted or dies. Elsewhere the check's process
group is ended the same way (a process that left the group can escape there).
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

GRACE = 3.0  # seconds between SIGTERM and SIGKILL
TAIL_LINES = 200
_MAX_OUTPUT = 8 * 1024 * 1024  # bytes kept for matching expect_output


class Interrupted(Exception):
    """The run is being stopped: no new check process may start."""


class ProcessGroups:
    """The running checks of a run (sessions of their own), so an interrupted run can end them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: dict[int, bool] = {}  # pid -> runs under a supervisor
        self._stopped = False

    def spawn(
        self, args: list[str], supervised: bool = False, **kwargs: Any
    ) -> subprocess.Popen[bytes]:
        with self._lock:  # a stop cannot slip between the test and the registration
            if self._stopped:
                raise Interrupted
            proc = subprocess.Popen(args, start_new_session=True, **kwargs)
            self._active[proc.pid] = supervised
            return proc

    def forget(self, pid: int) -> None:
        with self._lock:
            self._active.pop(pid, None)

    @property
    def stopped(self) -> bool:
        return self._stopped

    def kill_all(self) -> None:
        """End every running check at once (its whole tree when supervised); refuse new ones."""
        with self._lock:
            self._stopped = True
            for pid, supervised in self._active.items():
                if supervised:  # SIGHUP: the supervisor SIGKILLs its tree, then itself
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.kill(pid, signal.SIGHUP)
                else:
                    _signal_group(pid, signal.SIGKILL)


@dataclass(frozen=True)
class Outcome:
    exit_code: int | None  # None when timed out
    timed_out: bool
    output: str
    duration: float


def materialize(files: Mapping[str, bytes], root: Path) -> None:
    """Write the project tree below ``root``; ``#!`` scripts become executable."""
    for rel, data in sorted(files.items()):
        target = root.joinpath(*_safe_parts(rel))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        if data.startswith(b"#!"):
            target.chmod(0o755)


def _safe_parts(rel: str) -> tuple[str, ...]:
    path = PurePosixPath(rel)
    if path.is_absolute() or not path.parts or ".." in path.parts or "\\" in rel:
        raise ValueError(f"unsafe path in the check's file tree: {rel!r}")
    return path.parts


def remove_tree(path: Path) -> None:
    """Best-effort rmtree that also removes read-only files and folders a check left."""
    if not path.exists():
        return
    try:
        _rmtree(path)
    except OSError:
        shutil.rmtree(path, ignore_errors=True)  # a cleanup problem never fails a run


def _rmtree(path: Path) -> None:
    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=_make_writable_and_retry)
    else:
        shutil.rmtree(path, onerror=_make_writable_and_retry)


def _make_writable_and_retry(_func: Callable[..., object], name: str, _exc: object) -> None:
    target = Path(name)
    parent = target.parent
    parent.chmod(parent.stat().st_mode | stat.S_IRWXU)
    if target.is_dir() and not target.is_symlink():
        target.chmod(stat.S_IRWXU)
        _rmtree(target)
    else:
        target.unlink(missing_ok=True)


def run_command(
    command: str,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float,
    log_path: Path,
    groups: ProcessGroups,
) -> Outcome:
    """Run ``bash -e -o pipefail -c command``; output (stdout+stderr) goes to log_path.

    Raises Interrupted when the run was stopped (``groups.kill_all``) meanwhile.
    """
    argv = ["bash", "-e", "-o", "pipefail", "-c", command]
    python = _supervisor()
    if python is not None:
        return _run_supervised(python, argv, cwd, env, timeout, log_path, groups)
    start = time.monotonic()
    with log_path.open("wb") as log:
        proc = groups.spawn(
            argv,
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    timed_out = False
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:
        terminate_group(proc)
        groups.forget(proc.pid)
    return Outcome(
        exit_code=None if timed_out else proc.returncode,
        timed_out=timed_out,
        output=read_output(log_path),
        duration=time.monotonic() - start,
    )


_SUPERVISOR = Path(__file__).with_name("_supervise.py")
_STOP_SLACK = 5.0  # seconds a supervisor may take beyond the grace to end its tree


def _supervisor() -> str | None:
    """The interpreter to run ``_supervise.py`` with; None where supervision is unavailable."""
    if sys.platform.startswith("linux") and sys.executable and _SUPERVISOR.is_file():
        return sys.executable
    return None


def _run_supervised(
    python: str,
    argv: list[str],
    cwd: Path,
    env: Mapping[str, str],
    timeout: float,
    log_path: Path,
    groups: ProcessGroups,
) -> Outcome:
    start = time.monotonic()
    status_read, status_write = os.pipe()
    try:
        with log_path.open("wb") as log:
            supervisor = [python, "-I", "-S", str(_SUPERVISOR), str(os.getpid()), f"{GRACE:g}"]
            proc = groups.spawn(
                [*supervisor, str(status_write), *argv],
                supervised=True,
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=(status_write,),
            )
    except BaseException:
        os.close(status_read)
        raise
    finally:
        os.close(status_write)  # EOF once the supervisor is gone
    try:
        code, timed_out = _await_status(status_read, timeout)
        duration = time.monotonic() - start
        if timed_out:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGTERM)  # the supervisor ends the whole tree
        _await_supervisor(proc)
    finally:
        os.close(status_read)
        groups.forget(proc.pid)
    if code is None and not timed_out:
        if groups.stopped:
            raise Interrupted
        code = proc.returncode  # the supervisor itself died: report how
    return Outcome(
        exit_code=None if timed_out else code,
        timed_out=timed_out,
        output=read_output(log_path),
        duration=duration,
    )


def _await_status(fd: int, timeout: float) -> tuple[int | None, bool]:
    """(the command's exit code, or None when the supervisor ended without one; timed out)."""
    deadline = time.monotonic() + timeout
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLHUP)
    data = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None, True
        if not poller.poll(max(1, int(left * 1000))):
            continue
        chunk = os.read(fd, 64)
        data += chunk
        if not chunk or data.endswith(b"\n"):
            text = data.strip()
            return (int(text) if text.lstrip(b"-").isdigit() else None), False


def _await_supervisor(proc: subprocess.Popen[bytes]) -> None:
    """Wait while the supervisor ends the tree; should it hang, hurry it, then kill it."""
    try:
        proc.wait(timeout=GRACE + _STOP_SLACK)
        return
    except subprocess.TimeoutExpired:
        pass
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGHUP)
    try:
        proc.wait(timeout=_STOP_SLACK)
    except subprocess.TimeoutExpired:
        _signal_group(proc.pid, signal.SIGKILL)
        proc.wait()


def terminate_group(proc: subprocess.Popen[bytes], grace: float = GRACE) -> None:
    """End every process of the check's group: SIGTERM, up to ``grace`` s, then SIGKILL."""
    pgid = proc.pid
    if proc.poll() is not None and not group_alive(pgid):
        return
    _signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        proc.poll()  # reap bash so it does not count as alive
        if not group_alive(pgid):
            break
        time.sleep(0.05)
    _signal_group(pgid, signal.SIGKILL)
    proc.wait()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone
        os.killpg(pgid, sig)


def group_alive(pgid: int) -> bool:
    """Whether a live (non-zombie) process is still in the group."""
    proc_dir = Path("/proc")
    if not proc_dir.is_dir():
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True
    for entry in proc_dir.iterdir():
        if entry.name.isdigit() and _pgrp_and_state(entry) == (pgid, True):
            return True
    return False


def _pgrp_and_state(entry: Path) -> tuple[int, bool] | None:
    """(process group, alive) from /proc/<pid>/stat; zombies and dead ones are not alive."""
    try:
        raw = (entry / "stat").read_text()
    except OSError:
        return None
    fields = raw.rsplit(")", 1)[-1].split()
    if len(fields) < 3 or not fields[2].lstrip("-").isdigit():
        return None
    return int(fields[2]), fields[0] not in ("Z", "X")


def read_output(log_path: Path) -> str:
    """The output, decoded; only the last 8 MiB of a huge one."""
    size = log_path.stat().st_size
    with log_path.open("rb") as log:
        if size > _MAX_OUTPUT:
            log.seek(size - _MAX_OUTPUT)
        data = log.read()
    text = data.decode("utf-8", errors="replace")
    if size > _MAX_OUTPUT:
        text = f"[... {size - _MAX_OUTPUT} bytes of output omitted ...]\n" + text
    return text


def tail(text: str, lines: int = TAIL_LINES) -> str:
    """The last ``lines`` lines of ``text``, with a marker when some were dropped."""
    kept = text.splitlines()
    if len(kept) <= lines:
        return text
    return f"[... {len(kept) - lines} lines omitted ...]\n" + "\n".join(kept[-lines:]) + "\n"
