"""Regenerate ``sdlc/<set>/`` from the documents, and compare the two (verify).

Pipeline: plan (in memory) -> compare with disk -> actions -> check every set's
actions -> run them. Any error before the last stage means nothing is written.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from runner import index
from runner.derive import CURRENT, RECHECK, RECORDED, Derivations, DeriveOptions, Recorded, derive
from runner.discover import StepFile
from runner.drift import (
    HAND_EDITED,
    MANIFEST_STALE,
    MISSING,
    ORPHANED,
    STALE,
    UNTRACKED,
    Difference,
    compare,
)
from runner.errors import ConflictError
from runner.manifest import (
    MANIFEST,
    Entry,
    OnDisk,
    entries_below,
    manifest_lines,
    manifest_path,
    planned_entries,
    read_manifest,
    render_manifest,
    splice_manifest,
)
from runner.model import Source, Step
from runner.paths import inside_project
from runner.plan import Plan, PlannedFile, make_plan
from runner.project import WorkflowSet, cache_dir
from runner.transaction import (
    Action,
    DeleteFile,
    RemoveFolder,
    Transaction,
    WriteFile,
    empty_folders,
    locked,
    write_atomic,
)


@dataclass
class SetState:
    """A set's plan compared with its output folder."""

    wset: WorkflowSet
    plan: Plan
    differences: list[Difference]
    owned: OnDisk  # the manifest on disk
    planned: dict[str, Entry]  # the manifest entries the plan calls for
    manifest: bytes | None = None  # ``planned`` rendered (rendering 10,000 lines is not free)
    # what a build records in the stat index once it has written the actions (None:
    # the set cannot be indexed, see _indexable)
    pending: index.Pending | None = None


def plan_set(wset: WorkflowSet, chosen: list[StepFile] | None = None) -> Plan:
    """Plan the chosen steps (default: all) from the set's documents."""
    return make_plan(wset.name, wset.steps(chosen), wset.vars)


def derived_plan(
    wset: WorkflowSet,
    policy: str,
    python: str | None = None,
    owned: OnDisk | None = None,
    plan: Plan | None = None,
) -> Derivations:
    """The set's plan (default: every step) with its derived outputs filled in
    (``runner.derive``); what an earlier build recorded comes from ``sdlc/<set>/``."""
    if owned is None:  # checks and exports do not judge the manifest; build and verify do
        owned = read_manifest(wset.out_dir, damaged_is_empty=True)
    options = DeriveOptions(policy, wset.root, python)
    return derive(plan or plan_set(wset), Recorded(owned.entries, wset.out_dir), options)


def state(
    wset: WorkflowSet, force: bool = False, policy: str = RECORDED, python: str | None = None
) -> SetState:
    """Plan every step of the set and compare the result with ``sdlc/<set>/``.

    With ``force`` a damaged manifest counts as empty, so a build can replace it.
    ``policy`` says when derived outputs are rerun (``runner.derive``). When nothing
    differs, the stat index remembers it (``differences`` then skips all this).
    """
    snapshot = index.snapshot(wset)  # before anything is read: see runner/index.py
    plan = plan_set(wset)
    wset.check_profiles()
    owned = read_manifest(wset.out_dir, damaged_is_empty=force)
    derived = derived_plan(wset, policy, python, owned, plan)
    plan = derived.plan
    planned = planned_entries(plan, wset.root)
    manifest = render_manifest(wset.name, planned)
    differences = compare(plan.outputs(), wset.root, wset.out_dir, owned, manifest)
    outputs = plan.outputs()
    for finding in derived.findings:
        planned_file = outputs[finding.key]
        owners = (finding.source.label(wset.root),)
        disk = planned_file.content  # what sdlc/ holds; the report has no new bytes to show
        differences.append(Difference(finding.kind, finding.key, planned_file, disk, owners))
    pending = None
    if snapshot is not None and _indexable(plan, wset):
        hashes = _hashes(wset, [sp.step for sp in plan.steps], planned, manifest)
        if not differences:
            index.record(snapshot, plan, hashes)
        pending = index.pending(wset, snapshot, plan, hashes)
    return SetState(wset, plan, differences, owned, planned, manifest, pending)


