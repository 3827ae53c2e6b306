"""One base error that carries the ``file:line`` it is about, and a subclass per kind.

Every error a user can cause ends as one line ``path/to/doc.md:123: message`` and exit
code 2 (``WfError``) or 1 (``DriftError`` family is reported, not raised).
"""

from __future__ import annotations

import re
from pathlib import Path

# C0 and C1 controls, DEL, and the bidirectional overrides that reorder what a terminal shows
_SHORT = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str, newlines: bool = False) -> str:
    """``text`` safe to show on a terminal: control characters as ``\\xNN``/``\\uNNNN``
    (a file name can hold escape sequences or a newline); ``newlines`` keeps line breaks."""

    def escape(match: re.Match[str]) -> str:
        char = match.group()
        if newlines and char == "\n":
            return char
        if char in _SHORT:
            return _SHORT[char]
        code = ord(char)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _UNPRINTABLE.sub(escape, text)


class WfError(Exception):
    """A problem the user can fix, located at ``file:line`` when known.

    Shown as one line (control characters escaped), except for kinds whose message is a
    list by design (``multiline``).
    """

    exit_code = 2
    multiline = False

    def __init__(
        self, message: str, file: Path | str | None = None, line: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = Path(file) if file is not None else None
        self.line = line

    def location(self) -> str:
        if self.file is None:
            return ""
        where = _display(self.file)
        return f"{where}:{self.line}" if self.line else where

    def __str__(self) -> str:
        where = printable(self.location())
        message = printable(self.message, newlines=self.multiline)
        return f"{where}: {message}" if where else message


class DocumentError(WfError):
    """The Markdown document is malformed: front matter, fence attributes, targets."""


class SelectionError(WfError):
    """A step selector names no step, or a required step is missing."""


class PlanError(WfError):
    """The documents cannot be turned into files: duplicate writes, patches, templates."""


class DeriveError(PlanError):
    """A derivation's command failed: the error line, then the tail of its output."""

    multiline = True  # the output's lines, each after "    | "


class PathError(WfError):
    """A target path escapes its output folder (absolute, ``..``, symlink)."""


class ConflictError(WfError):
    """A file on disk was edited by hand or differs, and ``--force`` was not given."""

    exit_code = 1
    multiline = True  # one line per refused file


class LockError(WfError):
    """Another run holds the lock on this output tree."""


class CheckSetupError(WfError):
    """Checks cannot run: no suitable interpreter, venv creation failed, ..."""


def _display(path: Path) -> str:
    """Show a path relative to the working directory when it lies below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
