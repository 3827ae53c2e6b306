"""Path confinement: targets are relative, stay inside their folder, never via symlinks."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path, PurePosixPath

from runner.errors import PathError
from runner.model import Source

MAX_COMPONENT_BYTES = 200
WINDOWS_DEVICES = frozenset({"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"})
WINDOWS_FORBIDDEN = re.compile(r'[<>:"|?*\x00-\x1f]')
MAX_PATH_BYTES = 1024
# Code points git ignores when it compares a name with ".git" (HFS+ ignorables, BOM).
IGNORED_IN_NAMES = dict.fromkeys(
    [0x200C, 0x200D, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x206A, 0x2070), 0xFEFF]
)


# A target that needs no normalising and that no rule below refuses (except device names
# and lengths, checked on it too): names of letters, digits, ``_`` and ``-``, dots only
# between them (no ``.``, ``..``, ``.git``, trailing dot), ``/`` between names.
_NAME = r"[A-Za-z0-9_][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*"
SIMPLE_TARGET = re.compile(rf"{_NAME}(?:/{_NAME})*")


# Among simple targets only these names are refused (``windows_problem``): a device name
# before a name's first dot, in any case.
SIMPLE_DEVICE = re.compile(r"(?:^|/)(?:CON|PRN|AUX|NUL|COM[1-9]|LPT[1-9])(?=[./]|$)", re.IGNORECASE)


def clean_target(target: str, source: Source | None) -> str:
    """Normalise a block's target to a relative POSIX path, or raise ``PathError``."""
    if (
        SIMPLE_TARGET.fullmatch(target)
        and len(target) <= MAX_PATH_BYTES
        and SIMPLE_DEVICE.search(target) is None
        and (len(target) <= MAX_COMPONENT_BYTES or _short_names(target))
    ):
        return target  # what the full rules return for it (tests/core/test_safety.py)
    return normalised_target(target, source)


def _short_names(target: str) -> bool:
    return all(len(part) <= MAX_COMPONENT_BYTES for part in target.split("/"))


def normalised_target(target: str, source: Source | None) -> str:
    """``clean_target`` by the full rules, for every target."""
    where = (source.file, source.line) if source else (None, None)
    text = target.strip().replace("\\", "/")
    if not text or text.endswith("/"):
        raise PathError(f"target {target!r} does not name a file", *where)
    pure = PurePosixPath(text)
    if pure.is_absolute() or (len(text) > 1 and text[1] == ":"):
        raise PathError(f"target {target!r} is absolute; targets are relative", *where)
    if ".." in pure.parts:
        raise PathError(f"target {target!r} escapes the output folder with '..'", *where)
    if "\0" in text:
        raise PathError(f"target {target!r} contains a NUL byte", *where)
    parts = [p for p in pure.parts if p != "."]
    if not parts:
        raise PathError(f"target {target!r} does not name a file", *where)
    _check_parts(target, parts, where)
    return "/".join(parts)


def _check_parts(target: str, parts: list[str], where: tuple[Path | None, int | None]) -> None:
    """No ``.git`` folder (a hook there runs on ``git init``), no over-long names, no
    name Windows cannot hold (an exported project may be checked out there)."""
    for part in parts:
        if _is_dot_git(part):
            raise PathError(f"target {target!r} writes into a .git folder", *where)
        problem = windows_problem(part)
        if problem is not None:
            raise PathError(f"target {target!r}: {problem}", *where)
        if len(part.encode("utf-8")) > MAX_COMPONENT_BYTES:
            limit = MAX_COMPONENT_BYTES
            raise PathError(f"target {target!r} has a name longer than {limit} bytes", *where)
    if len("/".join(parts).encode("utf-8")) > MAX_PATH_BYTES:
        raise PathError(f"target {target!r} is longer than {MAX_PATH_BYTES} bytes", *where)


def windows_problem(part: str) -> str | None:
    """Why Windows cannot hold a file or folder named ``part`` (None: it can)."""
    stem = part.split(".", 1)[0].rstrip(" ").upper()
    if stem in WINDOWS_DEVICES or re.fullmatch(r"(COM|LPT)[1-9\u00b9\u00b2\u00b3]", stem):
        return f"{part!r} is a device name on Windows (CON, PRN, AUX, NUL, COM1, LPT1, ...)"
    if part.endswith((".", " ")):
        return f"{part!r} ends with a dot or a space, which Windows drops"
    bad = WINDOWS_FORBIDDEN.search(part)
    if bad is not None:
        return f"{part!r} holds {bad.group()!r}, which Windows does not allow in names"
    return None


