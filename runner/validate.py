"""Validate steps: turn a plan into check jobs (declared + built-in), run them through
the check engine, and locate every failure on its Markdown line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar

from runner.build import derived_plan, plan_set
from runner.derive import CURRENT
from runner.model import CheckSpec
from runner.plan import Plan
from runner.profiles import Profile
from runner.project import WorkflowSet

if TYPE_CHECKING:
    from runner.checks import CheckJob, CheckOptions, CheckResult
    from runner.checks.shard import Shard, Split
    from runner.syntax import SyntaxProblem

Progress = Callable[[str, "CheckResult | None"], None]
_Item = TypeVar("_Item", "CheckJob", "CheckResult")


@dataclass
class Validation:
    """The checks of some steps of one set, with built-in syntax problems folded in."""

    wset: WorkflowSet
    results: list[CheckResult] = field(default_factory=list)


@dataclass
class CheckPlan:
    """The checks of some steps of one set, ready to run (nothing has run yet)."""

    wset: WorkflowSet
    plan: Plan
    jobs: list[CheckJob]
    failed: list[CheckResult]  # found without running anything (data files' syntax)

    def specs(self) -> dict[str, CheckSpec]:
        """Every planned check by its ``check_id``."""
        from runner.checks import check_id

        specs = [job.spec for job in self.jobs] + [r.spec for r in self.failed]
        return {check_id(spec): spec for spec in reversed(specs)}

    def only(self, members: frozenset[str]) -> CheckPlan:
        """The same plan holding only the checks whose ids are ``members``."""
        from runner.checks import check_id

        jobs = [job for job in self.jobs if check_id(job.spec) in members]
        failed = [r for r in self.failed if check_id(r.spec) in members]
        return CheckPlan(self.wset, self.plan, jobs, failed)


def validate(
    wset: WorkflowSet,
    selectors: tuple[str, ...],
    options: CheckOptions,
    since: str | None = None,
    progress: Progress | None = None,
) -> Validation:
    """Run the declared and built-in checks of the selected steps of one set."""
    planned = plan_checks(wset, selectors, since, options.python)
    [results] = run_planned([planned], options, progress)
    return Validation(wset, results)


def plan_checks(
    wset: WorkflowSet,
    selectors: tuple[str, ...],
    since: str | None = None,
    python: str | None = None,
    profile: Profile | None = None,
) -> CheckPlan:
    """The declared and built-in checks of the selected steps.

    Each step's checks run in the project assembled from every step up to it (of the
    ``profile``'s steps, when given: its results name it). With ``since``, only steps
    whose documents changed since that git ref and the steps after them (their checks
    run on projects that contain the changed files) run.
    """
    chosen = wset.profile_steps(profile) if profile is not None else None
    plan = derived_plan(wset, CURRENT, python, plan=plan_set(wset, chosen)).plan
    numbers = {s.number for s in wset.select(selectors)}
    numbers &= {sp.step.number for sp in plan.steps}
    if since is not None:
        numbers &= affected_steps(wset, plan, since)
    jobs, failed = _check_jobs(plan, numbers)
    if profile is not None:
        jobs = [replace(job, spec=_in_profiles(job.spec, (profile.name,))) for job in jobs]
        failed = [replace(r, spec=_in_profiles(r.spec, (profile.name,))) for r in failed]
    return CheckPlan(wset, plan, jobs, failed)


def plan_sets(
    sets: list[WorkflowSet],
    selectors: tuple[str, ...],
    since: str | None = None,
    python: str | None = None,
    profiles: tuple[str, ...] = (),
    every: bool = False,
) -> list[CheckPlan]:
    """The checks of every set: of the profiles named (``--profile``, ``--all-profiles``)
    or, without, of all its steps."""
    plans: list[CheckPlan] = []
    for wset in sets:
        if profiles or every:
            chosen = wset.choose_profiles(profiles, every)
            plans += plan_profiles(wset, selectors, chosen, since, python)
        else:
            plans.append(plan_checks(wset, selectors, since, python))
    return plans


def plan_profiles(
    wset: WorkflowSet,
    selectors: tuple[str, ...],
    profiles: list[Profile],
    since: str | None = None,
    python: str | None = None,
) -> list[CheckPlan]:
    """The checks of each profile; a check whose assembled tree is the same in several
    profiles is planned once, and its result names all of them."""
    from runner.checks._cache import tree_digest

    plans = [plan_checks(wset, selectors, since, python, profile) for profile in profiles]
    jobs: dict[object, tuple[list[CheckJob], int]] = {}
    found: dict[object, tuple[list[CheckResult], int]] = {}
    for plan in plans:
        plan.jobs = _once(plan.jobs, jobs, lambda j: (_bare_id(j.spec), tree_digest(j.files)))
        plan.failed = _once(plan.failed, found, lambda r: (r.spec.name, r.spec.source, r.reason))
    return plans


def _once(items: list[_Item], seen: dict[object, tuple[list[_Item], int]], key: Any) -> list[_Item]:
    """``items`` without those already in ``seen`` (by ``key``); the first one of each
    key then names the profiles of both."""
    kept: list[_Item] = []
    for item in items:
        identity = key(item)
        if identity not in seen:
            seen[identity] = (kept, len(kept))
            kept.append(item)
            continue
        owner, index = seen[identity]
        names = (*owner[index].spec.profiles, *item.spec.profiles)
        owner[index] = replace(owner[index], spec=_in_profiles(owner[index].spec, names))
    return kept


def _bare_id(spec: CheckSpec) -> str:
    from runner.checks import check_id

    return check_id(_in_profiles(spec, ()))


def _in_profiles(spec: CheckSpec, names: tuple[str, ...]) -> CheckSpec:
    return replace(spec, profiles=names)


def shard_split(plans: list[CheckPlan], options: CheckOptions, count: int) -> Split:
    """Split every planned check of every set into ``count`` shards, balanced by the
    durations the result cache recorded."""
    from runner.checks import recorded_durations
    from runner.checks.shard import split

    ids = [i for plan in plans for i in plan.specs()]
    return split(ids, recorded_durations(options.cache_dir), count)


def keep_shard(
    plans: list[CheckPlan], options: CheckOptions, shard: Shard
) -> tuple[list[CheckPlan], CheckOptions, dict[str, Any]]:
    """``shard``'s part of the planned checks, the options to run it with (a shard never
    records durations, so every shard of a run splits alike), and what the JSON report
    says about it."""
    split = shard_split(plans, options, shard.count)
    total = sum(len(plan.specs()) for plan in plans)
    kept = [plan.only(split.members(shard)) for plan in plans]
    head = {
        "index": shard.index,
        "count": shard.count,
        "checks": sum(len(plan.specs()) for plan in kept),
        "of": total,
        "fingerprint": split.fingerprint,
    }
    return kept, replace(options, record_durations=False), head


def run_planned(
    plans: list[CheckPlan], options: CheckOptions, progress: Progress | None = None
) -> list[list[CheckResult]]:
    """Run the checks of every plan in one batch (parallel across sets); each plan's
    results, every failure located on its Markdown line."""
    from runner.checks import run_checks

    jobs = [job for plan in plans for job in plan.jobs]
    results = run_checks(jobs, options, progress) if jobs else []
    located: list[list[CheckResult]] = []
    for plan in plans:
        mine, results = results[: len(plan.jobs)], results[len(plan.jobs) :]
        located.append(plan.failed + _locate_python_syntax(mine, plan.plan))
    return located


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
            spec = _syntax_spec(result.spec.step, problem, result.spec.profiles)
            located.append(CheckResult(spec, "failed", result.duration, "", problem.message))
    return located


def _syntax_spec(number: str, problem: SyntaxProblem, profiles: tuple[str, ...] = ()) -> CheckSpec:
    return CheckSpec(
        name=f"built-in: syntax of {problem.file.path}",
        command="",
        step=number,
        source=problem.source(),
        profiles=profiles,
    )
