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

from runner.model import CheckSpec, Source
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

    def source(self) -> Source:
        """The Markdown line that owns the problem (the block's fence when unknown)."""
        first = self.file.sources[0]
        if len(self.file.sources) == 1 and self.line:
            return Source(first.file, first.line + self.line)
        return first


def data_syntax_problems(step_plan: StepPlan) -> list[SyntaxProblem]:
    """TOML, YAML and JSON files of one step that do not parse."""
    problems = []
    for planned in step_plan.files.values():
        problem = _data_problem(planned)
        if problem is not None:
            problems.append(problem)
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


def _data_problem(planned: PlannedFile) -> SyntaxProblem | None:
    suffix = Path(planned.path).suffix.lower()
    parser = {".toml": _toml, ".json": _json, ".yaml": _yaml, ".yml": _yaml}.get(suffix)
    if parser is None:
        return None
    try:
        text = planned.content.decode("utf-8")
    except UnicodeDecodeError:
        return SyntaxProblem(planned, 0, "not valid UTF-8")
    result = parser(text)
    return None if result is None else SyntaxProblem(planned, *result)


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
            problems.append(SyntaxProblem(planned, int(match["line"]), message))
    return problems
