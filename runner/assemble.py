"""Assemble projects from steps: ``export`` a standalone project, ``apply`` one step
to an existing project. Both plan in memory, check every action, then write."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.build import derived_plan, write_action
from runner.derive import CURRENT, DeriveOptions, derive_on
from runner.errors import ConflictError, WfError
from runner.plan import PlannedFile, StepPlan, make_plan
from runner.profiles import Profile
from runner.project import WorkflowSet
from runner.transaction import Action, Transaction


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
    profile: Profile | None = None,
) -> ExportResult:
    """Write the project assembled from the chosen steps (of ``profile``) into ``target``."""
    chosen = wset.select(selectors)
    if profile is not None:
        kept = {s.number for s in wset.profile_steps(profile)}
        chosen = [s for s in chosen if s.number in kept]
    plan = make_plan(wset.name, wset.steps(chosen), wset.vars, overrides)
    plan = derived_plan(wset, CURRENT, plan=plan).plan
    files = list(plan.assembled().values())
    _check_export_target(target, force)
    actions: list[Action] = [
        write_action(planned.path, planned, existing)
        for planned in files
        if (existing := _read(target / planned.path)) != planned.content
    ]
    transaction = Transaction(target, actions)
    transaction.check(force)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WfError(f"cannot create {target}: {exc.strerror}") from exc
    transaction.run()
    result = ExportResult(target, files, [a.rel for a in actions])
    if git_init:
        from runner.gitops import init_and_commit

        steps = ", ".join(s.number for s in chosen)
        result.committed = init_and_commit(target, f"Initial project from wf steps {steps}")
    return result


def _check_export_target(target: Path, force: bool) -> None:
    for parent in (target, *target.parents):
        if parent.exists() and not parent.is_dir():
            raise WfError(f"cannot export to {target}: {parent} is a file")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise ConflictError(
            f"{target} is not empty; export into a new folder, or use --force to overwrite"
        )


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
    """Apply one step to an existing project: patches and appends build on its files.

    The step is planned once from the documents to learn which files it touches, then
    again on top of the project's own versions of those files.
    """
    if not target.is_dir():
        raise WfError(f"{target} is not a folder; apply needs an existing project")
    chosen = wset.select([selector])
    if len(chosen) != 1:
        raise WfError(f"apply takes exactly one step, {selector!r} selects {len(chosen)}")
    upto = [s for s in wset.step_files if int(s.number) <= int(chosen[0].number)]
    touched = make_plan(wset.name, wset.steps(upto), wset.vars, overrides).steps[-1].files
    base = _ProjectFiles(target, touched)
    earlier = wset.steps(upto[:-1])  # their named blocks can be referenced
    step_plan = make_plan(
        wset.name, wset.steps(chosen), wset.vars, overrides, base.text, earlier
    ).steps[0]
    files = list(step_plan.files.values()) + _derived_here(wset, step_plan, target, base)
    actions, kept = _apply_actions(files, target, base)
    transaction = Transaction(target, actions)
    transaction.check(force)
    if not dry_run:
        transaction.run()
    return ApplyResult(target, actions, kept)


_NOT_PROJECT = {".git", ".hg", ".svn", ".venv", "venv", ".wf", "node_modules", "__pycache__"}


def _derived_here(
    wset: WorkflowSet, step_plan: StepPlan, target: Path, base: _ProjectFiles
) -> list[PlannedFile]:
    """The step's derived outputs, made in a copy of the project as the step leaves it
    (its own current version of each file present, so ``uv lock`` keeps the pins)."""
    if not step_plan.derivations:
        return []
    tree = _project_tree(target)
    for planned in step_plan.files.values():
        content = planned.content
        if planned.path in base.crlf:
            content = content.replace(b"\n", b"\r\n")
        tree[planned.path] = content
    options = DeriveOptions(CURRENT, wset.root)
    made = []
    for derivation in step_plan.derivations:
        made.append(derive_on(derivation, step_plan.step.folder, tree, options))
        tree[derivation.path] = made[-1].content
    return made


def _project_tree(target: Path) -> dict[str, bytes]:
    """The project's files, without version control, venvs and caches."""
    tree: dict[str, bytes] = {}
    for folder, dirs, files in os.walk(target):
        dirs[:] = sorted(d for d in dirs if d not in _NOT_PROJECT)
        for name in files:
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink():
                tree[path.relative_to(target).as_posix()] = path.read_bytes()
    return tree


class _ProjectFiles:
    """The project's versions of the files a step touches, as LF text for planning.

    Files with CRLF line endings are remembered so they are written back with CRLF;
    a file that is not UTF-8 text cannot be patched or appended to safely.
    """

    def __init__(self, target: Path, paths: Iterable[str]) -> None:
        self.text: dict[str, str] = {}
        self.crlf: set[str] = set()
        self.binary: set[str] = set()
        for path in paths:
            data = _read(target / path)
            if data is None:
                continue
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                self.binary.add(path)
                continue
            if "\r\n" in text:
                self.crlf.add(path)
                text = text.replace("\r\n", "\n")
            self.text[path] = text


def _apply_actions(
    files: Iterable[PlannedFile], target: Path, base: _ProjectFiles
) -> tuple[list[Action], list[str]]:
    actions: list[Action] = []
    kept: list[str] = []
    for planned in sorted(files, key=lambda f: f.path):
        if planned.path in base.crlf:
            planned = _with_content(planned, planned.content.replace(b"\n", b"\r\n"))
        existing = _read(target / planned.path)
        if existing == planned.content:
            continue
        if existing is not None and planned.skeleton:
            kept.append(planned.path)
            continue
        conflict = None
        if planned.path in base.binary:
            conflict = "is not UTF-8 text, so this step cannot build on it"
        elif existing is not None and not planned.derived and planned.inputs is None:
            conflict = "exists with different content"
        actions.append(write_action(planned.path, planned, existing, conflict))
    return actions, kept


def _with_content(planned: PlannedFile, content: bytes) -> PlannedFile:
    from dataclasses import replace

    return replace(planned, content=content)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes() if path.is_file() else None
    except OSError as exc:
        raise WfError(f"cannot read {path}: {exc.strerror}") from exc
