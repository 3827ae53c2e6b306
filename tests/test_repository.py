"""The committed sdlc/ tree must be exactly what this repository's documents produce."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner import build
from runner.project import load_sets

ROOT = Path(__file__).resolve().parent.parent
SETS = load_sets(ROOT)


def test_repository_has_workflow_sets() -> None:
    assert [s.name for s in SETS] == ["python-backend"]


@pytest.mark.parametrize("wset", SETS, ids=lambda s: s.name)
def test_sdlc_matches_documents(wset) -> None:
    differences = build.state(wset).differences
    assert [(d.kind, d.key) for d in differences] == [], "run `wf build` and commit sdlc/"


@pytest.mark.parametrize("wset", SETS, ids=lambda s: s.name)
def test_every_step_produces_files_in_its_own_folder(wset) -> None:
    plan = build.plan_set(wset)
    for step_plan in plan.steps:
        folder = ROOT / "sdlc" / wset.name / step_plan.step.folder
        assert step_plan.files, f"{step_plan.step.path.name} writes no file"
        for path in step_plan.files:
            assert (folder / path).is_file(), f"missing {folder / path}"
