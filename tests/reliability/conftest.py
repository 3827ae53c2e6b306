"""Reliability profiles: FAST (default, part of the normal suite and .ci/run) and LONG.

    WF_FUZZ_PROFILE=long .venv/bin/pytest tests/reliability -p no:randomly

The long profile tries many more examples and trials and rewrites docs/reliability.md
with the figures it measured.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

PROFILE = os.environ.get("WF_FUZZ_PROFILE", "fast")
LONG = PROFILE == "long"
FIGURES: Counter[str] = Counter()
REPORT = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"

settings.register_profile(
    "fast",
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    derandomize=True,  # CI is reproducible; the long profile explores
)
settings.register_profile(
    "long",
    max_examples=3000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile(PROFILE)


def count(name: str, amount: int = 1) -> None:
    """Add to one figure of docs/reliability.md."""
    FIGURES[name] += amount


@pytest.fixture(scope="session", autouse=True)
def _write_figures(request: pytest.FixtureRequest):
    yield
    if LONG and not request.session.testsfailed:
        from .report import render

        REPORT.parent.mkdir(exist_ok=True)
        REPORT.write_text(render(FIGURES), encoding="utf-8")
    if FIGURES:
        out = Path(os.environ.get("WF_FUZZ_FIGURES", "/dev/null"))
        if out != Path("/dev/null"):
            out.write_text(json.dumps(FIGURES, indent=1, sort_keys=True))
