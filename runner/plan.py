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
from runner.patch import PatchFailed, apply_patch, patch_target
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
    plans = []
    for step in steps:
        variables = {**(set_vars or {}), **step.vars, **(overrides or {})}
        plans.append(_plan_step(step, tree, variables, overrides or {}))
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

    def __init__(self, step: Step, tree: dict[str, str]) -> None:
        self.step = step
        self.tree = tree
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
        self.tree[path] = content
        if skeleton:
            self.skeletons.add(path)
        self._touch(path, source, derived=False)

    def append(self, path: str, content: str, source: Source) -> None:
        base = self.tree.get(path, "")
        if content and content in base:
            self._touch(path, source, derived=True)
            return
        joiner = "\n" if base and not base.endswith("\n") else ""
        self.tree[path] = base + joiner + content
        self._touch(path, source, derived=True)

    def patch(self, path: str, diff: str, source: Source) -> None:
        named = patch_target(diff)
        if named is not None and named != path and named != "/dev/null":
            raise PlanError(f"patch is for {named}, but the block targets {path}", *_at(source))
        if path not in self.tree:
            raise PlanError(f"patch target {path} does not exist yet", *_at(source))
        try:
            self.tree[path] = apply_patch(self.tree[path], diff)
        except PatchFailed as exc:
            raise PlanError(f"patch does not apply to {path} ({exc})", *_at(source)) from exc
        self._touch(path, source, derived=True)

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


def _plan_step(
    step: Step, tree: dict[str, str], variables: dict[str, Any], overrides: Mapping[str, Any]
) -> StepPlan:
    builder = _StepBuilder(step, tree)
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
    """Front-matter instances, or one instance from ``--var`` when it sets their keys."""
    keys = {key for instance in instances for key in instance}
    if overrides and (not instances or keys & set(overrides)):
        return [dict(overrides)]
    return instances


def _render_template(
    builder: _StepBuilder, env: Any, full: str, name: str, context: dict[str, Any]
) -> None:
    source = builder.sources[full][0]
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
