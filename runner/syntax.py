"""Built-in checks that run on every artifact without being declared.

TOML, YAML and JSON are parsed here (YAML only composed: its syntax, not its tags, so
``!Ref`` and ``!!python/name:`` pass); Python is compiled by a generated check that runs
with the project's own interpreter (>= 3.12 syntax may not parse on the runner's), or
``python3`` when the project has no venv and PATH has no ``python``.

Which step a syntax problem belongs to: the step that made the file invalid. Step N
reports a file it touched unless step N only appended to or patched it (did not write it
whole) and the file was already invalid before step N: that problem belongs to the
earlier step that broke it, and saying it again for every later step that touches the
file would bury the one place to fix. For data files "invalid before" is decided here.
For Python it is decided by the same interpreter that compiles the file: the check gets,
per such file, the line edits that turn its current text back into the text before step
N (a few lines: what step N changed), rebuilds that text and compiles it too; an error
is printed only when the earlier text compiled. When the edits are too large to put on
a command line the file is reported regardless (never a silent pass). Without a
``Plan`` (the earlier tree unknown) every problem is reported.
"""

from __future__ import annotations

import difflib
import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from runner.model import CheckSpec, Source
from runner.plan import Plan, PlannedFile, StepPlan

PYTHON_SYNTAX = "built-in: python syntax"
PYTHON = '"$(command -v python || command -v python3)"'
EDITS_BUDGET = 64_000  # characters of line edits on the command line (argv limit: 128 KiB)
COMPILE_SCRIPT = """\
import json, sys
edits = json.loads(sys.argv[1])
def error(data, name):
    try:
        compile(data, name, 'exec', dont_inherit=True)
    except (SyntaxError, ValueError) as exc:  # ValueError: NUL bytes before 3.12
        return exc
def before(data, ops):
    lines = data.decode('utf-8', 'surrogateescape').splitlines(keepends=True)
    for start, end, old in reversed(ops):
        lines[start:end] = old
    return ''.join(lines).encode('utf-8', 'surrogateescape')
bad = 0
for name in sys.argv[2:]:
    data = open(name, 'rb').read()
    found = error(data, name)
    if found is None or (name in edits and error(before(data, edits[name]), name)):
        continue
    bad += 1
    line = getattr(found, 'lineno', None) or 0
    print(f"{name}:{line}: {getattr(found, 'msg', found)}")
sys.exit(1 if bad else 0)
"""


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
    return Source(fence.file, fence.line + block.stripped + inner)


def tree_before(plan: Plan, number: str) -> dict[str, PlannedFile]:
    """The project as the steps before step ``number`` left it."""
    tree: dict[str, PlannedFile] = {}
    for sp in plan.steps:
        if sp.step.number == number:
            break
        tree.update(sp.files)
    return tree


def _earlier(planned: PlannedFile, before: Mapping[str, PlannedFile] | None) -> PlannedFile | None:
    """The file as it was before this step, when this step only appended to or patched it."""
    if before is None or not planned.derived:
        return None
    return before.get(planned.path)


def data_syntax_problems(step_plan: StepPlan, plan: Plan | None = None) -> list[SyntaxProblem]:
    """TOML, YAML and JSON files of one step that do not parse (and did before it)."""
    before = tree_before(plan, step_plan.step.number) if plan is not None else None
    problems = []
    for planned in step_plan.files.values():
        found = _data_problem(planned)
        earlier = _earlier(planned, before)
        if found is not None and (earlier is None or _data_problem(earlier) is None):
            problems.append(_problem(step_plan, planned, *found))
    return problems


def python_syntax_check(step_plan: StepPlan, plan: Plan | None = None) -> CheckSpec | None:
    """A check compiling every Python file the step touched, or None when it has none."""
    names = sorted(p for p in step_plan.files if p.endswith(".py"))
    if not names:
        return None
    before = tree_before(plan, step_plan.step.number) if plan is not None else None
    edits = _python_edits([step_plan.files[n] for n in names], before)
    arguments = " ".join(_shell_quote(a) for a in (_json_argument(edits), *names))
    step = step_plan.step
    return CheckSpec(
        name=PYTHON_SYNTAX,
        command=f"{PYTHON} -c {_shell_quote(COMPILE_SCRIPT)} {arguments}\n",
        step=step.number,
        source=Source(step.path, 1),
        timeout=120.0,
    )


def _python_edits(
    files: list[PlannedFile], before: Mapping[str, PlannedFile] | None
) -> dict[str, list[tuple[int, int, list[str]]]]:
    """Per appended/patched file: the line edits from its text now to its text before."""
    edits = {}
    budget = EDITS_BUDGET
    for planned in files:
        earlier = _earlier(planned, before)
        if earlier is None:
            continue
        ops = _line_edits(_text(planned), _text(earlier))
        size = len(_json_argument({planned.path: ops}))
        if size > budget:
            continue  # this file is reported whatever its earlier text was
        budget -= size
        edits[planned.path] = ops
    return edits


def _line_edits(now: str, then: str) -> list[tuple[int, int, list[str]]]:
    """``[(start, end, old lines)]``: replacing ``now``'s lines start:end gives ``then``."""
    new_lines = now.splitlines(keepends=True)
    old_lines = then.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(None, new_lines, old_lines, autojunk=False)
    return [
        (i1, i2, old_lines[j1:j2])
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]


def _text(planned: PlannedFile) -> str:
    return planned.content.decode("utf-8", "surrogateescape")


def _json_argument(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


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
        list(yaml.compose_all(text, Loader=yaml.SafeLoader))  # syntax only: any tag passes
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
