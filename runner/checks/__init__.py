"""The check engine: run the checks a workflow declares, against the assembled project.

Public API (everything else in this package is private)::

    run_checks(jobs, options, progress=None) -> list[CheckResult]
    Deriver(options).run(DeriveJob(...)) -> Derived  # a derived output's bytes
    CheckJob, CheckOptions, CheckResult, SERVICE_KINDS
    check_id(spec), recorded_durations(cache_dir)  # a check's portable id; its last durations
    junit_xml(results, strict, root=None), github_annotations(results, strict, root=None),
    results_json(results, strict, root=None)
    escape_data(text), escape_property(text)  # GitHub workflow-command escaping

The data classes are cheap to import; ``run_checks`` and the reporters load their
modules on first use, so importing this package keeps ``wf --help`` fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from runner.checks._cache import ResultCache, check_id
from runner.checks._types import SERVICE_KINDS, CheckJob, CheckOptions, CheckResult

if TYPE_CHECKING:
    from pathlib import Path

    from runner.checks._derive import Derived, DeriveJob, Deriver
    from runner.checks._run import run_checks
    from runner.checks.report import (
        escape_data,
        escape_property,
        github_annotations,
        junit_xml,
        results_json,
    )

_LAZY = {
    "DeriveJob": "runner.checks._derive",
    "Derived": "runner.checks._derive",
    "Deriver": "runner.checks._derive",
    "run_checks": "runner.checks._run",
    "junit_xml": "runner.checks.report",
    "github_annotations": "runner.checks.report",
    "results_json": "runner.checks.report",
    "escape_data": "runner.checks.report",
    "escape_property": "runner.checks.report",
}

__all__ = [
    "SERVICE_KINDS",
    "CheckJob",
    "CheckOptions",
    "CheckResult",
    "DeriveJob",
    "Derived",
    "Deriver",
    "check_id",
    "escape_data",
    "escape_property",
    "github_annotations",
    "junit_xml",
    "recorded_durations",
    "results_json",
    "run_checks",
]


def recorded_durations(cache_dir: Path) -> dict[str, float]:
    """``check_id`` -> seconds the check took when it last ran, from the result cache."""
    return ResultCache(cache_dir).durations()


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
