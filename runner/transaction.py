"""File changes as small action objects: planned, shown, checked for conflicts, then run.

Every write is atomic (temporary file in the same folder, rename), so a killed
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
from dataclasses import dataclass, field
from pathlib import Path

from runner.errors import ConflictError, LockError, printable
from runner.model import Source
from runner.paths import Folders, confined_str


@dataclass(frozen=True)
class WriteFile:
    rel: str
    content: bytes
    executable: bool = False
    kind: str = "update"  # create | update
    conflict: str | None = None  # why this write would lose someone's work
    source: Source | None = None  # the block that owns the file, for errors

    def describe(self) -> str:
        return f"{self.kind:<7} {printable(self.rel)}"

    def run(self, root: Path, folders: Folders, checked: bool = False) -> None:
        """``checked``: the transaction's check confined this path already."""
        if checked:
            path = os.path.join(root, self.rel)  # noqa: PTH118
        else:
            path = confined_str(root, self.rel, self.source, folders)
        parent = os.path.dirname(path)  # noqa: PTH120
        if folders.absent(parent):  # known not to exist: make it, no failed open first
            os.makedirs(parent, exist_ok=True)  # noqa: PTH103
            folders.made(parent)
        write_atomic(path, self.content, self.executable)


@dataclass(frozen=True)
class DeleteFile:
    rel: str
    conflict: str | None = None

    def describe(self) -> str:
        return f"delete  {printable(self.rel)}"

    def run(self, root: Path, folders: Folders, checked: bool = False) -> None:
        path = Path(confined_str(root, self.rel, None, folders))
        path.unlink(missing_ok=True)
        _remove_empty_parents(path.parent, root)


@dataclass(frozen=True)
class RemoveFolder:
    """An output folder that holds no file (only, perhaps, empty folders): git cannot
    carry it, no document asks for it, and a write may need its place."""

    rel: str
    conflict: str | None = None

    def describe(self) -> str:
        return f"remove  {printable(self.rel)}/"

    def run(self, root: Path, folders: Folders, checked: bool = False) -> None:
        folder = Path(confined_str(root, self.rel, None, folders))
        for current, _dirs, _files in os.walk(folder, topdown=False):
            with contextlib.suppress(OSError):  # not empty any more: someone wrote there
                Path(current).rmdir()
        _remove_empty_parents(folder.parent, root)


Action = WriteFile | DeleteFile | RemoveFolder


TEMP_FILE = re.compile(r"^\..+\.wf-\d+-\d+\.tmp$")  # the temporary files of write_atomic


def empty_folders(root: Path) -> list[str]:
    """The topmost folders below ``root`` that hold no file at any depth."""
    if not root.is_dir():
        return []
    holds_files: dict[str, bool] = {}
    for current, dirs, files in os.walk(root, topdown=False):
        here = Path(current)
        rel = _rel(root, here)
        holds_files[rel] = bool(files) or any(
            (here / d).is_symlink() or holds_files.get(_rel(root, here / d), True) for d in dirs
        )
    empty = sorted(rel for rel, full in holds_files.items() if not full and rel != ".")
    return [rel for rel in empty if not any(rel.startswith(f"{e}/") for e in empty)]


@dataclass
class Transaction:
    """A set of actions on the folder ``root``; nothing happens before ``run``."""

    root: Path
    actions: list[Action]
    # what ``check`` found of the folders (their real paths, which exist): ``run`` goes on
    # from there instead of looking everything up again
    _folders: Folders | None = field(default=None, init=False, repr=False)

    def conflicts(self) -> list[Action]:
        return [a for a in self.actions if a.conflict]

    def check(self, force: bool, hint: str = "rerun with --force to overwrite them") -> None:
        """Refuse, before any write: a path leaving ``root`` through a symlink; a folder,
        file or link standing in the way; and, unless ``force``, an action that would lose
        work (the error ends with ``hint``: what the user can do about it)."""
        folders = Folders()
        for action in self.actions:
            confined_str(self.root, action.rel, getattr(action, "source", None), folders)
        self._check_shapes(folders)
        conflicts = self.conflicts()
        if conflicts and not force:
            lines = "\n".join(f"  {printable(a.rel)}: {a.conflict}" for a in conflicts)
            raise ConflictError(
                f"refusing to overwrite {len(conflicts)} file(s):\n{lines}\n{hint}", self.root
            )
        self._folders = folders

    def run(self) -> None:
        """Deletes first, then empty folders, so a file can become a folder (or a folder
        a file). A folder a delete removes is made again by the write that needs it; the
        real paths ``check`` found stay right (a removed link can only become a folder)."""
        checked = self._folders is not None
        folders = self._folders or Folders()
        order = {DeleteFile: 0, RemoveFolder: 1, WriteFile: 2}
        for action in sorted(self.actions, key=lambda a: order[type(a)]):
            action.run(self.root, folders, checked)
        if self.actions:
            sync_filesystem(self.root)

    def _check_shapes(self, view: Folders) -> None:
        gone = _Gone(
            {a.rel for a in self.actions if isinstance(a, DeleteFile)},
            {a.rel for a in self.actions if isinstance(a, RemoveFolder)},
        )
        folders: dict[str, str | None] = {}  # parent -> why not a folder (nothing changes)
        for action in self.actions:
            if isinstance(action, WriteFile):
                problem = _blocked(self.root, action.rel, gone, folders, view)
                if problem:
                    where = (action.source.file, action.source.line) if action.source else ()
                    raise ConflictError(f"cannot write {action.rel}: {problem}", *where)


