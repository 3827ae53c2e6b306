"""Compute, in memory, every file each step produces. Nothing here touches the disk.

The plan is the single source of truth for build, verify, export, apply and checks:
``Plan.outputs()`` is what ``sdlc/<set>/`` must hold; ``Plan.assembled(step)`` is the
project as it stands after that step.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from runner.errors import PlanError, SelectionError
from runner.model import STDOUT, Block, Derivation, Source, Step
from runner.noweb import REFERENCE, Expansion, Names, first_definitions
from runner.patch import PatchFailed, already_applied, apply_patch, patch_target
from runner.paths import clean_target
from runner.template import loader_environment, render, render_with


@dataclass(frozen=True)
class PlannedFile:
    """One output file: its content after ``step`` and the blocks that made it."""

    step: str  # step folder, e.g. "01-project-setup"
    path: str  # project-relative POSIX path
    content: bytes
    sources: tuple[Source, ...]
    skeleton: bool = False
    derived: bool = False  # only appended to or patched in this step, never written whole
    permissions: int | None = None  # from ``mode=0755`` (Entangled); else a ``#!`` decides
    inputs: str | None = None  # a derived output: the hash of what its command ran on

    @property
    def executable(self) -> bool:
        if self.permissions is not None:
            return bool(self.permissions & 0o111)
        return self.content.startswith(b"#!")

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def output_path(self) -> str:
        return f"{self.step}/{self.path}"


@dataclass(frozen=True)
class PlannedDerivation:
    """A derived output of a step, validated; ``runner.derive`` runs it and adds the file."""

    path: str  # project-relative POSIX path of the output
    capture: str  # STDOUT, or the project-relative path the command writes
    spec: Derivation


@dataclass
class StepPlan:
    step: Step
    files: dict[str, PlannedFile] = field(default_factory=dict)
    derivations: tuple[PlannedDerivation, ...] = ()


@dataclass
class Plan:
    set_name: str
    steps: list[StepPlan]
    warnings: list[tuple[Source, str]] = field(default_factory=list)

    def outputs(self) -> dict[str, PlannedFile]:
        """Every output file keyed by ``NN-slug/path``, in step then path order."""
        return {
            f.output_path: f
            for sp in self.steps
            for f in sorted(sp.files.values(), key=lambda f: f.path)
        }

    def assembled(self, upto: str | None = None) -> dict[str, PlannedFile]:
        """The project after step ``upto`` (a number; default: the last planned step)."""
        tree: dict[str, PlannedFile] = {}
        for sp in self.steps:
            tree.update(sp.files)
            if sp.step.number == upto:
                break
        return dict(sorted(tree.items()))


def make_plan(
    set_name: str,
    steps: list[Step],
    set_vars: Mapping[str, Any] | None = None,
    overrides: Mapping[str, Any] | None = None,
    base: Mapping[str, str] | None = None,
    earlier: Iterable[Step] = (),
    alone: bool = False,
) -> Plan:
    """Plan the given steps in order.

    Without ``base`` the steps must include every step they require and start from an
    empty project; with ``base`` (an existing project's text files) they build on it.
    ``earlier`` steps are not planned, but their named blocks can be referenced.
    ``alone``: the steps are planned out of their set, which was found to need nothing
    else for them (``runner.index.Changed``), so what they require is not asked for.
    """
    if base is None and not alone:
        check_requires(steps)
    tree: dict[str, str] = dict(base or {})
    folders = {folder for path in tree for folder in _parents(path)}
    names = Names(first_definitions(steps))
    for step in earlier:
        names.add_step(step)
    recipes: dict[str, _Recipe] = {}
    permissions: dict[str, int] = {}
    carried: dict[str, PlannedDerivation] = {}  # ``rederive=later`` of earlier steps
    plans = []
    for step in steps:
        variables = {**(set_vars or {}), **step.vars, **(overrides or {})}
        builder = _StepBuilder(step, tree, folders, rerun=base is not None)
        builder.names, builder.recipes, builder.permissions = names, recipes, permissions
        _reemit(builder, names.add_step(step))
        plans.append(_plan_step(builder, variables, overrides or {}, carried))
    return Plan(set_name, plans, names.unused() if not base else [])


def check_requires(steps: Iterable[Step]) -> None:
    steps = list(steps)
    present = {int(s.number) for s in steps}
    for step in steps:
        for needed in step.requires:
            if int(needed) not in present:
                raise SelectionError(
                    f"step {step.number} requires step {needed}; select it too", step.path, 1
                )


class _StepBuilder:
    """Accumulates one step's files on top of the tree built by earlier steps."""

    def __init__(
        self, step: Step, tree: dict[str, str], folders: set[str], rerun: bool = False
    ) -> None:
        self.step = step
        self.tree = tree
        self.folders = folders  # every folder of the tree: a path cannot be file and folder
        self.rerun = rerun  # building on a project: patches/appends found applied are skipped
        self.sources: dict[str, list[Source]] = {}
        self.written: dict[str, Source] = {}
        self.skeletons: set[str] = set()
        self.derived: dict[str, bool] = {}
        self.names = Names()
        self.recipes: dict[str, _Recipe] = {}  # how each tangled file was made (see _reemit)
        self.permissions: dict[str, int] = {}  # ``mode=0755`` of the block that wrote a file

    def write(
        self,
        path: str,
        content: str,
        source: Source,
        skeleton: bool = False,
        also: Iterable[Source] = (),
    ) -> None:
        if path in self.written:
            first = self.written[path]
            raise PlanError(
                f"{path} is written twice in this step (first at line {first.line});"
                " add to it with mode=append",
                source.file,
                source.line,
            )
        self.written[path] = source
        self._claim(path, source)
        self.tree[path] = content
        self.recipes.pop(path, None)
        self.permissions.pop(path, None)
        if skeleton:
            self.skeletons.add(path)
        self._touch(path, source, derived=False, also=also)

    def append(self, path: str, content: str, source: Source, also: Iterable[Source] = ()) -> None:
        base = self.tree.get(path, "")
        if self.rerun and _has_lines(base, content):
            self._touch(path, source, derived=True, also=also)
            return
        self._claim(path, source)
        self.tree[path] = _appended(base, content)
        self._touch(path, source, derived=True, also=also)

    def reemit(self, path: str, content: str, sources: Iterable[Source]) -> None:
        """An earlier step's file again, because this step adds to a name it uses."""
        self.tree[path] = content
        for source in sources:
            self._touch(path, source, derived=False)

    def patch(self, path: str, diff: str, source: Source) -> None:
        named = patch_target(diff)
        if named is not None and named != path and named != "/dev/null":
            raise PlanError(f"patch is for {named}, but the block targets {path}", *_at(source))
        if path not in self.tree:
            raise PlanError(f"patch target {path} does not exist yet", *_at(source))
        if self.rerun and already_applied(self.tree[path], diff):
            self._touch(path, source, derived=True)
            return
        try:
            self.tree[path] = apply_patch(self.tree[path], diff)
        except PatchFailed as exc:
            raise PlanError(f"patch does not apply to {path} ({exc})", *_at(source)) from exc
        self._touch(path, source, derived=True)

    def _claim(self, path: str, source: Source) -> None:
        """Refuse a new file where the tree has a folder, or below a file."""
        if path in self.tree:
            return
        if path in self.folders:
            raise PlanError(f"{path} is a folder of other files; it cannot be a file", *_at(source))
        parents = _parents(path)
        for folder in parents:
            if folder in self.tree:
                raise PlanError(
                    f"{path} needs {folder}/ as a folder, but it is a file", *_at(source)
                )
        self.folders.update(parents)

    def _touch(self, path: str, source: Source, derived: bool, also: Iterable[Source] = ()) -> None:
        known = self.sources.setdefault(path, [])
        known.extend(s for s in (source, *also) if s not in known)
        self.derived[path] = self.derived.get(path, True) and derived

    def result(self) -> StepPlan:
        files = {
            path: PlannedFile(
                step=self.step.folder,
                path=path,
                content=self.tree[path].encode("utf-8"),
                sources=tuple(sources),
                skeleton=path in self.skeletons,
                derived=self.derived[path],
                permissions=self.permissions.get(path),
            )
            for path, sources in self.sources.items()
        }
        return StepPlan(self.step, files)


def _parents(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def _appended(base: str, content: str) -> str:
    joiner = "\n" if base and not base.endswith("\n") else ""
    return base + joiner + content


def _has_lines(text: str, content: str) -> bool:
    """``content`` is in ``text`` as whole lines (append is idempotent, not substring-y)."""
    if not content:
        return False
    lines = content if content.endswith("\n") else content + "\n"
    text = text if text.endswith("\n") else text + "\n"
    return text.startswith(lines) or f"\n{lines}" in text


def _plan_step(
    builder: _StepBuilder,
    variables: dict[str, Any],
    overrides: Mapping[str, Any],
    carried: dict[str, PlannedDerivation],
) -> StepPlan:
    step = builder.step
    for block in step.blocks:
        _apply_block(builder, block, variables, templated=block.template or step.template)
    if step.generate:
        _generate(builder, step, variables, overrides)
    result = builder.result()
    result.derivations = _derivations(builder, carried)
    return result


def _derivations(
    builder: _StepBuilder, carried: dict[str, PlannedDerivation]
) -> tuple[PlannedDerivation, ...]:
    """The step's derived outputs: clean targets, neither written by a block nor twice;
    then every ``rederive=later`` output of an earlier step this step does not derive
    itself (``carried``, updated here for the steps after this one)."""
    planned = _own_derivations(builder)
    for path, derivation in carried.items():
        if path in planned:
            continue
        made = builder.sources.get(path)
        if made:
            where = derivation.spec.source
            raise PlanError(
                f"{path} is derived again by every step after {where.file.name}:{where.line}"
                " (rederive=later); a later step cannot write, append to or patch it",
                *_at(made[0]),
            )
        planned[path] = derivation
    for path, derivation in planned.items():
        if derivation.spec.rederive:
            carried[path] = derivation
        else:
            carried.pop(path, None)  # this step's own derivation ends the carrying
    return tuple(planned.values())


def _own_derivations(builder: _StepBuilder) -> dict[str, PlannedDerivation]:
    planned: dict[str, PlannedDerivation] = {}
    for spec in builder.step.derivations:
        path = clean_target(spec.target, spec.source)
        capture = spec.capture
        if capture != STDOUT:
            capture = clean_target(capture, spec.source)
        made = builder.sources.get(path) or ([planned[path].spec.source] if path in planned else [])
        if made:
            first = made[0]
            raise PlanError(
                f"{path} is derived here and also made at line {first.line} of this step",
                *_at(spec.source),
            )
        if path in builder.folders:
            message = f"{path} is a folder of other files; it cannot be a file"
            raise PlanError(message, *_at(spec.source))
        planned[path] = PlannedDerivation(path, capture, spec)
    return planned


def _apply_block(
    builder: _StepBuilder, block: Block, variables: dict[str, Any], templated: bool
) -> None:
    target = render(block.target, variables, block.source) if templated else block.target
    path = clean_target(target, block.source)
    operation = _Operation(block, variables, templated)
    content, expansion = operation.content(builder.names)
    before = builder.tree.get(path, "")
    if block.mode == "append":
        builder.append(path, content, block.source, expansion.sources)
    elif block.mode == "patch":
        builder.patch(path, content, block.source)
    else:
        builder.write(path, content, block.source, block.skeleton, expansion.sources)
        if block.permissions is not None:
            builder.permissions[path] = block.permissions
    if block.mode == "write" or path not in builder.recipes:
        builder.recipes[path] = _Recipe("" if block.mode == "write" else before)
    recipe = builder.recipes[path]
    recipe.operations.append(operation)
    recipe.names |= expansion.names


@dataclass
class _Operation:
    """One block applied to a file, kept so the file can be made again (``_reemit``)."""

    block: Block
    variables: dict[str, Any]
    templated: bool

    def content(self, names: Names) -> tuple[str, Expansion]:
        """The block's text: references expanded (not in a diff), then rendered."""
        block = self.block
        if block.mode == "patch":
            _no_added_references(block)
        expansion = names.block_text(block) if block.mode != "patch" else Expansion(block.content)
        text = expansion.text
        if self.templated:
            text = render(text, self.variables, block.source)
        return text, expansion


def _no_added_references(block: Block) -> None:
    """A diff is not expanded, so a line it adds must not be a ``<<name>>`` reference."""
    for index, line in enumerate(block.content.split("\n")):
        if line.startswith("+") and not line.startswith("+++") and REFERENCE.match(line[1:]):
            message = "a patch cannot add a <<name>> line (references expand in write and append)"
            raise PlanError(message, block.source.file, block.source.line + 1 + index)


@dataclass
class _Recipe:
    """A file since it was last written whole: its text before, then each block."""

    base: str
    operations: list[_Operation] = field(default_factory=list)
    names: set[str] = field(default_factory=set)  # every name expanded into it


def _reemit(builder: _StepBuilder, added: set[str]) -> None:
    """Make again every earlier file that expands a name this step adds to, so the
    project after each step is what Entangled makes of the documents so far.

    A step that adds to no name changes no earlier file: nothing to look at (walking
    every recipe for every step made planning quadratic in the size of the set)."""
    if not added:
        return
    for path, recipe in builder.recipes.items():
        if not recipe.names & added:
            continue
        text, sources = recipe.base, []
        for operation in recipe.operations:
            text, used = _replay(builder, operation, text, path)
            sources.extend(used)
        if text != builder.tree.get(path):
            builder.reemit(path, text, sources)


def _replay(
    builder: _StepBuilder, operation: _Operation, text: str, path: str
) -> tuple[str, list[Source]]:
    content, expansion = operation.content(builder.names)
    block = operation.block
    if block.mode == "write":
        return content, [block.source, *expansion.sources]
    if block.mode == "append":
        return _appended(text, content), [block.source, *expansion.sources]
    try:
        return apply_patch(text, content), [block.source]
    except PatchFailed as exc:
        message = f"patch no longer applies to {path} once step {builder.step.number} adds to"
        names = ", ".join(f"<<{n}>>" for n in sorted(builder.recipes[path].names))
        raise PlanError(f"{message} {names} ({exc})", *_at(block.source)) from exc


def _generate(
    builder: _StepBuilder, step: Step, variables: dict[str, Any], overrides: Mapping[str, Any]
) -> None:
    """Render the step's template folder once per instance (DESIGN: re-runnable generators)."""
    spec = step.generate or {}
    folder = clean_target(spec["templates"], Source(step.path, 1)).rstrip("/") + "/"
    templates = {p[len(folder) :]: text for p, text in builder.tree.items() if p.startswith(folder)}
    if not templates:
        raise PlanError(f"generate.templates: no files under {folder} in this step", step.path, 1)
    env = loader_environment(templates)
    for instance in _instances(spec.get("instances") or [], overrides):
        context = {**variables, **instance}
        for name in sorted(templates):
            if name.endswith(".j2") and not name.rsplit("/", 1)[-1].startswith("_"):
                _render_template(builder, env, folder + name, name, context)


def _instances(instances: list[dict[str, Any]], overrides: Mapping[str, Any]) -> list[dict]:
    """The instances to render.

    ``--var`` that sets a key every instance has (``module``) replaces the list with one
    instance made of the overrides; other overrides are laid over each instance.
    """
    shared = set.intersection(*(set(i) for i in instances)) if instances else set()
    if overrides and (not instances or shared & set(overrides)):
        return [dict(overrides)]
    return [{**instance, **overrides} for instance in instances]


def _render_template(
    builder: _StepBuilder, env: Any, full: str, name: str, context: dict[str, Any]
) -> None:
    # the template's block, or the step document when an earlier step wrote the template
    source = builder.sources.get(full, [Source(builder.step.path, 1)])[0]
    append = name.endswith(".append.j2")
    out_name = name[: -len(".append.j2")] if append else name[: -len(".j2")]
    target = clean_target(render_with(env, out_name, context, source), source)
    content = render_with(env, builder.tree[full], context, source)
    if append:
        builder.append(target, content, source)
    else:
        builder.write(target, content, source)


def _at(source: Source) -> tuple[Any, int]:
    return source.file, source.line
