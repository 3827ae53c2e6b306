"""Compare what the documents produce with what ``sdlc/<set>/`` holds on disk."""

from __future__ import annotations

import difflib
import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from runner.manifest import MANIFEST, Entry, OnDisk
from runner.plan import PlannedFile
from runner.transaction import TEMP_FILE

STALE = "stale"  # the documents changed; the file on disk is what we wrote before
HAND_EDITED = "hand-edited"  # the file on disk is not what we wrote
MISSING = "missing"  # planned, absent on disk
ORPHANED = "orphaned"  # we wrote it once, no document produces it any more
UNTRACKED = "untracked"  # on disk, not ours
MANIFEST_STALE = "manifest"  # the manifest does not describe the planned outputs
NOT_REPRODUCIBLE = "not-reproducible"  # a derived output's command gave other bytes


@dataclass(frozen=True)
class Difference:
    kind: str
    key: str  # path below sdlc/<set>/, e.g. "01-project-setup/app/main.py"
    planned: PlannedFile | None
    disk: bytes | None
    owners: tuple[str, ...] = ()  # "file.md:line" of the blocks that own the file
    edited: bool = False  # for orphans: changed by hand since we wrote it

    def unified_diff(self, prefix: str) -> str:
        """A unified diff from the disk to the planned content ('' for binary/none)."""
        old = _text(self.disk)
        new = _text(self.planned.content if self.planned else None)
        if old is None or new is None:
            return ""
        lines = difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=f"a/{prefix}{self.key}" if self.disk is not None else "/dev/null",
            tofile=f"b/{prefix}{self.key}" if self.planned else "/dev/null",
        )
        return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def compare(
    planned: dict[str, PlannedFile],
    root: Path,
    out_dir: Path,
    owned: OnDisk,
    manifest_bytes: bytes,
    folders: tuple[str, ...] | None = None,
) -> list[Difference]:
    """Every way ``out_dir`` differs from the plan (and its manifest), in a stable order.
    With ``folders`` (step folders) only the files below them are looked at: the plan
    holds only those steps, the rest is known to be unchanged."""
    manifest = owned.entries
    if folders is None:
        on_disk = _walk(out_dir, "")
    else:
        on_disk = _Found()
        for name in folders:
            on_disk.update(_walk(out_dir / name, f"{name}/"))
    differences = [
        d for key, f in planned.items() if (d := _planned(key, f, root, out_dir, manifest, on_disk))
    ]
    for key in sorted(on_disk.files - planned.keys()):
        entry = manifest.get(key)
        data = _read(out_dir / key)  # None: a dangling symlink or unreadable
        if entry is None and TEMP_FILE.match(key.rsplit("/", 1)[-1]):
            # left by a killed run (transaction.write_atomic): ours, so build removes it
            differences.append(Difference(ORPHANED, key, None, data))
        elif entry is None:
            differences.append(Difference(UNTRACKED, key, None, data))
        else:
            edited = data is None or _digest(data) != entry.sha256
            differences.append(Difference(ORPHANED, key, None, data, entry.sources, edited))
    if owned.raw != manifest_bytes:
        differences.append(Difference(MANIFEST_STALE, MANIFEST, None, owned.raw))
    return differences


@dataclass
class _Found:
    """What one walk of the output folder found: every file (links, FIFOs, ... too),
    and the links that ``os.walk`` lists among the folders (to a folder)."""

    files: set[str] = field(default_factory=set)
    linked_folders: set[str] = field(default_factory=set)

    def update(self, other: _Found) -> None:
        self.files |= other.files
        self.linked_folders |= other.linked_folders


def _walk(folder: Path, prefix: str) -> _Found:
    """Keys (``prefix`` + path below ``folder``) of everything below ``folder`` but the
    manifest: one walk instead of a look-up per planned file (on a clean build nothing
    exists and nothing needs looking at)."""
    found = _Found()
    top = os.fspath(folder)
    for current, dirs, files in os.walk(top):
        dirs.sort()
        relative = os.path.relpath(current, top)
        base = prefix if relative == "." else f"{prefix}{relative.replace(os.sep, '/')}/"
        found.files.update(base + name for name in files)
        found.linked_folders.update(
            base + name
            for name in dirs
            if os.path.islink(os.path.join(current, name))  # noqa: PTH114, PTH118
        )
    found.files.discard(MANIFEST)
    return found


def _planned(
    key: str,
    planned: PlannedFile,
    root: Path,
    out_dir: Path,
    manifest: dict[str, Entry],
    on_disk: _Found,
) -> Difference | None:
    if key in on_disk.linked_folders:  # not ours: wf never writes over or through links
        return Difference(UNTRACKED, key, planned, None, _owners(planned, root))
    if key not in on_disk.files:  # absent, or a folder the build may clear (transaction decides)
        return Difference(MISSING, key, planned, None, _owners(planned, root))
    path = os.path.join(out_dir, key)  # noqa: PTH118
    try:
        info = os.lstat(path)
    except OSError:  # gone since the walk
        return Difference(MISSING, key, planned, None, _owners(planned, root))
    if stat.S_ISLNK(info.st_mode):
        return Difference(UNTRACKED, key, planned, None, _owners(planned, root))
    data = _read(Path(path)) if stat.S_ISREG(info.st_mode) else None
    if data is None:  # a FIFO, a device, unreadable: not a file wf can compare
        return Difference(MISSING, key, planned, None, _owners(planned, root))
    if data == planned.content and bool(info.st_mode & 0o111) == planned.executable:
        return None
    owners = _owners(planned, root)
    entry = manifest.get(key)
    if entry is None:
        return Difference(UNTRACKED, key, planned, data, owners)
    kind = STALE if _digest(data) == entry.sha256 else HAND_EDITED
    return Difference(kind, key, planned, data, owners)


def _owners(planned: PlannedFile, root: Path) -> tuple[str, ...]:
    return tuple(s.label(root) for s in planned.sources)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _text(data: bytes | None) -> str | None:
    if data is None:
        return ""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None