@dataclass(frozen=True)
class _Gone:
    """What a transaction removes before it writes: files, and file-less folders."""

    files: set[str]
    folders: set[str]

    def folder(self, rel: str) -> bool:
        return any(rel == f or rel.startswith(f"{f}/") for f in self.folders)


def _blocked(
    root: Path, rel: str, gone: _Gone, folders: dict[str, str | None], view: Folders
) -> str | None:
    """Why ``rel`` cannot become a file once ``gone`` is removed (None: it can).
    ``folders`` remembers each parent's verdict: many files share them (on a clean build
    none exists yet, and each was looked up again for every file below it); ``view``
    knows which folders are absent, below which nothing needs looking at."""
    destination = os.path.join(root, rel)  # noqa: PTH118
    present = not view.absent(os.path.dirname(destination))  # noqa: PTH120
    if present and os.path.isdir(destination) and not os.path.islink(destination):  # noqa: PTH112, PTH114
        problem = _folder_stays(root, Path(destination), gone)
        if problem:
            return problem
    parent = rel.rpartition("/")[0]
    return _parent_verdict(root, parent, gone, folders, view) if parent else None


def _parent_verdict(
    root: Path, parent: str, gone: _Gone, folders: dict[str, str | None], view: Folders
) -> str | None:
    """Why ``parent`` or a folder above it cannot be a folder (None: all can)."""
    if parent not in folders:
        above = parent.rpartition("/")[0]
        verdict = _parent_verdict(root, above, gone, folders, view) if above else None
        if verdict is None and parent not in gone.files:
            verdict = _not_a_folder(root, parent, view)
        folders[parent] = verdict
    return folders[parent]


def _not_a_folder(root: Path, parent: str, view: Folders) -> str | None:
    """Why ``parent`` cannot be (or become) a folder; None: it is one, or is absent."""
    path = os.path.join(root, parent)  # noqa: PTH118
    if view.absent(path) or os.path.isdir(path):  # noqa: PTH112
        return None
    if os.path.islink(path):  # noqa: PTH114
        return f"{parent} is a symlink to nothing, so it cannot be a folder; remove it"
    if os.path.exists(path):  # noqa: PTH110
        return f"{parent} is a file, so it cannot be a folder; move it away"
    return None


def _folder_stays(root: Path, folder: Path, gone: _Gone) -> str | None:
    """What keeps ``folder`` in place after the transaction's removals (None: nothing)."""
    emptied: dict[Path, bool] = {}  # folder -> a removed file below it takes it away
    for current, dirs, files in os.walk(folder, topdown=False):
        here = Path(current)
        links = [d for d in dirs if (here / d).is_symlink()]
        for name in sorted([*files, *links]):
            if _rel(root, here / name) not in gone.files:
                return f"a folder is there, holding {_rel(root, here / name)}; move it away"
        emptied[here] = bool(files or links) or any(emptied.get(here / d, False) for d in dirs)
        if not emptied[here] and not gone.folder(_rel(root, here)):
            return f"an empty folder {_rel(root, here)} is there; remove it"
    return None


def _rel(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def write_atomic(
    path: Path | str, content: bytes, executable: bool = False, durable: bool = False
) -> None:
    """Write ``content`` to ``path`` so readers see the old or the new file, never half.

    The rename makes the write atomic against a killed run; ``durable`` also fsyncs the
    file and its folder (the manifest: written after ``sync_filesystem`` flushed the
    files it describes, so a power loss cannot leave it pointing at lost content).
    """
    path = os.fspath(path)  # strings below: a build writes thousands of files
    temp = _temp_name(path)
    folder = os.path.dirname(path)  # noqa: PTH120
    mode = 0o755 if executable else 0o644
    try:
        descriptor = _create(temp, folder, mode)
        try:  # unbuffered: one write call, no file object (a build writes thousands)
            view = memoryview(content)
            while view:
                view = view[os.write(descriptor, view) :]
            os.fchmod(descriptor, mode)  # exact bits, whatever the umask
            if durable:
                os.fsync(descriptor)
        finally:
            os.close(descriptor)
        os.replace(temp, path)  # noqa: PTH105
        if durable:
            _sync_folder(folder)  # the rename itself
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)  # noqa: PTH108
        raise


def sync_filesystem(folder: Path) -> None:
    """Flush every write of this run to disk at once, before the manifest is replaced.

    One ``syncfs`` of the file system (Linux; ``sync`` elsewhere) costs about as much as
    a single fsync; an fsync per file made a 300-file build 25 times slower.
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except (OSError, AttributeError):
        os.sync()
        return
    try:
        if getattr(libc, "syncfs", None) is None or libc.syncfs(descriptor) != 0:
            os.sync()
    finally:
        os.close(descriptor)


def temp_path(path: Path) -> Path:
    """Where ``write_atomic`` stages ``path``: unique per process and thread."""
    return Path(_temp_name(os.fspath(path)))


def _temp_name(path: str) -> str:
    folder, name = os.path.split(path)
    return os.path.join(folder, f".{name}.wf-{os.getpid()}-{threading.get_ident()}.tmp")  # noqa: PTH118


def _sync_folder(folder: str) -> None:
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _create(temp: str, folder: str, mode: int) -> int:
    """Open a new temporary file exclusively (never through a planted link)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    try:
        return os.open(temp, flags, mode)
    except FileNotFoundError:
        os.makedirs(folder or ".", exist_ok=True)  # noqa: PTH103
    except FileExistsError:
        os.unlink(temp)  # noqa: PTH108 (left by a killed run of a process with our pid)
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