def _hashes(
    wset: WorkflowSet, steps: list[Step], planned: Mapping[str, Entry], manifest: bytes
) -> index.Hashes:
    """The content of the set's files as planned: the documents parsed, the outputs
    and the manifest (what the index verifies recent files by)."""
    outputs = {key: entry.sha256 for key, entry in planned.items()}
    outputs[MANIFEST] = hashlib.sha256(manifest).hexdigest()
    return index.hashes_of(wset, steps, outputs)


def changed_state(
    wset: WorkflowSet, force: bool = False, seen: index.Look | None = None
) -> SetState | None:
    """The set compared by replanning only the documents that changed since the stat
    index recorded it consistent, when each is self-contained and no other step touches
    its paths (``runner.index.Changed``): the other steps' outputs and the manifest are
    as recorded, so their plan is what the manifest says. None: compare in full.

    The plan, the manifest entries (found and planned) hold only the changed steps;
    ``manifest`` is the whole set's. Nothing is indexed from here: a build records the
    index once it has written (``SetState.pending``)."""
    changed = index.changed_steps(wset, seen)
    if changed is None or not changed.steps:
        return None
    files = {f.number: f for f in wset.step_files}
    steps = [wset.step(files[number]) for number in changed.steps]
    if not all(changed.replannable(step) for step in steps):
        return None
    plan = make_plan(wset.name, steps, wset.vars, alone=True)
    if not changed.private({sp.step.number: set(sp.files) for sp in plan.steps}):
        return None
    plan.warnings = changed.warnings  # no changed step has a name: the set's are as they were
    folders = tuple(step.folder for step in steps)
    prefixes = tuple(f"{folder}/" for folder in folders)
    path = manifest_path(wset.out_dir)
    raw = path.read_bytes() if path.is_file() else b""
    lines = manifest_lines(raw, wset.name)
    if lines is None:
        return None  # not a manifest wf wrote as it is: the full comparison says why
    owned = entries_below(raw, wset.name, prefixes, lines)  # only the changed steps' entries
    replanned = planned_entries(plan, wset.root)
    manifest = splice_manifest(raw, wset.name, prefixes, replanned, lines)
    if owned is None or manifest is None:
        return None  # not a manifest wf wrote as it is: the full comparison says why
    differences = compare(plan.outputs(), wset.root, wset.out_dir, owned, manifest, folders)
    hashes = _hashes(wset, steps, replanned, manifest)
    pending = index.pending_partial(changed, plan, hashes)
    return SetState(wset, plan, differences, owned, replanned, manifest, pending)


def _indexable(plan: Plan, wset: WorkflowSet) -> bool:
    """A consistent set the stat index may vouch for: one a build would not touch (no
    empty folder) and whose outputs depend on nothing but its files (no derivation: a
    command's result may depend on the interpreter and tools it finds)."""
    derives = any(step.derivations for step in plan.steps)
    return not derives and not empty_folders(wset.out_dir)


def differences(wset: WorkflowSet) -> list[Difference]:
    """How ``sdlc/<set>/`` differs from the documents; none, without parsing a document
    or reading an output, when the stat index shows nothing changed since the last
    comparison that found none."""
    seen = index.look(wset)
    if index.recall(wset, seen) is not None:
        return []
    current = changed_state(wset, seen=seen) or state(wset)
    return current.differences


@dataclass
class BuildResult:
    wset: WorkflowSet
    actions: list[Action] = field(default_factory=list)
    untracked: list[str] = field(default_factory=list)
    manifest: bytes | None = None  # the new manifest, when it changes
    transaction: Transaction | None = None  # the actions, checked (None: nothing to do)
    pending: index.Pending | None = None  # the set is consistent once they ran: index it

    @property
    def changed(self) -> bool:
        return bool(self.actions) or self.manifest is not None


def build(
    sets: list[WorkflowSet],
    selectors: tuple[str, ...] = (),
    force: bool = False,
    dry_run: bool = False,
    python: str | None = None,
    keep: Mapping[str, frozenset[str]] | None = None,
) -> list[BuildResult]:
    """Regenerate the selected steps' folders (default: all) of every set.

    Every set is planned (derived outputs whose inputs changed are rerun) and checked
    before the first file is written. ``keep`` (set name -> output keys) names files to
    leave as they are, manifest entry included (``wf sync`` keeps hand edits it could
    not take back into the documents).
    """
    with _locked(sets):
        results = [
            _prepare(wset, selectors, force, python, (keep or {}).get(wset.name, frozenset()))
            for wset in sets
        ]
        if not dry_run:
            for result in results:
                _run(result)
                _index(result)
        return results


