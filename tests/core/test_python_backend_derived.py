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
