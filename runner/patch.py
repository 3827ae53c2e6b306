"""Apply a single-file unified diff to text, exactly or at a shifted offset (no fuzz).

A hunk's body is read by the counts of its ``@@ -a,b +c,d @@`` header: its lines are
body (so ``--- drop me`` removes the line ``-- drop me``) until ``b`` old and ``d`` new
lines have been read. Only between hunks can a line be a header (``---``, ``+++``,
``diff``, ``index``, git's extended headers); blank lines there are ignored (the blank
line often left before a closing fence), and any other text is an error.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field

HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
FILE_HEADERS = ("--- ", "+++ ", "diff ")
OTHER_HEADERS = (
    "index ",
    "new file mode ",
    "deleted file mode ",
    "old mode ",
    "new mode ",
    "similarity index ",
    "dissimilarity index ",
    "rename from ",
    "rename to ",
    "copy from ",
    "copy to ",
)
SEVERAL_FILES = "patch names several files; use one block per file"


class PatchFailed(Exception):
    """The diff is malformed or a hunk's context is not in the file."""


@dataclass
class Hunk:
    old_start: int
    number: int
    old: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    last: str = " "  # kind of the line read last: " ", "-" or "+"
    new_start: int = 1
    old_left: int = 0  # body lines the header still promises, per side
    new_left: int = 0

    @property
    def open(self) -> bool:
        return self.old_left > 0 or self.new_left > 0


def patch_target(diff: str) -> str | None:
    """The path named by the diff's ``+++`` header, without an ``a/``/``b/`` prefix.

    Only lines before the first hunk are headers: a body line ``+++ x`` adds ``++ x``.
    """
    for line in diff.splitlines():
        if HUNK_HEADER.match(line):
            return None
        if line.startswith("+++ "):
            name = line[4:].split("\t")[0].strip()
            return name[2:] if name.startswith(("a/", "b/")) else name
    return None


def apply_patch(original: str, diff: str) -> str:
    """Return ``original`` with every hunk of ``diff`` applied, in order."""
    hunks = _parse(diff)
    if not hunks:
        raise PatchFailed("no hunks (@@ ... @@) in the patch")
    return _apply(original, hunks)


def already_applied(text: str, diff: str) -> bool:
    """True when ``text`` holds the patched result already: the diff applies in reverse.

    Used when a step is applied again to a project it was applied to before.
    """
    try:
        hunks = _parse(diff)
    except PatchFailed:
        return False
    if not any(h.new for h in hunks):
        return False  # a pure deletion without context would "reverse-apply" anywhere
    reverse = [Hunk(h.new_start, h.number, list(h.new), list(h.old)) for h in hunks]
    try:
        _apply(text, reverse)
    except PatchFailed:
        return False
    return True


def _apply(original: str, hunks: list[Hunk]) -> str:
    lines = original.splitlines(keepends=True)
    shift = 0
    for hunk in hunks:
        at = _locate(lines, hunk, hunk.old_start - 1 + shift)
        if at is None:
            raise PatchFailed(f"hunk {hunk.number} does not match the file")
        lines[at : at + len(hunk.old)] = hunk.new
        shift = at - (hunk.old_start - 1) + len(hunk.new) - len(hunk.old)
    return "".join(lines)


def _parse(diff: str) -> list[Hunk]:
    hunks: list[Hunk] = []
    targets = 0  # ``+++`` headers seen
    for number, raw in enumerate(diff.splitlines(keepends=True), start=1):
        current = hunks[-1] if hunks else None
        if current is not None and current.open:
            _body_line(current, raw)
        elif header := HUNK_HEADER.match(raw):
            hunks.append(_new_hunk(header, len(hunks) + 1))
        elif current is not None and raw.startswith("\\"):
            _drop_final_newline(current)
        elif raw.startswith(FILE_HEADERS):
            targets += raw.startswith("+++ ")
            if targets > 1 or current is not None:  # a header after a hunk: another file
                raise PatchFailed(SEVERAL_FILES)
        elif current is not None and raw.strip() and not raw.startswith(OTHER_HEADERS):
            raise PatchFailed(_surplus(current, number))
    if hunks and hunks[-1].open:
        raise PatchFailed(_short(hunks[-1]))
    return hunks


