"""Fixtures shared by every test folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

# Variables a developer's shell may carry that would change what wf does in a test.
NEUTRAL_VARS = (
    "WF_POSTGRES_URL",
    "DATABASE_URL",
    "WF_REDIS_URL",
    "REDIS_URL",
    "WF_S3_ENDPOINT_URL",
    "S3_ENDPOINT_URL",
    "WF_PYTHON",
    "WF_CACHE_KEY",
    "CI",
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
)


@pytest.fixture
def neutral_vars() -> tuple[str, ...]:
    """Environment variables tests remove: service URLs, WF_PYTHON, CI, git overrides."""
    return NEUTRAL_VARS


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
