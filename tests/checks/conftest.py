"""Helpers for the check-engine tests: spec/job factories and isolated options."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from runner.checks import CheckJob, CheckOptions
from runner.model import CheckSpec, Source

MakeJob = Callable[..., CheckJob]


@pytest.fixture
def make_job() -> MakeJob:
    """make_job(command, files=None, name="c", step="01", line=1, **spec_fields)."""

    def make(
        command: str,
        files: Mapping[str, bytes] | None = None,
        *,
        name: str = "c",
        step: str = "01",
        line: int = 1,
        **fields: object,
    ) -> CheckJob:
        spec = CheckSpec(
            name=name,
            command=command,
            step=step,
            source=Source(Path(f"workflows/demo/{step}_demo.md"), line),
            **fields,  # type: ignore[arg-type]
        )
        return CheckJob(spec=spec, files=dict(files or {}))

    return make


@pytest.fixture
def base_env(neutral_vars: tuple[str, ...]) -> dict[str, str]:
    """The test process environment without service URLs a developer may have set."""
    return {k: v for k, v in os.environ.items() if k not in neutral_vars}


@pytest.fixture
def options(tmp_path: Path, base_env: dict[str, str]) -> CheckOptions:
    return CheckOptions(cache_dir=tmp_path / ".wf", jobs=4, env=base_env)
