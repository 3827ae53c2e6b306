"""The user-facing jobs, each a straight pipeline: load -> plan -> compare -> act.

The CLI only parses options, calls one of these and hands the result to ``report``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner.discover import StepFile
from runner.drift import (
    HAND_EDITED,
    MANIFEST_STALE,
    ORPHANED,
    UNTRACKED,
    Difference,
    compare,
)
from runner.errors import ConflictError, WfError
from runner.manifest import planned_entries, read_manifest, render_manifest
from runner.plan import Plan, PlannedFile, make_plan
from runner.project import CACHE_DIR, WorkflowSet
from runner.transaction import Action, DeleteFile, Transaction, WriteFile, locked, write_atomic


@dataclass
class SetState:
    """A set's plan compared with its output folder."""

    wset: WorkflowSet
    plan: Plan
    differences: list[Difference]
    manifest: bytes


@dataclass
class BuildResult:
    wset: WorkflowSet
    actions: list[Action] = field(default_factory=list)
    untracked: list[str] = field(default_factory=list)
    manifest_written: bool = False


def plan_set(
    wset: WorkflowSet,
    chosen: list[StepFile] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Plan:
    return make_plan(wset.name, wset.steps(chosen), wset.vars, overrides)


def state(wset: WorkflowSet, overrides: Mapping[str, Any] | None = None) -> SetState:
    """Plan every step of the set and compare the result with ``sdlc/<set>/``."""
    plan = plan_set(wset, overrides=overrides)
    manifest = render_manifest(wset.name, planned_entries(plan, wset.root))
    owned = read_manifest(wset.out_dir)
    differences = compare(plan.outputs(), wset.root, wset.out_dir, owned, manifest)
    return SetState(wset, plan, differences, manifest)


def build(
    wset: WorkflowSet,
    selectors: tuple[str, ...] = (),
    overrides: Mapping[str, Any] | None = None,
    force: bool = False,
    dry_run: bool = False,
) -> BuildResult:
    """Regenerate the selected steps' folders (default: all) under ``sdlc/<set>/``."""
    with locked(wset.root / CACHE_DIR / f"{wset.name}.lock"):
        current = state(wset, overrides)
        # Building everything also cleans folders of steps that were deleted or renamed.
        folders = {f"{s.number}-{s.id}/" for s in wset.select(selectors)} if selectors else {""}
        chosen = [d for d in current.differences if d.key.startswith(tuple(folders))]
        result = BuildResult(wset, untracked=[d.key for d in chosen if d.kind == UNTRACKED])
        result.actions = [a for d in chosen if (a := _action(d)) is not None]
        transaction = Transaction(wset.out_dir, result.actions)
        transaction.check(force)
        manifest = _merged_manifest(current, folders)
        result.manifest_written = manifest != _read(wset.out_dir / "manifest.json")
        if not dry_run:
            transaction.run()
            if result.manifest_written:
                write_atomic(wset.out_dir / "manifest.json", manifest, durable=True)
        return result


def _action(difference: Difference) -> Action | None:
    """What build does about one difference (``None``: leave it alone)."""
    planned = difference.planned
    if difference.kind == MANIFEST_STALE or (difference.kind == UNTRACKED and planned is None):
        return None
    if difference.kind == ORPHANED:
        conflict = "edited by hand, and no document produces it any more"
        return DeleteFile(difference.key, conflict if difference.edited else None)
    assert planned is not None
    conflict = {
        HAND_EDITED: "edited by hand since wf wrote it",
        UNTRACKED: "exists but was not written by wf",
    }.get(difference.kind)
    return _write(difference.key, planned, difference.disk, conflict)


def _write(
    rel: str, planned: PlannedFile, existing: bytes | None, conflict: str | None = None
) -> WriteFile:
    """Write ``planned`` at ``rel``; errors about it point at its first block."""
    kind = "create" if existing is None else "update"
    source = planned.sources[0] if planned.sources else None
    return WriteFile(rel, planned.content, planned.executable, kind, conflict, source)


def _merged_manifest(current: SetState, folders: set[str]) -> bytes:
    """Planned entries for the rebuilt folders, the old ones for every other folder."""
    wset = current.wset
    planned = planned_entries(current.plan, wset.root)
    kept = {
        k: e for k, e in read_manifest(wset.out_dir).items() if not k.startswith(tuple(folders))
    }
    rebuilt = {k: e for k, e in planned.items() if k.startswith(tuple(folders))}
    return render_manifest(wset.name, kept | rebuilt)


def _read(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None


@dataclass
class ExportResult:
    target: Path
    files: list[PlannedFile]
    written: list[str]
    committed: str | None = None


def export(
    wset: WorkflowSet,
    target: Path,
    selectors: tuple[str, ...] = (),
    overrides: Mapping[str, Any] | None = None,
    git_init: bool = False,
    force: bool = False,
) -> ExportResult:
    """Write the project assembled from the chosen steps into ``target``."""
    chosen = wset.select(selectors)
    plan = plan_set(wset, chosen, overrides)
    files = list(plan.assembled().values())
    if target.exists() and any(target.iterdir()) and not force:
        raise ConflictError(
            f"{target} is not empty; export into a new folder, or use --force to overwrite"
        )
    actions: list[Action] = []
    for planned in files:
        existing = _read(target / planned.path)
        if existing != planned.content:
            actions.append(_write(planned.path, planned, existing))
    target.mkdir(parents=True, exist_ok=True)
    transaction = Transaction(target, actions)
    transaction.check(force)
    transaction.run()
    result = ExportResult(target, files, [a.rel for a in actions])
    if git_init:
        from runner.gitops import init_and_commit

        steps = ", ".join(s.number for s in chosen)
        result.committed = init_and_commit(target, f"Initial project from wf steps {steps}")
    return result


@dataclass
class ApplyResult:
    target: Path
    actions: list[Action]
    kept: list[str]  # skeleton files the user already has


def apply(
    wset: WorkflowSet,
    selector: str,
    target: Path,
    overrides: Mapping[str, Any] | None = None,
    force: bool = False,
    dry_run: bool = False,
) -> ApplyResult:
    """Apply one step to an existing project: patches and appends build on its files."""
    if not target.is_dir():
        raise WfError(f"{target} is not a folder; apply needs an existing project")
    chosen = wset.select([selector])
    if len(chosen) != 1:
        raise WfError(f"apply takes exactly one step, {selector!r} selects {len(chosen)}")
    number = chosen[0].number
    upto = [s for s in wset.step_files if int(s.number) <= int(number)]
    full = plan_set(wset, upto, overrides)
    touched = full.steps[-1].files
    base = {path: text for path in touched if (text := _read_text(target / path)) is not None}
    step_plan = make_plan(wset.name, wset.steps(chosen), wset.vars, overrides, base).steps[0]
    actions, kept = _apply_actions(step_plan.files.values(), target)
    transaction = Transaction(target, actions)
    transaction.check(force)
    if not dry_run:
        transaction.run()
    return ApplyResult(target, actions, kept)


def _apply_actions(files: Any, target: Path) -> tuple[list[Action], list[str]]:
    actions: list[Action] = []
    kept: list[str] = []
    for planned in sorted(files, key=lambda f: f.path):
        existing = _read(target / planned.path)
        if existing == planned.content:
            continue
        if existing is not None and planned.skeleton:
            kept.append(planned.path)
            continue
        conflict = None
        if existing is not None and not planned.derived:
            conflict = "exists with different content"
        actions.append(_write(planned.path, planned, existing, conflict))
    return actions, kept


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


@dataclass
class CheckRun:
    """The checks of some steps of one set, with built-in syntax problems folded in."""

    wset: WorkflowSet
    results: list[Any] = field(default_factory=list)  # runner.checks.CheckResult


def run_step_checks(
    wset: WorkflowSet,
    selectors: tuple[str, ...],
    options: Any,  # runner.checks.CheckOptions
    since: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    progress: Any = None,
) -> CheckRun:
    """Run the declared and built-in checks of the selected steps.

    Each step's checks run in the project assembled from every step up to it.
    With ``since``, only steps whose documents changed since that git ref, and the
    later steps that build on their files, are checked.
    """
    from runner.checks import run_checks

    plan = plan_set(wset, overrides=overrides)
    numbers = {s.number for s in wset.select(selectors)}
    if since is not None:
        numbers &= affected_steps(wset, plan, since)
    jobs, failed = _check_jobs(plan, numbers)
    results = run_checks(jobs, options, progress) if jobs else []
    return CheckRun(wset, failed + _locate_python_syntax(results, plan))


def affected_steps(wset: WorkflowSet, plan: Plan, since: str) -> set[str]:
    """Steps whose documents changed since ``since``, plus later steps using their files."""
    from runner.gitops import changed_since

    changed = changed_since(wset.root, since, f"workflows/{wset.name}")
    if (wset.folder / "wf.yaml").resolve() in changed:
        return {sp.step.number for sp in plan.steps}
    result: set[str] = set()
    files: set[str] = set()
    for sp in plan.steps:
        step = sp.step
        if step.path.resolve() in changed or set(step.requires) & result or files & set(sp.files):
            result.add(step.number)
            files.update(sp.files)
    return result


def _check_jobs(plan: Plan, numbers: set[str]) -> tuple[list[Any], list[Any]]:
    from runner.checks import CheckJob, CheckResult
    from runner.syntax import data_syntax_problems, python_syntax_check

    jobs: list[Any] = []
    failed: list[Any] = []
    for sp in plan.steps:
        if sp.step.number not in numbers:
            continue
        for problem in data_syntax_problems(sp):
            spec = _syntax_spec(sp.step.number, problem)
            failed.append(CheckResult(spec, "failed", 0.0, "", problem.message))
        files = {path: f.content for path, f in plan.assembled(sp.step.number).items()}
        compile_check = python_syntax_check(sp)
        specs = ([compile_check] if compile_check else []) + list(sp.step.checks)
        jobs.extend(CheckJob(spec, files) for spec in specs)
    return jobs, failed


def _locate_python_syntax(results: list[Any], plan: Plan) -> list[Any]:
    """Split a failed built-in python syntax check into one result per broken block."""
    from runner.checks import CheckResult
    from runner.syntax import PYTHON_SYNTAX, python_problems

    step_plans = {sp.step.number: sp for sp in plan.steps}
    located: list[Any] = []
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


def _syntax_spec(number: str, problem: Any) -> Any:
    from runner.model import CheckSpec

    return CheckSpec(
        name=f"built-in: syntax of {problem.file.path}",
        command="",
        step=number,
        source=problem.source(),
    )
