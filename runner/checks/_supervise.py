"""A check's supervisor (Linux): no process the check starts may outlive it.

Run as ``python -I -S _supervise.py RUNNER_PID GRACE STATUS_FD COMMAND...``, in the
session of its own the runner gives each check. It makes itself a *child subreaper*
(``prctl(PR_SET_CHILD_SUBREAPER)``), so whatever the command leaves behind — even through
``setsid``, ``nohup`` or a double fork — is re-parented to it instead of to init, and stays
in its process tree. The tree is exactly "what this check started": walking PPid links
down from the supervisor finds all of it and nothing else, so parallel checks, the
runner's own children and unrelated processes are never touched.

- When the command exits, its exit code (``os.waitstatus_to_exitcode``) is written to
  STATUS_FD; then every remaining descendant gets SIGTERM, up to GRACE seconds to go, then
  SIGKILL, and the supervisor exits 0.
- SIGTERM (the runner's timeout) ends the tree the same way; SIGHUP (the runner is being
  interrupted, or died: it is the parent-death signal) ends it at once with SIGKILL. The
  supervisor then dies of that signal, so no exit code can be mistaken for the command's.

Only the standard library, imported without ``site``: starting costs ~15 ms. It avoids
pathlib and contextlib (the ``noqa`` below) to keep it that way.
"""

from __future__ import annotations

import os
import signal
import sys
import time

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
_KILL_SECONDS = 5.0  # SIGKILL sweeps for at most this long (unkillable: uninterruptible I/O)
_QUIET_SWEEPS = 20  # sweeps in a row that must find nothing before the tree counts as ended


class _Stop(Exception):
    pass


_state = {"stopping": False, "urgent": False, "signal": 0}


def _on_signal(signum: int, _frame: object) -> None:
    if signum != signal.SIGTERM:
        _state["urgent"] = True
    if not _state["stopping"]:
        _state["stopping"] = True
        _state["signal"] = signum
        raise _Stop


def _prctl(option: int, value: int) -> bool:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(option, value, 0, 0, 0)) == 0
    except (OSError, AttributeError):  # no libc prctl: only the process tree is ended
        return False


def _children_map() -> dict[int, list[tuple[int, bool]]]:
    """parent pid -> [(pid, alive)] for every process visible in /proc."""
    children: dict[int, list[tuple[int, bool]]] = {}
    for name in os.listdir("/proc"):  # noqa: PTH208
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:  # noqa: PTH123
                fields = handle.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue  # ended meanwhile
        alive = fields[0] not in (b"Z", b"X")
        children.setdefault(int(fields[1]), []).append((int(name), alive))
    return children


