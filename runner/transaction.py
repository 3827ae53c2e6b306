"""File changes as small action objects: planned, shown, checked for conflicts, then run.

Every write is atomic (temporary file in the same folder, fsync, rename), so a killed
run leaves each file either fully old or fully new. A lock keeps two runs apart.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from runner.errors import ConflictError, LockError
from runner.model import Source
from runner.paths import confined


@dataclass(frozen=True)
class WriteFile:
    rel: str
    content: bytes
    executable: bool = False
    kind: str = "update"  # create | update
    conflict: str | None = None  # why this write would lose someone's work
    source: Source | None = None  # the block that owns the file, for errors

    def describe(self) -> str:
        return f"{self.kind:<7} {self.rel}"

    def run(self, root: Path, resolved: dict[Path, Path]) -> None:
        path = confined(root, self.rel, self.source, resolved)
        write_atomic(path, self.content, self.executable)


@dataclass(frozen=True)
class DeleteFile:
    rel: str
    conflict: str | None = None

    def describe(self) -> str:
        return f"delete  {self.rel}"

    def run(self, root: Path, resolved: dict[Path, Path]) -> None:
        path = confined(root, self.rel, None, resolved)
        path.unlink(missing_ok=True)
        _remove_empty_parents(path.parent, root)


Action = WriteFile | DeleteFile


TEMP_FILE = re.compile(r"^\..+\.wf-\d+-\d+\.tmp$")  # the temporary files of write_atomic


@dataclass
class Transaction:
    """A set of actions on the folder ``root``; nothing happens before ``run``."""

    root: Path
    actions: list[Action]

    def conflicts(self) -> list[Action]:
        return [a for a in self.actions if a.conflict]

    def check(self, force: bool, hint: str = "rerun with --force to overwrite them") -> None:
        """Refuse, before any write: a path leaving ``root`` through a symlink; a folder or
        file standing in the way; and, unless ``force``, an action that would lose work
        (the error ends with ``hint``: what the user can do about it)."""
        resolved: dict[Path, Path] = {}
        for action in self.actions:
            confined(self.root, action.rel, getattr(action, "source", None), resolved)
        self._check_shapes()
        conflicts = self.conflicts()
        if conflicts and not force:
            lines = "\n".join(f"  {a.rel}: {a.conflict}" for a in conflicts)
            raise ConflictError(
                f"refusing to overwrite {len(conflicts)} file(s):\n{lines}\n{hint}", self.root
            )

    def run(self) -> None:
        """Deletes first, so a file can become a folder (or a folder a file)."""
        resolved: dict[Path, Path] = {}  # folders are created as we go: a fresh cache
        ordered = sorted(self.actions, key=lambda a: not isinstance(a, DeleteFile))
        for action in ordered:
            action.run(self.root, resolved)

    def _check_shapes(self) -> None:
        deleted = {a.rel for a in self.actions if isinstance(a, DeleteFile)}
        for action in self.actions:
            if isinstance(action, WriteFile):
                problem = _blocked(self.root, action.rel, deleted)
                if problem:
                    raise ConflictError(f"cannot write {action.rel}: {problem}", self.root)


def _blocked(root: Path, rel: str, deleted: set[str]) -> str | None:
    """Why ``rel`` cannot become a file once ``deleted`` are gone (None: it can)."""
    destination = root / rel
    if destination.is_dir() and not destination.is_symlink():
        remaining = [
            p for p in destination.rglob("*") if not p.is_dir() and _rel(root, p) not in deleted
        ]
        if remaining:
            return f"a folder is there, holding {_rel(root, remaining[0])}; move it away"
    parts = rel.split("/")
    for index in range(1, len(parts)):
        parent = "/".join(parts[:index])
        if (root / parent).is_file() and parent not in deleted:
            return f"{parent} is a file, so it cannot be a folder; move it away"
    return None


def _rel(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def write_atomic(
    path: Path, content: bytes, executable: bool = False, durable: bool = False
) -> None:
    """Write ``content`` to ``path`` so readers see the old or the new file, never half.

    The rename makes the write atomic against a killed run; ``durable`` also fsyncs,
    for the manifest, so a power loss cannot leave it pointing at lost content.
    """
    temp = temp_path(path)
    mode = 0o755 if executable else 0o644
    try:
        descriptor = _create(temp, path.parent, mode)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
            os.fchmod(handle.fileno(), mode)  # exact bits, whatever the umask
        temp.replace(path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def temp_path(path: Path) -> Path:
    """Where ``write_atomic`` stages ``path``: unique per process and thread."""
    return path.with_name(f".{path.name}.wf-{os.getpid()}-{threading.get_ident()}.tmp")


def _create(temp: Path, folder: Path, mode: int) -> int:
    """Open a new temporary file exclusively (never through a planted link)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    try:
        return os.open(temp, flags, mode)
    except FileNotFoundError:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        temp.unlink()  # left by a killed run of a process with our pid
    return os.open(temp, flags, mode)


def _remove_empty_parents(folder: Path, root: Path) -> None:
    root = root.resolve()
    while folder.resolve() != root and folder.resolve().is_relative_to(root):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


@contextlib.contextmanager
def locked(lock_file: Path, wait: float = 60.0) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_file``; wait up to ``wait`` seconds for it."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("a+") as handle:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockError(
                        f"another wf run holds {lock_file} (waited {wait:.0f}s); "
                        "try again when it has finished"
                    ) from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
