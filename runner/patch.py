"""Apply a single-file unified diff to text, exactly or at a shifted offset (no fuzz)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


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


def patch_target(diff: str) -> str | None:
    """The path named by the diff's ``+++`` header, without an ``a/``/``b/`` prefix."""
    for line in diff.splitlines():
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
    current: Hunk | None = None
    for raw in diff.splitlines(keepends=True):
        header = HUNK_HEADER.match(raw)
        if header:
            start = int(header[1]) if header[2] != "0" else int(header[1]) + 1
            new_start = int(header[3]) if header[4] != "0" else int(header[3]) + 1
            current = Hunk(
                old_start=max(start, 1), number=len(hunks) + 1, new_start=max(new_start, 1)
            )
            hunks.append(current)
        elif current is None or raw.startswith(("--- ", "+++ ", "diff ", "index ")):
            continue
        elif raw.startswith("\\"):
            _drop_final_newline(current)
        else:
            _add_line(current, raw)
    return hunks


def _add_line(hunk: Hunk, raw: str) -> None:
    kind = raw[:1] if raw[:1] in (" ", "+", "-") else None
    if kind is None and raw.strip():
        raise PatchFailed(f"hunk {hunk.number}: line does not start with ' ', '+' or '-'")
    body = raw[1:] if kind else "\n"  # a bare empty line is blank context
    if not body.endswith("\n"):
        body += "\n"
    kind = kind or " "
    if kind in (" ", "-"):
        hunk.old.append(body)
    if kind in (" ", "+"):
        hunk.new.append(body)
    hunk.last = kind


def _drop_final_newline(hunk: Hunk) -> None:
    """``\\ No newline at end of file`` applies to the line just before it."""
    sides = {" ": (hunk.old, hunk.new), "-": (hunk.old,), "+": (hunk.new,)}[hunk.last]
    for side in sides:
        if side and side[-1].endswith("\n"):
            side[-1] = side[-1][:-1]


def _locate(lines: list[str], hunk: Hunk, expected: int) -> int | None:
    """Index where the hunk's old lines start, searching outwards from ``expected``."""
    size = len(hunk.old)
    limit = len(lines) - size
    if size == 0:
        return min(max(expected, 0), len(lines))
    for distance in range(len(lines) + 1):
        for at in (expected - distance, expected + distance):
            if 0 <= at <= limit and _matches(lines, at, hunk.old):
                return at
    return None


def _matches(lines: list[str], at: int, old: list[str]) -> bool:
    return all(_same(lines[at + i], want) for i, want in enumerate(old))


def _same(have: str, want: str) -> bool:
    return have == want or have.rstrip("\n") == want.rstrip("\n")
