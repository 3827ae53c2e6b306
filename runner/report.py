"""Render results for people (text) and machines (JSON, GitHub annotations)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from runner.checks import escape_data, escape_property
from runner.drift import (
    HAND_EDITED,
    MANIFEST_STALE,
    NOT_REPRODUCIBLE,
    ORPHANED,
    UNTRACKED,
    Difference,
)
from runner.errors import printable
from runner.model import Source, Step

if TYPE_CHECKING:
    from runner.build import Verification
    from runner.checks import CheckResult
    from runner.checks.shard import Split
    from runner.model import CheckSpec

FIXES = {
    "stale": "wf build {set}",
    "missing": "wf build {set}",
    "manifest": "wf build {set}",
    HAND_EDITED: "move the edit into {owner}, then wf build {set} (--force discards it)",
    ORPHANED: "wf build {set}",
    UNTRACKED: "delete it, or produce it from a document",
    NOT_REPRODUCIBLE: "make the command at {owner} give the same bytes on every run",
}


def use_color() -> bool:
    return "NO_COLOR" not in os.environ and sys.stdout.isatty()


def style(text: str, **kwargs: Any) -> str:
    return click.style(text, **kwargs) if use_color() else text


def fix_for(difference: Difference, set_name: str) -> str:
    owner = difference.owners[0] if difference.owners else "its document"
    template = FIXES.get(difference.kind, "wf build {set}")
    if difference.kind == ORPHANED and difference.edited:
        template = "wf build --force {set} (it was edited by hand; save what you need first)"
    return template.format(set=f"--set {set_name}", owner=owner)


def verification_text(result: Verification, show_diff: bool) -> str:
    lines = []
    for set_name, differences in result.differences.items():
        lines.append(_drift_text(set_name, differences, show_diff))
        files = result.uncommitted.get(set_name, [])
        lines += [f"  not committed ({status}): {printable(path)}" for status, path in files]
        if files:
            lines.append(f"{set_name}: sdlc/{set_name} differs from git HEAD; commit it")
    return "\n".join(lines)


def _drift_text(set_name: str, differences: list[Difference], show_diff: bool) -> str:
    if not differences:
        return f"{set_name}: sdlc/{set_name} matches the documents"
    lines = [style(f"{set_name}: {len(differences)} difference(s) in sdlc/{set_name}", bold=True)]
    for difference in differences:
        lines.append(_difference_line(set_name, difference))
        if show_diff and difference.kind not in (MANIFEST_STALE, UNTRACKED, ORPHANED):
            lines.append(difference.unified_diff(f"sdlc/{set_name}/").rstrip("\n"))
    return "\n".join(line for line in lines if line)


def _difference_line(set_name: str, difference: Difference) -> str:
    kind = style(f"{difference.kind:<11}", fg="red" if difference.kind == HAND_EDITED else "yellow")
    owner = f"  (from {', '.join(difference.owners)})" if difference.owners else ""
    fix = f"\n    fix: {fix_for(difference, set_name)}"
    return f"  {kind} sdlc/{set_name}/{printable(difference.key)}{owner}{fix}"


def verification_json(result: Verification) -> list[dict[str, Any]]:
    return [
        {
            "set": set_name,
            "kind": d.kind,
            "path": f"sdlc/{set_name}/{d.key}",
            "owners": list(d.owners),
            "fix": fix_for(d, set_name),
            "diff": d.unified_diff(f"sdlc/{set_name}/"),
        }
        for set_name, differences in result.differences.items()
        for d in differences
    ]


def uncommitted_json(result: Verification) -> list[dict[str, str]]:
    return [
        {"set": set_name, "status": status, "path": path}
        for set_name, files in result.uncommitted.items()
        for status, path in files
    ]


def verification_github(result: Verification) -> str:
    """``::error`` annotations: drift on the Markdown line that owns each file."""
    lines = []
    for set_name, differences in result.differences.items():
        for d in differences:
            message = f"{d.kind}: sdlc/{set_name}/{d.key} - fix: {fix_for(d, set_name)}"
            lines.append(f"::error {_where(set_name, d)},title=wf drift::{escape_data(message)}")
    for files in result.uncommitted.values():
        for status, path in files:
            message = f"generated file differs from git HEAD (git status {status}); commit it"
            where = f"file={escape_property(path)}"
            lines.append(f"::error {where},title=wf not committed::{escape_data(message)}")
    return "".join(line + "\n" for line in lines)


def _where(set_name: str, difference: Difference) -> str:
    """The Markdown line that owns the file, or the file itself when no block does."""
    if not difference.owners:
        return f"file={escape_property(f'sdlc/{set_name}/{difference.key}')}"
    file, _, line = difference.owners[0].rpartition(":")
    return f"file={escape_property(file)},line={line}"


def warning_lines(
    warnings: Iterable[tuple[Source, str]], root: Path, github: bool = False
) -> Iterable[str]:
    for source, message in warnings:
        if github:
            file, _, line = source.label(root).rpartition(":")
            where = f"file={escape_property(file)},line={line}"
            yield f"::warning {where},title=wf::{escape_data(message)}"
        else:
            yield f"wf: warning: {source.label(root)}: {message}"


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)


def step_line(step: Step, status: str) -> str:
    flags = " (optional)" if step.optional else ""
    colour = "green" if status == "up-to-date" else "yellow"
    return (
        f"{step.number}  {step.id:<26} {style(f'{status:<11}', fg=colour)} "
        f"{len(step.blocks):>3} blocks {len(step.checks):>3} checks  {printable(step.title)}{flags}"
    )


def profile_line(name: str, left_out: list[str]) -> str:
    without = f"without {', '.join(left_out)}" if left_out else "every step"
    return f"profile {name}: {without}"


def step_detail(step: Step, root: Path, set_name: str) -> Iterable[str]:
    yield style(f"{step.number} {printable(step.title)}", bold=True)
    document = step.path.relative_to(root) if step.path.is_relative_to(root) else step.path
    yield f"  document: {printable(str(document))}"
    yield f"  output:   sdlc/{set_name}/{step.folder}/"
    if step.requires:
        yield f"  requires: {', '.join(step.requires)}"
    if step.optional:
        yield "  optional: yes"
    if step.generate:
        yield f"  generates from: {printable(str(step.generate['templates']))}"
    yield f"  blocks ({len(step.blocks)}):"
    for block in step.blocks:
        extra = [block.mode] if block.mode != "write" else []
        extra += ["template"] * block.template + ["skeleton"] * block.skeleton
        extra += [f"#{block.name}"] if block.name else []
        suffix = f"  [{', '.join(extra)}]" if extra else ""
        yield f"    line {block.source.line:>5}  {printable(block.target)}{suffix}"
    if step.fragments:
        yield f"  named blocks ({len(step.fragments)}):"
    for fragment in step.fragments:
        yield f"    line {fragment.source.line:>5}  <<{fragment.name}>>"
    if step.derivations:
        yield f"  derived ({len(step.derivations)}):"
    for derivation in step.derivations:
        command = next((ln.strip() for ln in derivation.command.splitlines() if ln.strip()), "")
        how = f"derived from {derivation.capture} of: {command}"
        needs = f"; needs {','.join(derivation.needs)}" if derivation.needs else ""
        again = "; derived again by every later step" if derivation.rederive else ""
        target = printable(derivation.target)
        yield f"    line {derivation.source.line:>5}  {target}  [{how}{needs}{again}]"
    yield f"  checks ({len(step.checks)}):"
    for check in step.checks:
        needs = f"  needs {','.join(check.needs)}" if check.needs else ""
        yield f"    line {check.source.line:>5}  {printable(check.name)}{needs}"


STATUS_LABELS = {
    "passed": ("PASS", "green"),
    "failed": ("FAIL", "red"),
    "timeout": ("TIME", "red"),
    "error": ("ERR ", "red"),
    "skipped": ("SKIP", "yellow"),
}


def check_line(result: CheckResult, root: Path) -> str:
    """One line for a finished check: status, step, name, duration, Markdown location."""
    label, colour = STATUS_LABELS.get(result.status, ("????", "red"))
    cached = ", cached" if result.cached else ""
    where = result.spec.source.label(root)
    return (
        f"  {style(label, fg=colour, bold=True)}  {result.spec.step} {printable(result.spec.title)}"
        f"  ({result.duration:.1f}s{cached})  {where}"
    )


def check_failures(results: list[CheckResult], root: Path) -> Iterable[str]:
    """Details of every check that did not pass: location, reason, output tail; and the
    warnings of every check (what its cleanup left behind)."""
    for result in results:
        where = f"{result.spec.source.label(root)}: {printable(result.spec.title)}"
        yield from (f"{where}: warning: {warning}" for warning in result.warnings)
        if result.status == "passed":
            continue
        yield f"{where}: {result.status}"
        if result.reason:
            yield f"    {result.reason}"
        if result.status != "skipped" and result.output.strip():
            tail = result.output.rstrip("\n").splitlines()[-40:]
            yield from (f"    | {line}" for line in tail)


def check_summary(results: list[CheckResult], strict: bool) -> str:
    passed = sum(r.status == "passed" for r in results)
    skipped = sum(r.status == "skipped" for r in results)
    failed = len(results) - passed - skipped
    note = " (strict: skipped checks fail)" if strict and skipped else ""
    return f"checks: {passed} passed, {failed} failed, {skipped} skipped{note}"


def shards_json(split: Split, specs: dict[str, CheckSpec], root: Path) -> dict[str, Any]:
    """``wf check --list-shards N --format json``: every shard's checks and weights."""
    return {
        "count": len(split.shards),
        "measured": split.measured,
        "fingerprint": split.fingerprint,
        "shards": [
            {
                "index": index,
                "seconds": round(split.load(index), 3),
                "checks": [
                    {
                        "id": check,
                        "step": specs[check].step,
                        "name": specs[check].name,
                        "source": specs[check].source.label(root),
                        "seconds": round(split.weights[check], 3),
                    }
                    for check in members
                ],
            }
            for index, members in enumerate(split.shards, start=1)
        ],
    }


def shards_text(split: Split, specs: dict[str, CheckSpec], root: Path) -> Iterable[str]:
    """``wf check --list-shards N``: one heading per shard, one line per check."""
    basis = "recorded durations" if split.measured else "counts (no durations recorded yet)"
    yield f"{len(split.shards)} shard(s), balanced by {basis}; split {split.fingerprint}"
    for index, members in enumerate(split.shards, start=1):
        heading = f"shard {index}/{len(split.shards)}: {len(members)} check(s)"
        if split.measured:
            heading += f", ~{split.load(index):.1f}s"
        yield style(heading, bold=True)
        for check in members:
            spec = specs[check]
            seconds = f"  {split.weights[check]:.1f}s" if split.measured else ""
            yield f"  [{spec.step}] {spec.title}  {spec.source.label(root)}{seconds}"


def shard_line(about: dict[str, Any]) -> str:
    """What a ``--shard K/N`` run covered (``about`` is the JSON report's ``shard``)."""
    return (
        f"shard {about['index']}/{about['count']}: {about['checks']} of {about['of']} "
        f"check(s), split {about['fingerprint']}"
    )
