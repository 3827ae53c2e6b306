"""Step 06's promise, kept by the runner: the committed OpenAPI document is derived from
the app, so changing a route's response model in a document without `wf build` makes
`wf verify` fail and name `openapi/openapi.json` as stale (nothing is rerun to say so)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from .helpers import wf

ROOT = Path(__file__).resolve().parents[2]
SET = "python-backend"
SPEC = f"sdlc/{SET}/06-api-documentation/openapi/openapi.json"


def _copy(tmp_path: Path) -> Path:
    for part in ("workflows", "sdlc"):
        shutil.copytree(ROOT / part / SET, tmp_path / part / SET)
    return tmp_path


def _findings(root: Path) -> tuple[int, list[dict[str, object]]]:
    result = wf(root, "verify", "--format", "json", "--no-diff")
    report = json.loads(result.stdout)
    assert report["exit_code"] == result.exit_code
    return result.exit_code, list(report["drift"])


def test_a_changed_response_model_makes_the_derived_spec_stale(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    assert _findings(root) == (0, [])

    document = root / "workflows" / SET / "06_api_documentation.md"
    text = document.read_text(encoding="utf-8")
    changed = text.replace("    pages: int = Field(", "    page_count: int = Field(", 1)
    assert changed != text, "the v2 response model moved: update this test"
    document.write_text(changed, encoding="utf-8")

    code, findings = _findings(root)
    assert code == 1
    stale = {f["path"] for f in findings if f["kind"] == "stale"}
    assert SPEC in stale, findings
    assert f"sdlc/{SET}/06-api-documentation/app/api/v2/schemas.py" in stale


def test_an_earlier_steps_route_change_makes_it_stale_too(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    document = root / "workflows" / SET / "04_auth_security.md"
    text = document.read_text(encoding="utf-8")
    changed = text.replace("REGISTERED = (\n", "REGISTERED = (  # changed\n", 1)
    assert changed != text
    document.write_text(changed, encoding="utf-8")
    code, findings = _findings(root)
    assert code == 1
    assert SPEC in {f["path"] for f in findings if f["kind"] == "stale"}, findings


def test_every_later_step_has_the_document_of_its_own_app() -> None:
    """rederive=later: 07-10 derive it again, so the ten-step project's document lists
    the routes of 08 (sessions) and 09 (probes), and each copy was derived from its tree."""
    out = ROOT / "sdlc" / SET
    entries = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["files"]
    owner = entries["06-api-documentation/openapi/openapi.json"]["sources"]
    paths: dict[str, set[str]] = {}
    for folder in (
        "06-api-documentation",
        "07-testing-production",
        "08-caching-redis",
        "09-observability",
        "10-websocket-realtime",
    ):
        key = f"{folder}/openapi/openapi.json"
        assert entries[key]["sources"] == owner, key  # one derive block owns every copy
        spec = json.loads((out / key).read_text(encoding="utf-8"))
        paths[folder] = set(spec["paths"])
    assert "/api/v1/sessions" not in paths["07-testing-production"]
    assert "/api/v1/sessions" in paths["08-caching-redis"]
    assert "/health/ready" not in paths["08-caching-redis"]
    assert {"/api/v1/sessions", "/health/ready", "/health/startup"} <= paths[
        "10-websocket-realtime"
    ]


def test_a_later_steps_route_change_makes_its_copies_stale(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    document = root / "workflows" / SET / "09_observability.md"
    text = document.read_text(encoding="utf-8")
    changed = text.replace(
        '    "/ready",\n    summary="Readiness probe",',
        '    "/readiness",\n    summary="Readiness probe",',
        1,
    )
    assert changed != text, "09's readiness route moved: update this test"
    document.write_text(changed, encoding="utf-8")
    code, findings = _findings(root)
    assert code == 1
    stale = {f["path"] for f in findings if f["kind"] == "stale"}
    for folder in ("09-observability", "10-websocket-realtime"):
        assert f"sdlc/{SET}/{folder}/openapi/openapi.json" in stale, findings
    assert SPEC not in stale  # step 06's own copy: its tree did not change
