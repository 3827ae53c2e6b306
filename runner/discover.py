"""Find workflow sets and their numbered step documents; resolve step selectors."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from runner.errors import DocumentError, SelectionError, WfError

STEP_FILE = re.compile(r"^(?P<number>\d{2,4})_(?P<slug>[a-z0-9][a-z0-9_-]*)\.md$")
STEP_LIKE = re.compile(r"^\d.*\.md$", re.IGNORECASE)  # meant as a step, named or not
NAMING_RULE = "a step is named NN_slug.md: 2-4 digits, '_', then lowercase a-z, 0-9, '_' or '-'"
SET_CONFIG = "wf.yaml"


@dataclass(frozen=True)
class StepFile:
    """A step document found on disk, before parsing."""

    number: str
    slug: str
    path: Path

    @property
    def id(self) -> str:
        return self.slug.replace("_", "-")


def find_root(start: Path) -> Path:
    """The nearest folder at or above ``start`` that holds ``workflows/``."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / "workflows").is_dir():
            return folder
    raise WfError(f"no workflows/ folder at or above {start}; pass --root DIR")


def find_sets(root: Path) -> list[str]:
    """Names of the workflow sets: folders of ``workflows/`` holding step documents."""
    base = root / "workflows"
    return sorted(
        child.name
        for child in base.iterdir()
        if child.is_dir() and any(STEP_LIKE.match(p.name) for p in child.iterdir())
    )


def find_steps(set_dir: Path) -> list[StepFile]:
    """Step documents of one set, ordered by number; duplicate numbers are an error."""
    steps: dict[int, StepFile] = {}
    for path in sorted(set_dir.iterdir()):
        if not STEP_LIKE.match(path.name) or not path.is_file():
            continue
        match = STEP_FILE.match(path.name)
        if match is None:
            raise DocumentError(_misnamed(path.name), path, 1)
        number = match["number"]
        if int(number) in steps:  # 01 and 001 are the same step
            raise SelectionError(
                f"step number {number} is used twice (also {steps[int(number)].path.name})",
                path,
                1,
            )
        steps[int(number)] = StepFile(number, match["slug"], path)
    return [steps[n] for n in sorted(steps)]


def _misnamed(name: str) -> str:
    """Why a file that starts with a digit is not a step, and the name it probably wants."""
    message = f"{name} looks like a step but is not named like one; {NAMING_RULE}"
    suggestion = _suggest(name)
    return f"{message} (rename it to {suggestion}?)" if suggestion else message


def _suggest(name: str) -> str | None:
    match = re.match(r"^(\d+)[\s._-]*(.*)\.md$", name, re.IGNORECASE)
    if match is None:
        return None
    ascii_slug = unicodedata.normalize("NFKD", match[2]).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9_-]+", "_", ascii_slug.lower()).strip("_-")
    candidate = f"{match[1].zfill(2)}_{slug}.md"
    return candidate if STEP_FILE.match(candidate) and candidate != name else None


def select(steps: list[StepFile], selectors: tuple[str, ...] | list[str]) -> list[StepFile]:
    """Steps named by selectors, in document order.

    A selector is a number (``4``, ``04``), an id (``auth-security``), a range
    (``01-04``) or a comma-separated list of those. No selectors means every step.
    """
    if not selectors:
        return list(steps)
    chosen: set[str] = set()
    for selector in selectors:
        parts = [p.strip() for p in selector.split(",") if p.strip()]
        if not parts:
            raise SelectionError(f"{selector!r} names no step")
        for part in parts:
            chosen.update(s.number for s in _match(steps, part))
    return [s for s in steps if s.number in chosen]


def _match(steps: list[StepFile], part: str) -> list[StepFile]:
    by_number = {int(s.number): s for s in steps}
    if part.isdigit():
        if int(part) in by_number:
            return [by_number[int(part)]]
    elif re.fullmatch(r"\d+-\d+", part):
        low, high = (int(x) for x in part.split("-"))
        if low > high:
            raise SelectionError(f"empty step range {part!r}: {low} > {high}")
        missing = [str(n).zfill(2) for n in (low, high) if n not in by_number]
        if not missing:  # both ends must exist, so a typo cannot silently select less
            return [s for n, s in by_number.items() if low <= n <= high]
        raise SelectionError(f"step range {part!r}: no step {missing[0]}; steps: {_known(steps)}")
    else:
        ids = {s.id: s for s in steps} | {s.slug: s for s in steps}
        if part in ids:
            return [ids[part]]
    raise SelectionError(f"no step matches {part!r}; steps: {_known(steps)}")


def _known(steps: list[StepFile]) -> str:
    return ", ".join(f"{s.number} ({s.id})" for s in steps) or "none"
