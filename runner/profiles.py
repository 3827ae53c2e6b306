"""Profiles: the combinations of steps a set supports, each verified on its own.

``workflows/<set>/wf.yaml`` names them::

    profiles:
      full: {}
      minimal: {without: ["05", "06", "08", "10"]}
      lean: {without: optional}   # every step with optional: true

A profile leaves out optional steps only, and never a step that a step it keeps
``requires``. ``sdlc/`` is always the full build; a profile only changes which steps
are assembled for its checks and exports. A set that declares no profiles has one,
``full``: every step.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.discover import StepFile
from runner.errors import DocumentError, SelectionError
from runner.model import Step

FULL = "full"
OPTIONAL = "optional"  # ``without: optional``: every optional step
PROFILE_KEYS = ("without",)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class Profile:
    name: str
    without: tuple[str, ...] = ()  # step numbers as written, e.g. "05"
    optional: bool = False  # ``without: optional``: also every optional step
    config: Path | None = None  # wf.yaml, for errors
    line: int = 1  # the profile's line in wf.yaml


def parse_profiles(value: Any, config: Path, text: str) -> dict[str, Profile]:
    """``profiles:`` of wf.yaml (``None``: the set declares none)."""
    if value is None:
        return {}
    lines = key_lines(text, "profiles")
    if not isinstance(value, dict) or not value:
        message = "'profiles' maps names to {without: [step, ...]}"
        raise DocumentError(message, config, lines.get("", 1))
    profiles = {}
    for name, body in value.items():
        line = lines.get(str(name), 1)
        if not isinstance(name, str) or not _NAME.match(name):
            message = f"profile name {name!r} must be a word (letters, digits, '_', '-', '.')"
            raise DocumentError(message, config, line)
        steps = _without(name, body, config, line)
        every = steps == OPTIONAL
        numbers = () if isinstance(steps, str) else steps
        profiles[name] = Profile(name, numbers, every, config, line)
    return profiles


def _without(name: str, body: Any, config: Path, line: int) -> tuple[str, ...] | str:
    body = body or {}
    if not isinstance(body, dict):
        raise DocumentError(
            f"profile {name!r} must be a mapping ({{without: [...]}})", config, line
        )
    unknown = sorted(str(k) for k in body if k not in PROFILE_KEYS)
    if unknown:
        message = f"profile {name!r}: unknown key {unknown[0]!r} (a profile has 'without')"
        raise DocumentError(message, config, line)
    steps = body.get("without") or []
    if steps == OPTIONAL:
        return OPTIONAL
    if not isinstance(steps, list):
        message = f"profile {name!r}: 'without' lists step numbers, or is 'optional'"
        raise DocumentError(message, config, line)
    numbers = []
    for entry in steps:
        text = str(entry).strip()
        if isinstance(entry, bool) or not text.isdigit():
            message = f"profile {name!r}: 'without' lists step numbers, not {entry!r}"
            raise DocumentError(message, config, line)
        numbers.append(text)
    return tuple(numbers)


def key_lines(text: str, top: str) -> dict[str, int]:
    """wf.yaml line of the key ``top`` (key "") and of each key of the mapping below it."""
    import yaml

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    if not isinstance(node, yaml.MappingNode):
        return {}
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode) and key.value == top:
            lines = {"": key.start_mark.line + 1}
            if isinstance(value, yaml.MappingNode):
                for name, _ in value.value:
                    if isinstance(name, yaml.ScalarNode):
                        lines[name.value] = name.start_mark.line + 1
            return lines
    return {}


def names(declared: dict[str, Profile]) -> list[str]:
    """The set's profile names, in wf.yaml order (``full`` when it declares none)."""
    return list(declared) or [FULL]


def choose(
    declared: dict[str, Profile], set_name: str, wanted: Sequence[str], every: bool
) -> list[Profile]:
    """The profiles ``--profile a,b`` / ``--all-profiles`` name."""
    available = {p.name: p for p in declared.values()} or {FULL: Profile(FULL)}
    if every:
        return list(available.values())
    chosen: list[Profile] = []
    for option in wanted:
        for name in (n.strip() for n in option.split(",")):
            if not name:
                continue
            if name not in available:
                listed = ", ".join(available)
                message = f"set {set_name!r} has no profile {name!r} (profiles: {listed})"
                raise SelectionError(message)
            if available[name] not in chosen:
                chosen.append(available[name])
    if not chosen:
        raise SelectionError("--profile names no profile")
    return chosen


def profile_steps(
    profile: Profile, step_files: list[StepFile], parsed: Callable[[StepFile], Step]
) -> list[StepFile]:
    """The steps ``profile`` assembles; leaving out a step that is not optional, or that
    a kept step requires, is an error at the profile's line in wf.yaml."""
    by_number = {int(s.number): s for s in step_files}
    left_out: set[int] = set()
    where = (profile.config, profile.line)
    for number in profile.without:
        if int(number) not in by_number:
            known = ", ".join(s.number for s in step_files)
            message = f"profile {profile.name!r} leaves out step {number}, which does not exist"
            raise DocumentError(f"{message} (steps: {known})", *where)
        step = parsed(by_number[int(number)])
        if not step.optional:
            message = (
                f"profile {profile.name!r} leaves out step {step.number}, which is not "
                "optional (only steps with 'optional: true' can be left out)"
            )
            raise DocumentError(message, *where)
        left_out.add(int(number))
    if profile.optional:
        left_out |= {int(s.number) for s in step_files if parsed(s).optional}
    kept = [s for s in step_files if int(s.number) not in left_out]
    for step_file in kept:
        for needed in parsed(step_file).requires:
            if int(needed) in left_out:
                message = (
                    f"profile {profile.name!r} leaves out step {by_number[int(needed)].number}, "
                    f"which step {step_file.number} requires"
                )
                raise DocumentError(message, *where)
    return kept
