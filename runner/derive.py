"""Derived outputs: files a step produces by running a command in the project assembled so
far (``uv lock`` -> ``uv.lock``, an app printing its OpenAPI document).

This stage completes a plan: for each derivation, in step order, it hashes what the
command depends on (the assembled tree before it, the command, where its bytes come
from, the services it needs; the venv is built from the tree's ``pyproject.toml``) and
reuses the bytes an earlier build recorded for the same hash, or runs the command. The
file then joins the step's planned files, so later steps, checks, ``verify`` and
``export`` see it like any other output.

Policies: ``RECORDED`` (verify, list) never reruns a file the manifest vouches for - when
its inputs changed it is reported stale; ``CURRENT`` (build, run, check, export) reruns
what changed; ``RECHECK`` (verify --checks) reruns every derivation and reports bytes
that differ from the recorded ones for unchanged inputs (non-determinism, or an edit
that also rewrote the manifest).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from runner.drift import NOT_REPRODUCIBLE, STALE
from runner.errors import DeriveError
from runner.manifest import Entry
from runner.model import Source
from runner.plan import Plan, PlannedDerivation, PlannedFile, StepPlan

if TYPE_CHECKING:
    from runner.checks import Deriver

RECORDED, CURRENT, RECHECK = "recorded", "current", "recheck"
_FORMAT = "wf-derive-1"


@dataclass(frozen=True)
class DeriveOptions:
    policy: str  # RECORDED | CURRENT | RECHECK
    root: Path  # the project: its .wf/ holds venvs and derived bytes (made on first need)
    python: str | None = None  # --python for the venv
    env: Mapping[str, str] | None = None  # default os.environ


@dataclass(frozen=True)
class Finding:
    """A derived output whose recorded bytes cannot be trusted as they are."""

    kind: str  # STALE | NOT_REPRODUCIBLE
    key: str  # "NN-slug/path" below sdlc/<set>/
    source: Source  # the declaration
    detail: str = ""


@dataclass(frozen=True)
class Recorded:
    """What an earlier build left: the manifest entries and the files of ``sdlc/<set>/``."""

    entries: Mapping[str, Entry]
    out_dir: Path | None

    def disk(self, key: str) -> bytes | None:
        if self.out_dir is None:
            return None
        try:
            return (self.out_dir / key).read_bytes()
        except OSError:
            return None


@dataclass
class Derivations:
    plan: Plan
    findings: list[Finding] = field(default_factory=list)


def derive(plan: Plan, recorded: Recorded, options: DeriveOptions) -> Derivations:
    """The plan with every derived output filled in (a new plan; ``plan`` is unchanged)."""
    if not any(sp.derivations for sp in plan.steps):
        return Derivations(plan)
    result = Derivations(replace(plan, steps=[]))
    with _Runner(options) as runner:
        for sp in plan.steps:
            done = StepPlan(sp.step, dict(sp.files), sp.derivations)
            result.plan.steps.append(done)
            for derivation in sp.derivations:
                tree = {p: f.content for p, f in result.plan.assembled(sp.step.number).items()}
                planned, finding = _resolve(
                    derivation, sp.step.folder, tree, recorded, options.policy, runner
                )
                done.files[derivation.path] = planned
                if finding is not None:
                    result.findings.append(finding)
    return result


def derive_on(
    derivation: PlannedDerivation, folder: str, tree: Mapping[str, bytes], options: DeriveOptions
) -> PlannedFile:
    """One derivation on a given tree (``wf apply``: the project it is applied to);
    the tree's own version of the file is the seed."""
    with _Runner(options) as runner:
        inputs = input_hash(derivation, {p: c for p, c in tree.items() if p != derivation.path})
        content = runner.content(derivation, dict(tree), inputs, seed=None)
    return _planned(derivation, folder, content, inputs)