def _is_dot_git(part: str) -> bool:
    """``.git`` as git itself sees it: any case, ignorable code points, trailing dots and
    spaces (Windows drops them), and its NTFS short name ``git~1``."""
    return part.translate(IGNORED_IN_NAMES).rstrip(". ").casefold() in (".git", "git~1")


def confined(
    root: Path,
    relative: str,
    source: Source | None = None,
    folders: Folders | None = None,
) -> Path:
    """``root / relative``, refusing a location that a symlink moves outside ``root``.

    ``folders`` remembers what one batch of writes learnt about the folders (many
    files share a folder; resolving each anew costs a system call per path component).
    """
    return Path(confined_str(root, relative, source, folders))


def confined_str(
    root: Path | str,
    relative: str,
    source: Source | None = None,
    folders: Folders | None = None,
) -> str:
    """``confined`` as a plain string: for 10,000 outputs, building ``Path`` objects
    cost more than the checks themselves."""
    view = Folders() if folders is None else folders
    top = os.fspath(root)
    destination = os.path.join(top, relative)  # noqa: PTH118
    parent = os.path.dirname(destination)  # noqa: PTH120
    real_root = view.real(top)
    real_parent = view.real(parent)
    inside = real_parent == real_root or real_parent.startswith(real_root.rstrip(os.sep) + os.sep)
    # Below a folder that does not exist, nothing exists: no link to look for.
    if not inside or (not view.absent(parent) and os.path.islink(destination)):  # noqa: PTH114
        where = (source.file, source.line) if source else (None, None)
        raise PathError(f"{destination} is reached through a symlink leaving {root}", *where)
    return destination


class Folders:
    """Folders as one batch of writes finds them, each looked up (``lstat``) once.

    A folder's real path is its parent's real path and its name, unless it is a
    symlink (then ``os.path.realpath`` resolves it); below a folder that does not
    exist nothing exists, so nothing below it is looked up. The same answers as
    ``os.path.realpath`` for every folder, with one ``lstat`` per folder instead of one
    per path component of every file.
    """

    def __init__(self) -> None:
        self._real: dict[str, str] = {}
        self._missing: set[str] = set()

    def real(self, folder: str) -> str:
        found = self._real.get(folder)
        if found is None:
            found = self._real[folder] = self._resolve(folder)
        return found

    def absent(self, folder: str) -> bool:
        """``folder`` did not exist when it was first resolved."""
        self.real(folder)
        return folder in self._missing

    def made(self, folder: str) -> None:
        """``folder`` (and every folder above it) exists now: this batch created it."""
        while folder in self._missing:
            self._missing.discard(folder)
            folder = os.path.dirname(folder)  # noqa: PTH120

    def _resolve(self, folder: str) -> str:
        parent, name = os.path.split(folder)
        if not name or not parent:  # the file system's root, or a bare relative name
            return os.path.realpath(folder)
        real_parent = self.real(parent)
        if parent in self._missing:
            self._missing.add(folder)
            return os.path.join(real_parent, name)  # noqa: PTH118
        try:
            mode = os.lstat(folder).st_mode
        except (FileNotFoundError, NotADirectoryError):
            self._missing.add(folder)
            return os.path.join(real_parent, name)  # noqa: PTH118
        except OSError:  # unreadable: as os.path.realpath, taken as no link
            return os.path.join(real_parent, name)  # noqa: PTH118
        if stat.S_ISLNK(mode):
            return os.path.realpath(folder)
        return os.path.join(real_parent, name)  # noqa: PTH118


def inside_project(root: Path, path: Path) -> Path:
    """``path`` (below the project ``root``), refusing one that symlinks place outside it.

    ``sdlc/``, ``sdlc/<set>/`` and ``.wf/`` are written by wf; a link from any of them
    (or from a folder or file inside them) to elsewhere would move those writes there.
    """
    real = path.resolve()
    if not real.is_relative_to(root.resolve()):
        raise PathError(
            f"{path} leads outside the project (to {real}) through a symlink; "
            "wf writes only inside the project: remove the link"
        )
    return path