def _index(result: BuildResult) -> None:
    """Record the stat index of a set the build has just made consistent: the next
    no-op verifies what was written by its hash instead of comparing everything."""
    if result.pending is None:
        return
    wset = result.wset
    outputs = wset.out_dir.relative_to(wset.root).as_posix()
    touched = {f"{outputs}/{action.rel}" for action in result.actions}
    touched.add(f"{outputs}/{MANIFEST}")
    index.record_build(wset, result.pending, touched)


@contextlib.contextmanager
def _locked(sets: list[WorkflowSet]) -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        for wset in sorted(sets, key=lambda s: s.name):
            lock = inside_project(wset.root, cache_dir(wset.root) / f"{wset.name}.lock")
            stack.enter_context(locked(lock))
        yield


def _prepare(
    wset: WorkflowSet,
    selectors: tuple[str, ...],
    force: bool,
    python: str | None,
    keep: frozenset[str] = frozenset(),
) -> BuildResult:
    inside_project(wset.root, manifest_path(wset.out_dir))  # sdlc/, sdlc/<set>/ not links out
    seen = index.look(wset)
    if index.recall(wset, seen) is not None:  # nothing differs, no folder is empty
        return BuildResult(wset)
    # Only self-contained documents changed: only they are planned; the outputs are as
    # the index recorded them, so no folder is empty.
    partial = None if selectors or keep else changed_state(wset, force, seen)
    current = partial or state(wset, force, CURRENT, python)
    # Building everything also cleans folders of steps that were deleted or renamed.
    chosen_steps = wset.select(selectors)
    prefixes = tuple(f"{s.number}-{s.id}/" for s in chosen_steps) if selectors else ("",)
    chosen = [d for d in current.differences if d.key.startswith(prefixes) and d.key not in keep]
    result = BuildResult(wset, untracked=[d.key for d in chosen if _is_stray(d)])
    result.actions = [a for d in chosen if (a := _action(d)) is not None]
    # empty folders (a run killed between a folder's last delete and its rmdir): removed
    empty = empty_folders(wset.out_dir) if partial is None else []
    result.actions += [RemoveFolder(rel) for rel in empty if f"{rel}/".startswith(prefixes)]
    _manifest_fits(wset)
    hint = "keep your changes in the documents, or rerun with --force to discard them"
    result.transaction = Transaction(wset.out_dir, result.actions)
    result.transaction.check(force, hint)
    manifest = _merged_manifest(current, prefixes, keep)
    if manifest != current.owned.raw:
        result.manifest = manifest
    if prefixes == ("",) and not keep and all(_settles(d) for d in current.differences):
        result.pending = current.pending
    return result


def _settles(difference: Difference) -> bool:
    """Building removes ``difference`` (a stray file stays, and so does what derive found)."""
    return difference.kind == MANIFEST_STALE or _action(difference) is not None


def _manifest_fits(wset: WorkflowSet) -> None:
    """The manifest's place holds the manifest or nothing (checked before any write)."""
    path = manifest_path(wset.out_dir)
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise ConflictError("the manifest's place holds a folder or a link; move it away", path)


def _run(result: BuildResult) -> None:
    out_dir = result.wset.out_dir
    if result.transaction is not None:
        result.transaction.run()
    if result.manifest is not None:
        write_atomic(manifest_path(out_dir), result.manifest, durable=True)


def _is_stray(difference: Difference) -> bool:
    """A file in sdlc/ that no document produces and wf never wrote: left alone."""
    return difference.kind == UNTRACKED and difference.planned is None


def _action(difference: Difference) -> Action | None:
    """What build does about one difference (``None``: leave it alone)."""
    planned = difference.planned
    if difference.kind not in _ACTED_ON or _is_stray(difference):
        return None
    if difference.kind == ORPHANED:
        conflict = "edited by hand, and no document produces it any more"
        return DeleteFile(difference.key, conflict if difference.edited else None)
    assert planned is not None
    conflict = {
        HAND_EDITED: "edited by hand since wf wrote it",
        UNTRACKED: "exists but was not written by wf",
    }.get(difference.kind)
    return write_action(difference.key, planned, difference.disk, conflict)