def input_hash(derivation: PlannedDerivation, tree: Mapping[str, bytes]) -> str:
    """What the command's bytes depend on: the tree it runs in and how it is run."""
    from runner.checks._cache import tree_digest

    spec = derivation.spec
    fields = {
        "format": _FORMAT,
        "path": derivation.path,
        "capture": derivation.capture,
        "command": spec.command,
        "needs": sorted(spec.needs),
        "tree": tree_digest(tree),
    }
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def _resolve(
    derivation: PlannedDerivation,
    folder: str,
    tree: dict[str, bytes],
    recorded: Recorded,
    policy: str,
    runner: _Runner,
) -> tuple[PlannedFile, Finding | None]:
    key = f"{folder}/{derivation.path}"
    inputs = input_hash(derivation, tree)
    entry = recorded.entries.get(key)
    disk = recorded.disk(key)
    # ``recorded``: sdlc/ holds the bytes the manifest vouches for, and when they were made
    recorded_inputs = entry.inputs if entry is not None else None
    if disk is None or entry is None or hashlib.sha256(disk).hexdigest() != entry.sha256:
        recorded_inputs = None
    source = derivation.spec.source
    if disk is not None and recorded_inputs is not None:
        if recorded_inputs == inputs and policy != RECHECK:
            return _planned(derivation, folder, disk, inputs), None
        if policy == RECORDED:
            stale = Finding(STALE, key, source)
            return _planned(derivation, folder, disk, recorded_inputs), stale
    seed = disk if recorded_inputs is not None else None  # `uv lock` keeps its pins
    content = runner.content(derivation, tree, inputs, seed, cached=policy != RECHECK)
    if disk is not None and recorded_inputs == inputs and content != disk:  # RECHECK
        detail = "rerunning its command gave other bytes for the same inputs"
        differs = Finding(NOT_REPRODUCIBLE, key, source, detail)
        return _planned(derivation, folder, disk, inputs), differs
    return _planned(derivation, folder, content, inputs), None


def _planned(
    derivation: PlannedDerivation, folder: str, content: bytes, inputs: str | None
) -> PlannedFile:
    return PlannedFile(
        step=folder,
        path=derivation.path,
        content=content,
        sources=(derivation.spec.source,),
        inputs=inputs,
    )


class _Runner:
    """Runs derivation commands (the engine is started on the first one) and caches bytes
    under ``.wf/derived/`` by inputs and seed, so a rerun of the same tree costs nothing."""

    def __init__(self, options: DeriveOptions) -> None:
        self._options = options
        self._stack = contextlib.ExitStack()
        self._deriver: Deriver | None = None

    def __enter__(self) -> _Runner:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stack.close()

    def content(
        self,
        derivation: PlannedDerivation,
        tree: dict[str, bytes],
        inputs: str,
        seed: bytes | None,
        cached: bool = True,
    ) -> bytes:
        from runner.project import cache_dir

        store = cache_dir(self._options.root) / "derived"
        cache_key = hashlib.sha256(f"{inputs}\0".encode() + (seed or b"\0none")).hexdigest()
        if cached:
            with contextlib.suppress(OSError):
                return (store / cache_key).read_bytes()
        workspace = dict(tree)
        if seed is not None:
            workspace[derivation.path] = seed
        content = self._run(derivation, workspace)
        from runner.transaction import write_atomic

        with contextlib.suppress(OSError):  # not stored: it runs again next time
            write_atomic(store / cache_key, content)
        return content

    def _run(self, derivation: PlannedDerivation, workspace: dict[str, bytes]) -> bytes:
        from runner.checks import CheckOptions, DeriveJob, Deriver
        from runner.project import cache_dir

        if self._deriver is None:
            options = CheckOptions(
                cache_dir=cache_dir(self._options.root),
                python=self._options.python,
                env=self._options.env,
            )
            self._deriver = self._stack.enter_context(Deriver(options))
        spec = derivation.spec
        job = DeriveJob(
            spec.command, workspace, derivation.capture, spec.source, spec.needs, spec.timeout
        )
        derived = self._deriver.run(job)
        if derived.content is None:
            raise _failure(derivation, derived.reason, derived.output)
        return derived.content


def _failure(derivation: PlannedDerivation, reason: str, output: str) -> DeriveError:
    command = next((ln for ln in derivation.spec.command.splitlines() if ln.strip()), "")
    message = f"cannot derive {derivation.path}: `{command.strip()}` failed ({reason})"
    lines = output.rstrip("\n").splitlines()
    if lines:
        message += "\n" + "\n".join(f"    | {line}" for line in lines)
    source = derivation.spec.source
    return DeriveError(message, source.file, source.line)
