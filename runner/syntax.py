"""Built-in checks that run on every artifact without being declared.

TOML, YAML and JSON are parsed here; Python is compiled by a generated check that runs
with the project's own interpreter (>= 3.12 syntax may not parse on the runner's).
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from runner.model import Block, CheckSpec, Source
from runner.plan import PlannedFile, StepPlan

PYTHON_SYNTAX = "built-in: python syntax"
COMPILE_SCRIPT = (
    "import sys\n"
    "bad = 0\n"
    "for name in sys.argv[1:]:\n"
    "    try:\n"
    "        compile(open(name, 'rb').read(), name, 'exec', dont_inherit=True)\n"
    "    except SyntaxError as exc:\n"
    "        bad += 1\n"
    "        print(f'{name}:{exc.lineno}: {exc.msg}')\n"
    "sys.exit(1 if bad else 0)\n"
)


@dataclass(frozen=True)
class SyntaxProblem:
    file: PlannedFile
    line: int  # line in the output file (1-based; 0 when unknown)
    message: str
    where: Source | None = None  # the Markdown line of ``line``, when it maps onto a block

    def source(self) -> Source:
        """The Markdown line that owns the problem (the block's fence when unknown)."""
        return self.where or self.file.sources[0]


def _problem(step_plan: StepPlan, planned: PlannedFile, line: int, message: str) -> SyntaxProblem:
    return SyntaxProblem(planned, line, message, _markdown_line(step_plan, planned, line))


def _markdown_line(step_plan: StepPlan, planned: PlannedFile, line: int) -> Source:
    """The Markdown line holding ``line`` of ``planned``.

    Only when the step made the file from one block whose text it contains verbatim
    (written whole, or appended at the end); otherwise (several blocks, a patch, a
    rendered template, an unknown line) the block's fence line.
    """
    fence = planned.sources[0]
    block = next((b for b in step_plan.step.blocks if b.source == fence), None)
    if len(planned.sources) != 1 or line <= 0 or block is None or not block.content:
        return fence
    try:
        text = planned.content.decode("utf-8")
    except UnicodeDecodeError:
        return fence
    if block.mode == "write" and text == block.content:
        offset = 0
    elif block.mode == "append" and text.endswith(block.content):
        offset = text[: len(text) - len(block.content)].count("\n")
    else:
        return fence
    inner = line - offset
    if not 1 <= inner <= len(block.content.splitlines()):
        return fence
    return Source(fence.file, fence.line + _stripped_lines(block) + inner)


def _stripped_lines(block: Block) -> int:
    """1 when the block's first line was a ``# path: ...`` comment left out of the file."""
    from runner.errors import WfError
    from runner.parse import FIRST_LINE_TARGET, read_text

    try:
        lines = read_text(block.source.file).split("\n")
    except WfError:  # the document cannot be read again: the line stays approximate
        return 0
    after_fence = lines[block.source.line] if block.source.line < len(lines) else ""
    first = block.content.split("\n", 1)[0]
    if after_fence.strip() != first.strip() and FIRST_LINE_TARGET.match(after_fence):
        return 1
    return 0


def data_syntax_problems(step_plan: StepPlan) -> list[SyntaxProblem]:
    """TOML, YAML and JSON files of one step that do not parse."""
    problems = []
    for planned in step_plan.files.values():
        found = _data_problem(planned)
        if found is not None:
            problems.append(_problem(step_plan, planned, *found))
    return problems


def python_syntax_check(step_plan: StepPlan) -> CheckSpec | None:
    """A check compiling every Python file the step touched, or None when it has none."""
    names = sorted(p for p in step_plan.files if p.endswith(".py"))
    if not names:
        return None
    quoted = " ".join(_shell_quote(n) for n in names)
    step = step_plan.step
    return CheckSpec(
        name=PYTHON_SYNTAX,
        command=f"python -c {_shell_quote(COMPILE_SCRIPT)} {quoted}\n",
        step=step.number,
        source=Source(step.path, 1),
        timeout=120.0,
    )


def _data_problem(planned: PlannedFile) -> tuple[int, str] | None:
    suffix = Path(planned.path).suffix.lower()
    parser = {".toml": _toml, ".json": _json, ".yaml": _yaml, ".yml": _yaml}.get(suffix)
    if parser is None:
        return None
    try:
        text = planned.content.decode("utf-8")
    except UnicodeDecodeError:
        return 0, "not valid UTF-8"
    return parser(text)


def _toml(text: str) -> tuple[int, str] | None:
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"at line (\d+)", str(exc))
        return (int(found[1]) if found else 0), f"invalid TOML: {exc}"
    return None


def _json(text: str) -> tuple[int, str] | None:
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return exc.lineno, f"invalid JSON: {exc.msg}"
    return None


def _yaml(text: str) -> tuple[int, str] | None:
    import yaml

    try:
        list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return (mark.line + 1 if mark else 0), f"invalid YAML: {getattr(exc, 'problem', exc)}"
    return None


def _shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


def python_problems(output: str, step_plan: StepPlan) -> list[SyntaxProblem]:
    """The ``path:line: message`` lines printed by the python syntax check, located."""
    problems = []
    for line in output.splitlines():
        match = re.match(r"^(?P<path>[^:\s]+):(?P<line>\d+): (?P<message>.+)$", line)
        if match and match["path"] in step_plan.files:
            planned = step_plan.files[match["path"]]
            message = f"invalid Python: {match['message']} (line {match['line']})"
            problems.append(_problem(step_plan, planned, int(match["line"]), message))
    return problems
