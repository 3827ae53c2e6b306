"""Machine reports of checks (JSON, GitHub annotations, JUnit) and ``wf verify --checks``."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from .util import block, check_block, line_of, run_json, step_doc, wf, write_project

DOC = "workflows/demo/01_mixed.md"


@pytest.fixture
def mixed(tmp_path, monkeypatch):
    """Two passing checks, one failing, one skipped (PostgreSQL unreachable); cwd = root."""
    doc = step_doc(
        "Mixed",
        block("text path=a.txt", "a\n"),
        check_block("test -f a.txt", name="passes-one"),
        check_block("echo fine", name="passes-two"),
        check_block("echo failing-output-123\nexit 5", name="fails"),
        check_block("true", name="skips", needs="postgres"),
    )
    root = write_project(tmp_path, {"01_mixed.md": doc})
    monkeypatch.setenv("WF_POSTGRES_URL", "postgresql://postgres@127.0.0.1:1/x")
    monkeypatch.chdir(root)  # as in CI: paths in reports are relative to the checkout
    return root, doc


def test_json_report(mixed):
    root, doc = mixed
    code, report = run_json(root, "check")
    assert code == 3
    assert report["ok"] is False
    rows = {c["name"]: c for c in report["checks"]}
    assert set(rows) == {"passes-one", "passes-two", "fails", "skips"}
    for name, row in rows.items():
        assert row["file"] == DOC
        assert row["line"] == line_of(doc, f"name={name}")
    assert [rows[n]["status"] for n in ("passes-one", "passes-two", "fails", "skips")] == [
        "passed",
        "passed",
        "failed",
        "skipped",
    ]
    assert "failing-output-123" in rows["fails"]["output"]


def test_json_report_ok_when_everything_passes(tmp_path):
    root = write_project(tmp_path, {"01_ok.md": step_doc("Ok", check_block("true", name="t"))})
    code, report = run_json(root, "check")
    assert code == 0
    assert report["ok"] is True
    assert [c["status"] for c in report["checks"]] == ["passed"]


def test_github_annotations_land_on_the_markdown_line(mixed):
    root, doc = mixed
    result = wf(root, "check", "--format", "github")
    assert result.exit_code == 3
    line = line_of(doc, "name=fails")
    errors = [x for x in result.stdout.splitlines() if x.startswith("::error ")]
    assert len(errors) == 1, result.stdout
    assert errors[0].startswith(f"::error file={DOC},line={line}")
    assert "failing-output-123" in errors[0]
    # Not strict: the skip is not an error (at most a warning).
    assert f"line={line_of(doc, 'name=skips')}" not in "\n".join(errors)
    for passing in ("passes-one", "passes-two"):
        assert f"line={line_of(doc, f'name={passing}')}," not in result.stdout

    strict = wf(root, "check", "--format", "github", "--strict")
    assert strict.exit_code == 3
    errors = [x for x in strict.stdout.splitlines() if x.startswith("::error ")]
    assert len(errors) == 2
    assert any(
        x.startswith(f"::error file={DOC},line={line_of(doc, 'name=skips')}") for x in errors
    )


def test_junit_report(mixed, tmp_path):
    root, doc = mixed
    junit = tmp_path / "reports" / "junit.xml"
    junit.parent.mkdir()
    result = wf(root, "check", "--junit", str(junit))
    assert result.exit_code == 3
    tree = ET.parse(junit)
    top = tree.getroot()
    cases = list(top.iter("testcase"))
    assert len(cases) == 4
    suites = [top] if top.tag == "testsuite" else list(top.iter("testsuite"))
    assert sum(int(s.get("tests")) for s in suites) == 4
    assert sum(int(s.get("failures")) for s in suites) == 1
    assert sum(int(s.get("skipped", "0")) for s in suites) == 1
    by_name = {c.get("name"): c for c in cases}
    assert by_name["fails"].find("failure") is not None
    # The finding points at the Markdown line of the check.
    fails = by_name["fails"]
    assert (fails.get("file"), fails.get("line")) == (DOC, str(line_of(doc, "name=fails")))
    assert "failing-output-123" in ET.tostring(by_name["fails"], encoding="unicode")
    assert by_name["skips"].find("skipped") is not None
    assert by_name["passes-one"].find("failure") is None
    assert by_name["passes-one"].find("skipped") is None

    # Strict: the skip becomes a failure in the report too.
    assert wf(root, "check", "--strict", "--junit", str(junit)).exit_code == 3
    suites = list(ET.parse(junit).getroot().iter("testsuite"))
    assert sum(int(s.get("failures")) for s in suites) == 2


# --- wf verify --checks ----------------------------------------------------------------


def verify_project(tmp_path, check="grep -qx ok a.txt"):
    doc = step_doc("V", block("text path=a.txt", "ok\n"), check_block(check, name="v-check"))
    return write_project(tmp_path, {"01_v.md": doc})


def test_verify_checks_clean_is_0(tmp_path):
    root = verify_project(tmp_path)
    assert wf(root, "build").exit_code == 0
    result = wf(root, "verify", "--checks")
    assert result.exit_code == 0, result.output
    assert "v-check" in result.stdout


def test_verify_checks_drift_alone_is_1(tmp_path):
    root = verify_project(tmp_path)  # never built: every output is missing
    result = wf(root, "verify", "--checks")
    assert result.exit_code == 1
    code, report = run_json(root, "verify", "--checks")
    assert code == 1
    assert report["drift"], "missing outputs must be reported as drift"
    assert [c["status"] for c in report["checks"]] == ["passed"]  # the checks were fine
    assert report["ok"] is False


def test_verify_checks_failing_check_alone_is_3(tmp_path):
    root = verify_project(tmp_path, check="grep -qx not-ok a.txt")
    assert wf(root, "build").exit_code == 0
    assert wf(root, "verify").exit_code == 0  # no drift
    result = wf(root, "verify", "--checks")
    assert result.exit_code == 3
    assert "v-check" in result.stdout
    code, report = run_json(root, "verify", "--checks")
    assert code == 3
    assert report["drift"] == []
    assert [c["status"] for c in report["checks"]] == ["failed"]
    assert report["ok"] is False


def test_verify_checks_json_has_drift_and_checks(tmp_path):
    root = verify_project(tmp_path)
    assert wf(root, "build").exit_code == 0
    code, report = run_json(root, "verify", "--checks")
    assert code == 0
    assert report["ok"] is True
    assert report["drift"] == []
    assert [(c["name"], c["status"]) for c in report["checks"]] == [("v-check", "passed")]
    # Hand-edit an output: drift shows up in the same report, the check still passes.
    (root / "sdlc" / "demo" / "01-v" / "a.txt").write_text("edited\n")
    code, report = run_json(root, "verify", "--checks")
    assert code == 1
    assert [d["path"] for d in report["drift"]] == ["sdlc/demo/01-v/a.txt"]
    assert report["checks"][0]["status"] == "passed"
    json.dumps(report)  # plain data


def test_exit_codes_tell_drift_from_a_failed_check(tmp_path):
    root = verify_project(tmp_path, check="grep -qx not-ok a.txt")
    code, report = run_json(root, "verify")  # never built: drift only
    assert (code, report["exit_code"]) == (1, 1)
    code, report = run_json(root, "verify", "--checks")  # drift and a failed check
    assert (code, report["exit_code"]) == (3, 3)  # stop: regenerating would not help
    assert report["drift"] and report["checks"][0]["status"] == "failed"
    assert wf(root, "build").exit_code == 0
    code, report = run_json(root, "check")
    assert (code, report["exit_code"]) == (3, 3)
    fixed = verify_project(tmp_path / "ok")
    assert wf(fixed, "build").exit_code == 0
    code, report = run_json(fixed, "verify", "--checks")
    assert (code, report["exit_code"]) == (0, 0)


def test_help_documents_the_exit_codes():
    text = wf(None, "--help").stdout
    assert "1 drift or a refused overwrite" in text
    assert "2 bad input" in text
    assert "3 a check failed" in text
