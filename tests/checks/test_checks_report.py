"""Reporters: JUnit XML, GitHub annotations, JSON — each pointing at the Markdown line."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from runner.checks import CheckResult, github_annotations, junit_xml, results_json
from runner.model import CheckSpec, Source


def result(name: str, step: str, status: str, line: int, reason: str = "", output: str = ""):
    spec = CheckSpec(name, "true", step, Source(Path(f"workflows/demo/{step}_x.md"), line))
    return CheckResult(spec, status, 1.25, output, reason)


RESULTS = [
    result("compiles", "01", "passed", 10, output="ok\n"),
    result("tests", "01", "failed", 20, "exit code 1, expected 0", "\x1b[31mFAILED\x1b[0m x\x00\n"),
    result("slow", "02", "timeout", 5, "timed out after 1s"),
    result("db", "02", "skipped", 8, "PostgreSQL not reachable: set WF_POSTGRES_URL"),
    result("boom", "02", "error", 9, "cannot create a database: permission denied"),
]


def counts(element: ET.Element) -> tuple[int, int, int, int]:
    return tuple(int(element.get(k, "-1")) for k in ("tests", "failures", "errors", "skipped"))


def test_junit_has_one_suite_per_step_and_right_counts():
    root = ET.fromstring(junit_xml(RESULTS, strict=False))
    assert root.tag == "testsuites"
    assert counts(root) == (5, 2, 1, 1)
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert list(suites) == ["01", "02"]
    assert counts(suites["01"]) == (2, 1, 0, 0)
    assert counts(suites["02"]) == (3, 1, 1, 1)
    case = suites["01"].find("testcase[@name='tests']")
    assert case is not None
    assert (case.get("classname"), case.get("file"), case.get("line")) == (
        "01",
        "workflows/demo/01_x.md",
        "20",
    )
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("message") == "exit code 1, expected 0"
    assert failure.text == "FAILED x\n"  # colour codes and NUL removed: still valid XML
    assert suites["02"].find("testcase[@name='db']/skipped") is not None
    assert suites["02"].find("testcase[@name='boom']/error") is not None


def test_junit_strict_turns_skips_into_failures():
    root = ET.fromstring(junit_xml(RESULTS, strict=True))
    assert counts(root) == (5, 3, 1, 0)
    failure = root.find(".//testcase[@name='db']/failure")
    assert failure is not None
    assert "strict" in failure.get("message", "")


def test_github_annotations_point_at_the_markdown_line():
    lines = github_annotations(RESULTS, strict=False).splitlines()
    assert len(lines) == 4  # the passed check is silent
    pattern = re.compile(r"^::(error|warning) file=([^,]+),line=(\d+),title=([^:]+)::(.*)$")
    parsed = [pattern.match(line) for line in lines]
    assert all(parsed), lines
    first = parsed[0]
    assert first is not None
    assert first.groups()[:3] == ("error", "workflows/demo/01_x.md", "20")
    assert "%0A" in first.group(5)  # multi-line message escaped onto one line
    levels = {m.group(4): m.group(1) for m in parsed if m}
    assert levels["check db (step 02) skipped"] == "warning"


def test_github_annotations_strict_errors_on_skips_and_escapes_properties():
    odd = result("a,b: c", "03", "failed", 1, "100% broken")
    text = github_annotations([odd, *RESULTS], strict=True)
    assert "title=check a%2Cb%3A c (step 03) failed::100%25 broken" in text
    assert "::warning" not in text


def test_results_json_is_serialisable_and_flags_ok():
    data = results_json(RESULTS, strict=True)
    json.dumps(data)
    assert [d["ok"] for d in data] == [True, False, False, False, False]
    assert results_json(RESULTS, strict=False)[3]["ok"] is True
    assert data[1]["file"] == "workflows/demo/01_x.md"
    assert data[1]["line"] == 20
    assert data[1]["status"] == "failed"


def test_empty_results_still_make_valid_reports():
    root = ET.fromstring(junit_xml([], strict=True))
    assert counts(root) == (0, 0, 0, 0)
    assert github_annotations([], strict=True) == ""


def test_workflow_command_escaping_is_public_and_follows_the_spec():
    from runner.checks import escape_data, escape_property

    assert escape_data("100%\r\nnext: a, b") == "100%25%0D%0Anext: a, b"
    assert escape_property("100%\r\nnext: a, b") == "100%25%0D%0Anext%3A a%2C b"


def test_annotation_file_property_is_escaped_too():
    odd = CheckResult(
        CheckSpec("c", "true", "01", Source(Path("docs/a,b:c.md"), 3)), "failed", 1.0, ""
    )
    text = github_annotations([odd], strict=False)
    assert text.startswith("::error file=docs/a%2Cb%3Ac.md,line=3,")


def test_reports_name_files_relative_to_the_project_root_when_given(tmp_path, monkeypatch):
    project = tmp_path / "repo"
    doc = project / "workflows" / "demo" / "01_x.md"
    spec = CheckSpec("tests", "true", "01", Source(doc, 20))
    failed = [CheckResult(spec, "failed", 1.0, "boom\n", "exit code 1, expected 0")]
    monkeypatch.chdir(tmp_path)  # the working folder is not the project root
    assert results_json(failed, False)[0]["file"] == "repo/workflows/demo/01_x.md"  # as before
    assert results_json(failed, False, root=project)[0]["file"] == "workflows/demo/01_x.md"
    annotation = github_annotations(failed, False, root=project)
    assert annotation.startswith("::error file=workflows/demo/01_x.md,line=20,")
    case = ET.fromstring(junit_xml(failed, False, root=project)).find(".//testcase")
    assert case is not None
    assert case.get("file") == "workflows/demo/01_x.md"
    outside = CheckResult(
        CheckSpec("x", "true", "01", Source(Path("/elsewhere/01_x.md"), 1)), "failed", 0, ""
    )
    assert results_json([outside], False, root=project)[0]["file"] == "/elsewhere/01_x.md"


def test_cleanup_warnings_reach_every_report_of_a_passed_check(tmp_path):
    import dataclasses

    from runner.report import check_failures

    leaked = 'database wf_1 left on 127.0.0.1:5432: timed out; DROP DATABASE "wf_1" WITH (FORCE)'
    passed = dataclasses.replace(RESULTS[0], warnings=(leaked,))
    [entry] = results_json([passed], strict=False)
    assert (entry["status"], entry["warnings"]) == ("passed", [leaked])
    [annotation] = github_annotations([passed], strict=False).splitlines()
    assert annotation.startswith("::warning file=workflows/demo/01_x.md,line=10,")
    assert "wf_1 left on 127.0.0.1%3A5432" not in annotation  # data: only %, CR, LF escaped
    assert "wf_1 left on 127.0.0.1:5432" in annotation
    lines = list(check_failures([passed], tmp_path))
    assert len(lines) == 1
    assert lines[0].endswith(f"compiles: warning: {leaked}")
