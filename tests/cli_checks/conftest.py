"""Every test runs with a neutral environment: no service URLs, no CI, no colour."""

from __future__ import annotations

import pytest

NEUTRAL = (
    "WF_POSTGRES_URL",
    "DATABASE_URL",
    "WF_REDIS_URL",
    "REDIS_URL",
    "WF_S3_ENDPOINT_URL",
    "S3_ENDPOINT_URL",
    "WF_PYTHON",
    "CI",
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
)


@pytest.fixture(autouse=True)
def neutral_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in NEUTRAL:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
