"""Validate steps: turn a plan into check jobs (declared + built-in), run them through
the check engine, and locate every failure on its Markdown line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from runner.build import plan_set
from runner.model import CheckSpec
from runner.plan import Plan
from runner.project import WorkflowSet

if TYPE_CHECKING:
    from runner.checks import CheckJob, CheckOptions, CheckResult
    from runner.syntax import SyntaxProblem

Progress = Callable[[str, "CheckResult | None"], None]


@dataclass
class Validation:
    """The checks of some steps of one set, with built-in syntax problems folded in."""

    wset: WorkflowSet
    results: list[CheckResult] = field(default_factory=list)


def validate(
    wset: WorkflowSet,
    selectors: tuple[str, ...],
    options: CheckOptions,
    since: str | None = None,
    progress: Progress | None = None,
) -> Validation:
    """Run the declared and built-in checks of the selected steps.

    Each step's checks run in the project assembled from every step up to it. With
    ``since``, only steps whose documents changed since that git ref and the steps
    after them (their checks run on projects that contain the changed files) run.
    """
    from runner.checks import run_checks

    plan = plan_set(wset)
    numbers = {s.number for s in wset.select(selectors)}
    if since is not None:
        numbers &= affected_steps(wset, plan, since)
    jobs, failed = _check_jobs(plan, numbers)
    results = run_checks(jobs, options, progress) if jobs else []
    return Validation(wset, failed + _locate_python_syntax(results, plan))


def affected_steps(wset: WorkflowSet, plan: Plan, since: str) -> set[str]:
    """Steps whose documents changed since ``since``, and every step after the first.

    A later step's checks run on the project assembled from all earlier steps, so any
    of them may use a changed file; the result cache makes the unaffected ones cheap.
    """
    from runner.gitops import changed_since

    changed = changed_since(wset.root, since, f"workflows/{wset.name}")
    numbers = [sp.step.number for sp in plan.steps]
    if (wset.folder / "wf.yaml").resolve() in changed:
        return set(numbers)
    first = next((i for i, sp in enumerate(plan.steps) if sp.step.path.resolve() in changed), None)
    return set() if first is None else set(numbers[first:])


def _check_jobs(plan: Plan, numbers: set[str]) -> tuple[list[CheckJob], list[CheckResult]]:
    from runner.checks import CheckJob, CheckResult
    from runner.syntax import data_syntax_problems, python_syntax_check

    jobs: list[CheckJob] = []
    failed: list[CheckResult] = []
    for sp in plan.steps:
        if sp.step.number not in numbers:
            continue
        for problem in data_syntax_problems(sp, plan):
            spec = _syntax_spec(sp.step.number, problem)
            failed.append(CheckResult(spec, "failed", 0.0, "", problem.message))
        files = {path: f.content for path, f in plan.assembled(sp.step.number).items()}
        compile_check = python_syntax_check(sp, plan)
        specs = ([compile_check] if compile_check else []) + list(sp.step.checks)
        jobs.extend(CheckJob(spec, files) for spec in specs)
    return jobs, failed


def _locate_python_syntax(results: list[CheckResult], plan: Plan) -> list[CheckResult]:
    """Split a failed built-in python syntax check into one result per broken block."""
    from runner.checks import CheckResult
    from runner.syntax import PYTHON_SYNTAX, python_problems

    step_plans = {sp.step.number: sp for sp in plan.steps}
    located: list[CheckResult] = []
    for result in results:
        problems = []
        if result.spec.name == PYTHON_SYNTAX and result.status == "failed":
            problems = python_problems(result.output, step_plans[result.spec.step])
        if not problems:
            located.append(result)
        for problem in problems:
            spec = _syntax_spec(result.spec.step, problem)
            located.append(CheckResult(spec, "failed", result.duration, "", problem.message))
    return located


def _syntax_spec(number: str, problem: SyntaxProblem) -> CheckSpec:
    return CheckSpec(
        name=f"built-in: syntax of {problem.file.path}",
        command="",
        step=number,
        source=problem.source(),
    )
