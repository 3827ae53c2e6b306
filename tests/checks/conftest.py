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
def base_env() -> dict[str, str]:
    """The test process environment without service URLs a developer may have set."""
    env = dict(os.environ)
    for var in (
        "WF_POSTGRES_URL",
        "DATABASE_URL",
        "WF_REDIS_URL",
        "REDIS_URL",
        "WF_S3_ENDPOINT_URL",
        "S3_ENDPOINT_URL",
        "WF_PYTHON",
        "CI",
    ):
        env.pop(var, None)
    return env


@pytest.fixture
def options(tmp_path: Path, base_env: dict[str, str]) -> CheckOptions:
    return CheckOptions(cache_dir=tmp_path / ".wf", jobs=4, env=base_env)


def _pid_gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] in ("Z", "X")


@pytest.fixture
def pid_gone() -> Callable[[int], bool]:
    """pid_gone(pid): the process does not exist, or is a zombie nobody reaped yet."""
    return _pid_gone
