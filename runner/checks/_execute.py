"""Run one check command in a fresh workspace, in its own process group, with a timeout.

Output goes to a file (not a pipe): a background grandchild that keeps stdout open can
neither block the runner nor outlive the check, because the whole process group is
terminated (SIGTERM, a short grace, SIGKILL) on timeout and after a normal exit.
"""

from __future__ import annotations

import contextlib
import os
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
    """The process groups of a run's running checks, so an interrupted run can end them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: set[int] = set()
        self._stopped = False

    def spawn(self, args: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        with self._lock:  # a stop cannot slip between the test and the registration
            if self._stopped:
                raise Interrupted
            proc = subprocess.Popen(args, start_new_session=True, **kwargs)
            self._active.add(proc.pid)
            return proc

    def forget(self, pid: int) -> None:
        with self._lock:
            self._active.discard(pid)

    def kill_all(self) -> None:
        """SIGKILL every running group, and refuse new ones."""
        with self._lock:
            self._stopped = True
            for pgid in self._active:
                _signal_group(pgid, signal.SIGKILL)


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
    """Run ``bash -e -o pipefail -c command``; output (stdout+stderr) goes to log_path."""
    start = time.monotonic()
    with log_path.open("wb") as log:
        proc = groups.spawn(
            ["bash", "-e", "-o", "pipefail", "-c", command],
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
