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
from runner.model import Block, Source, Step
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

    @property
    def executable(self) -> bool:
        return self.content.startswith(b"#!")

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def output_path(self) -> str:
        return f"{self.step}/{self.path}"


@dataclass
class StepPlan:
    step: Step
    files: dict[str, PlannedFile] = field(default_factory=dict)


@dataclass
class Plan:
    set_name: str
    steps: list[StepPlan]

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
) -> Plan:
    """Plan the given steps in order.

    Without ``base`` the steps must include every step they require and start from an
    empty project; with ``base`` (an existing project's text files) they build on it.
    """
    if base is None:
        check_requires(steps)
    tree: dict[str, str] = dict(base or {})
    folders = {folder for path in tree for folder in _parents(path)}
    plans = []
    for step in steps:
        variables = {**(set_vars or {}), **step.vars, **(overrides or {})}
        builder = _StepBuilder(step, tree, folders, rerun=base is not None)
        plans.append(_plan_step(builder, variables, overrides or {}))
    return Plan(set_name, plans)


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

    def write(self, path: str, content: str, source: Source, skeleton: bool = False) -> None:
        if path in self.written:
            first = self.written[path]
            raise PlanError(
                f"{path} is written twice in this step (first at line {first.line})",
                source.file,
                source.line,
            )
        self.written[path] = source
        self._claim(path, source)
        self.tree[path] = content
        if skeleton:
            self.skeletons.add(path)
        self._touch(path, source, derived=False)

    def append(self, path: str, content: str, source: Source) -> None:
        base = self.tree.get(path, "")
        if self.rerun and _has_lines(base, content):
            self._touch(path, source, derived=True)
            return
        self._claim(path, source)
        joiner = "\n" if base and not base.endswith("\n") else ""
        self.tree[path] = base + joiner + content
        self._touch(path, source, derived=True)

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

    def _touch(self, path: str, source: Source, derived: bool) -> None:
        self.sources.setdefault(path, []).append(source)
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
            )
            for path, sources in self.sources.items()
        }
        return StepPlan(self.step, files)


def _parents(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def _has_lines(text: str, content: str) -> bool:
    """``content`` is in ``text`` as whole lines (append is idempotent, not substring-y)."""
    if not content:
        return False
    lines = content if content.endswith("\n") else content + "\n"
    text = text if text.endswith("\n") else text + "\n"
    return text.startswith(lines) or f"\n{lines}" in text


def _plan_step(
    builder: _StepBuilder, variables: dict[str, Any], overrides: Mapping[str, Any]
) -> StepPlan:
    step = builder.step
    for block in step.blocks:
        _apply_block(builder, block, variables, templated=block.template or step.template)
    if step.generate:
        _generate(builder, step, variables, overrides)
    return builder.result()


def _apply_block(
    builder: _StepBuilder, block: Block, variables: dict[str, Any], templated: bool
) -> None:
    target, content = block.target, block.content
    if templated:
        target = render(target, variables, block.source)
        content = render(content, variables, block.source)
    path = clean_target(target, block.source)
    if block.mode == "append":
        builder.append(path, content, block.source)
    elif block.mode == "patch":
        builder.patch(path, content, block.source)
    else:
        builder.write(path, content, block.source, skeleton=block.skeleton)


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