_ACTED_ON = (STALE, MISSING, HAND_EDITED, UNTRACKED, ORPHANED)


def write_action(
    rel: str, planned: PlannedFile, existing: bytes | None, conflict: str | None = None
) -> WriteFile:
    """Write ``planned`` at ``rel``; errors about it point at its first block."""
    kind = "create" if existing is None else "update"
    source = planned.sources[0] if planned.sources else None
    return WriteFile(rel, planned.content, planned.executable, kind, conflict, source)


def _merged_manifest(
    current: SetState, prefixes: tuple[str, ...], keep: frozenset[str] = frozenset()
) -> bytes:
    """Planned entries for the rebuilt folders, the old ones for every other folder; a
    file to ``keep`` keeps the hash wf wrote (it stays hand-edited), with its new owners."""
    if prefixes == ("",) and not keep and current.manifest is not None:
        return current.manifest  # everything rebuilt: the planned manifest, rendered once
    kept = {k: e for k, e in current.owned.entries.items() if not k.startswith(prefixes)}
    rebuilt = {k: e for k, e in current.planned.items() if k.startswith(prefixes)}
    for key in keep & rebuilt.keys() & current.owned.entries.keys():
        rebuilt[key] = replace(rebuilt[key], sha256=current.owned.entries[key].sha256)
    return render_manifest(current.wset.name, kept | rebuilt)


@dataclass
class Verification:
    """How each set's ``sdlc/`` differs from its documents (and, optionally, git)."""

    differences: dict[str, list[Difference]]
    uncommitted: dict[str, list[tuple[str, str]]]  # set -> (git status, path)
    warnings: list[tuple[Source, str]] = field(default_factory=list)  # e.g. unused names

    @property
    def ok(self) -> bool:
        return not any(self.differences.values()) and not any(self.uncommitted.values())


def verify(
    sets: list[WorkflowSet],
    committed: bool = False,
    rederive: bool = False,
    python: str | None = None,
) -> Verification:
    """Regenerate in memory and compare with disk; with ``committed``, also with git HEAD.

    Derived outputs are trusted when their inputs are unchanged; with ``rederive`` every
    one is rerun and its bytes compared.
    """
    policy = RECHECK if rederive else RECORDED
    differences: dict[str, list[Difference]] = {}
    warnings: list[tuple[Source, str]] = []
    for wset in sets:
        seen = None if rederive else index.look(wset)
        remembered = None if seen is None else index.recall(wset, seen)  # None: in full
        if remembered is None:
            partial = None if seen is None else changed_state(wset, seen=seen)
            current = partial or state(wset, policy=policy, python=python)
            differences[wset.name], remembered = current.differences, current.plan.warnings
        else:
            differences[wset.name] = []
        warnings += remembered
    uncommitted: dict[str, list[tuple[str, str]]] = {}
    if committed:
        from runner.gitops import uncommitted as git_uncommitted

        for wset in sets:
            uncommitted[wset.name] = git_uncommitted(wset.root, f"sdlc/{wset.name}")
    return Verification(differences, uncommitted, warnings)


def commit_outputs(root: Path, set_names: list[str]) -> str | None:
    """Commit each set's ``sdlc/`` where it differs from HEAD; the message names the steps."""
    from runner.gitops import commit_paths, uncommitted

    changed = {}
    for name in set_names:
        files = uncommitted(root, f"sdlc/{name}")
        if files:
            steps = sorted({_step_of(path, name) for _, path in files} - {""})
            changed[name] = steps or ["manifest"]
    if not changed:
        return None
    names = "; ".join(f"{name} steps {', '.join(steps)}" for name, steps in changed.items())
    return commit_paths(root, [f"sdlc/{name}" for name in changed], f"wf build: regenerate {names}")


def _step_of(path: str, set_name: str) -> str:
    """The step number of a generated file's path (``…/sdlc/<set>/03-x/…`` -> ``03``)."""
    _, _, below = path.partition(f"sdlc/{set_name}/")
    folder, slash, _ = below.partition("/")
    return folder.split("-", 1)[0] if slash else ""