def _new_hunk(header: re.Match[str], number: int) -> Hunk:
    old_count = int(header[2]) if header[2] is not None else 1
    new_count = int(header[4]) if header[4] is not None else 1
    start = int(header[1]) if old_count else int(header[1]) + 1
    new_start = int(header[3]) if new_count else int(header[3]) + 1
    return Hunk(
        old_start=max(start, 1),
        number=number,
        new_start=max(new_start, 1),
        old_left=old_count,
        new_left=new_count,
    )


def _body_line(hunk: Hunk, raw: str) -> None:
    """One line inside a hunk whose header promises more lines."""
    if raw.startswith("\\"):
        _drop_final_newline(hunk)
        return
    if HUNK_HEADER.match(raw):
        raise PatchFailed(_short(hunk))
    kind = raw[:1] if raw[:1] in (" ", "+", "-") else None
    if kind is None and raw.strip():
        raise PatchFailed(f"hunk {hunk.number}: line does not start with ' ', '+' or '-'")
    kind = kind or " "  # a bare empty line is blank context (editors strip the space)
    body = raw[1:] if raw[:1] == kind else "\n"
    if not body.endswith("\n"):
        body += "\n"
    if kind in (" ", "-"):
        hunk.old.append(body)
        hunk.old_left -= 1
    if kind in (" ", "+"):
        hunk.new.append(body)
        hunk.new_left -= 1
    hunk.last = kind
    if hunk.old_left < 0 or hunk.new_left < 0:
        raise PatchFailed(f"hunk {hunk.number} has more lines than its @@ header counts")


def _short(hunk: Hunk) -> str:
    return (
        f"hunk {hunk.number} ends early: its @@ header counts {hunk.old_left} more old "
        f"and {hunk.new_left} more new line(s)"
    )


def _surplus(hunk: Hunk, number: int) -> str:
    return (
        f"line {number} of the patch follows hunk {hunk.number}, which its @@ header "
        f"says is complete ({len(hunk.old)} old, {len(hunk.new)} new lines)"
    )


def _drop_final_newline(hunk: Hunk) -> None:
    """``\\ No newline at end of file`` applies to the line just before it."""
    sides = {" ": (hunk.old, hunk.new), "-": (hunk.old,), "+": (hunk.new,)}[hunk.last]
    for side in sides:
        if side and side[-1].endswith("\n"):
            side[-1] = side[-1][:-1]


def _locate(lines: list[str], hunk: Hunk, expected: int) -> int | None:
    """Index where the hunk's old lines start: the match nearest ``expected`` (the
    earlier of two equally near). Lines are compared without their final newline.

    Each distinct line becomes one character, so the search is ``str.find`` over the
    file (linear), not a line-by-line comparison at every offset (quadratic: a near-miss
    hunk of 2,000 lines against a 50,000-line file took minutes).
    """
    size = len(hunk.old)
    if size == 0:
        return min(max(expected, 0), len(lines))
    codes: dict[str, str] = {}
    haystack = "".join(_code(codes, line) for line in lines)
    needle = "".join(_code(codes, line) for line in hunk.old)
    best = None
    at = haystack.find(needle)
    while at != -1:
        if best is None or abs(at - expected) < abs(best - expected):
            best = at
        if at >= expected:
            break  # every later match is farther away
        at = haystack.find(needle, at + 1)
    return best


def _code(codes: dict[str, str], line: str) -> str:
    key = line.rstrip("\n")
    if key not in codes:
        if len(codes) > sys.maxunicode:
            raise PatchFailed("the file has too many distinct lines to patch")
        codes[key] = chr(len(codes))
    return codes[key]
