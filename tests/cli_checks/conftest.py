"""Every test runs with a neutral environment: no service URLs, no CI, no colour."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def neutral_env(monkeypatch: pytest.MonkeyPatch, neutral_vars: tuple[str, ...]) -> None:
    for var in neutral_vars:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
