"""The author's-loop tests (pre-commit, shards, sync, watch, progress) run neutral too."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def neutral_env(monkeypatch: pytest.MonkeyPatch, neutral_vars: tuple[str, ...]) -> None:
    for var in neutral_vars:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