def _children(pid: int) -> list[int] | None:
    """Direct children of ``pid`` from /proc/PID/task/*/children (None: not available)."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")  # noqa: PTH208
    except OSError:
        return []  # ended meanwhile
    found: list[int] = []
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children", "rb") as handle:  # noqa: PTH123
                found.extend(int(child) for child in handle.read().split())
        except FileNotFoundError:
            if not os.path.exists(f"/proc/{pid}/task/{task}"):  # noqa: PTH110
                continue  # the thread ended
            return None  # a kernel without CONFIG_PROC_CHILDREN
        except OSError:
            continue
    return found


def descendants(root: int) -> list[int]:
    """Processes below ``root`` (zombies included: signalling them is harmless), parents
    before children. Reading each process's children list costs microseconds, where a
    scan of all of /proc costs milliseconds: fast enough to catch a process that keeps
    forking and exiting (a pid hopper) before it moves on."""
    found: list[int] = []
    stack = [root]
    while stack:
        children = _children(stack.pop())
        if children is None:
            return _descendants_by_scan(root)
        found.extend(children)
        stack.extend(children)
    return found


def _descendants_by_scan(root: int) -> list[int]:
    children = _children_map()
    found: list[int] = []
    stack = [root]
    while stack:
        for pid, alive in children.get(stack.pop(), ()):
            if alive:
                found.append(pid)
            stack.append(pid)
    return found


def _signal_all(pids: list[int], sig: int) -> None:
    for pid in pids:
        try:  # noqa: SIM105
            os.kill(pid, sig)
        except OSError:
            pass  # ended meanwhile


def _reap() -> None:
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _signal_trees(pids: list[int], sig: int) -> None:
    """Signal each process and its process group (a signal to a group also reaches a
    member that is being forked right now; the supervisor's own group is spared)."""
    mine = os.getpgrp()
    groups = set()
    for pid in pids:
        try:
            groups.add(os.getpgid(pid))
            os.kill(pid, sig)
        except OSError:
            pass  # ended meanwhile
    for group in groups - {mine}:
        try:  # noqa: SIM105
            os.killpg(group, sig)
        except OSError:
            pass


def end_tree(grace: float) -> None:
    """SIGTERM every descendant, up to ``grace`` s to go, then SIGKILL until none is left.

    Every sweep signals what it finds (a new process gets SIGTERM too), without pausing
    while anything is left: a process that forks and exits in a loop (a pid hopper) is
    caught on one of its hops, since a sweep is faster than a fork. The tree counts as
    ended only after several sweeps in a row found nothing.
    """
    me = os.getpid()
    terminated: set[int] = set()
    deadline = time.monotonic() + (grace if not _state["urgent"] else 0)
    quiet = 0
    while quiet < _QUIET_SWEEPS and time.monotonic() < deadline and not _state["urgent"]:
        _reap()
        terminated = _still_alive(terminated)
        fresh = [pid for pid in descendants(me) if pid not in terminated]
        quiet = 0 if fresh or terminated else quiet + 1
        _signal_trees(fresh, signal.SIGTERM)
        terminated.update(fresh)
        time.sleep(0.001)
    deadline = time.monotonic() + _KILL_SECONDS
    quiet = 0
    while quiet < _QUIET_SWEEPS and time.monotonic() < deadline:
        _reap()
        left = descendants(me)
        if left:
            quiet = 0
            _signal_trees(left, signal.SIGKILL)
        else:
            quiet += 1
            time.sleep(0.001)
    _reap()


def _still_alive(pids: set[int]) -> set[int]:
    """Those of ``pids`` that are still live (non-zombie) processes."""
    alive = set()
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as handle:  # noqa: PTH123
                if handle.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X"):
                    alive.add(pid)
        except (OSError, IndexError):
            continue
    return alive


def _run(command: list[str]) -> int:
    """Run the command in a process group of its own (``kill 0`` in a check spares us)."""
    try:
        child = os.posix_spawnp(
            command[0],
            command,
            os.environ,
            setpgroup=0,
            setsigdef=(signal.SIGPIPE, signal.SIGXFSZ),  # Python ignores them; checks must not
        )
    except OSError as exc:
        os.write(2, f"wf: cannot run {command[0]}: {exc}\n".encode())
        return 127
    while True:
        pid, status = os.waitpid(-1, 0)  # also reaps orphans re-parented to us
        if pid == child:
            return os.waitstatus_to_exitcode(status)


def main(argv: list[str]) -> int:
    runner, grace, status_fd, command = int(argv[1]), float(argv[2]), int(argv[3]), argv[4:]
    os.set_inheritable(status_fd, False)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    try:
        _prctl(PR_SET_CHILD_SUBREAPER, 1)
        _prctl(PR_SET_PDEATHSIG, signal.SIGHUP)
        if os.getppid() != runner:  # the runner died before PR_SET_PDEATHSIG took effect
            os.kill(os.getpid(), signal.SIGHUP)
        code = _run(command)
        _state["stopping"] = True  # from here on a signal only hurries the cleanup
        try:
            os.write(status_fd, b"%d\n" % code)
            os.close(status_fd)
        except OSError:
            pass  # the runner is gone: the tree is ended all the same
        end_tree(grace)
        return 0
    except _Stop:
        end_tree(grace)
        signal.signal(_state["signal"], signal.SIG_DFL)
        os.kill(os.getpid(), _state["signal"])
        return 128 + _state["signal"]


if __name__ == "__main__":
    sys.exit(main(sys.argv))
