"""Path confinement: targets are relative, stay inside their folder, never via symlinks."""

from __future__ import annotations

import os
import re
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


def clean_target(target: str, source: Source | None) -> str:
    """Normalise a block's target to a relative POSIX path, or raise ``PathError``."""
    if SIMPLE_TARGET.fullmatch(target) and len(target) <= MAX_PATH_BYTES:
        parts = target.split("/")
        if all(len(p) <= MAX_COMPONENT_BYTES and windows_problem(p) is None for p in parts):
            return target  # what the full rules return for it (tests/core/test_safety.py)
    return normalised_target(target, source)


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
    resolved: dict[str, str] | None = None,
) -> Path:
    """``root / relative``, refusing a location that a symlink moves outside ``root``.

    ``resolved`` caches real paths of folders for one batch of writes (many files
    share a folder; resolving each costs a system call per path component). Plain
    strings and ``os.path``: for 10,000 outputs, building ``Path`` objects here cost
    more than the checks themselves.
    """
    cache = {} if resolved is None else resolved
    top = os.fspath(root)
    destination = os.path.join(top, relative)  # noqa: PTH118
    real_root = _real(top, cache)
    real_parent = _real(os.path.dirname(destination), cache)  # noqa: PTH120
    inside = real_parent == real_root or real_parent.startswith(real_root.rstrip(os.sep) + os.sep)
    if not inside or os.path.islink(destination):  # noqa: PTH114
        where = (source.file, source.line) if source else (None, None)
        raise PathError(f"{destination} is reached through a symlink leaving {root}", *where)
    return Path(destination)


def _real(folder: str, cache: dict[str, str]) -> str:
    if folder not in cache:
        cache[folder] = os.path.realpath(folder)
    return cache[folder]


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
