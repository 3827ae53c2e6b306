"""Profiles (README "Profiles"): the combinations of steps a set supports, each checked on
the project its own steps assemble."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from .util import block, check_block, line_of, run_json, step_doc, wf, write_project

WF_YAML = """\
vars: {}
profiles:
  full: {}
  minimal:
    without: ["02"]
"""


def fixture(tmp_path, wf_yaml: str = WF_YAML, runs=None, third_requires: str = "[1]"):
    """01 base; 02 cache (optional); 03 api, whose check wrongly relies on 02's file."""
    counted = f"echo ran >> {runs}\n" if runs else ""
    docs = {
        "01_base.md": step_doc(
            "Base",
            block("text path=base.txt", "base\n"),
            check_block(counted + "test -f base.txt", name="base-ok"),
        ),
        "02_cache.md": step_doc(
            "Cache",
            block("text path=cache.txt", "cache\n"),
            check_block("test -f cache.txt", name="cache-ok"),
            front="optional: true\n",
        ),
        "03_api.md": step_doc(
            "Api",
            block("text path=api.txt", "api\n"),
            check_block("cat cache.txt", name="api-uses-cache"),
            front=f"requires: {third_requires}\n",
        ),
    }
    return write_project(tmp_path, docs, wf_yaml=wf_yaml), docs


def by_profiles(payload):
    return {(c["name"], tuple(c["profiles"])): c["status"] for c in payload["checks"]}


def test_every_profile_runs_its_checks_on_its_own_steps(tmp_path):
    root, _ = fixture(tmp_path)
    code, payload = run_json(root, "check", "--all-profiles")
    assert code == 3
    assert by_profiles(payload) == {
        ("base-ok", ("full", "minimal")): "passed",  # same tree in both: run once
        ("cache-ok", ("full",)): "passed",  # 02 is not in minimal
        ("api-uses-cache", ("full",)): "passed",
        ("api-uses-cache", ("minimal",)): "failed",  # without 02 there is no cache.txt
    }


def test_without_a_profile_option_every_step_is_checked_unlabelled(tmp_path):
    root, _ = fixture(tmp_path)
    code, payload = run_json(root, "check")
    assert code == 0
    assert by_profiles(payload) == {
        ("base-ok", ()): "passed",
        ("cache-ok", ()): "passed",
        ("api-uses-cache", ()): "passed",
    }


def test_one_profile_and_the_reports_name_it(tmp_path):
    root, docs = fixture(tmp_path)
    junit = tmp_path / "junit.xml"
    result = wf(root, "check", "--profile", "minimal", "--junit", str(junit))
    assert result.exit_code == 3
    line = line_of(docs["03_api.md"], "bash check")
    assert f"workflows/demo/03_api.md:{line}: api-uses-cache [minimal]: failed" in result.stdout
    assert "cache-ok" not in result.stdout
    names = {case.get("name") for case in ET.parse(junit).iter("testcase")}
    assert names == {"base-ok [minimal]", "api-uses-cache [minimal]"}
    github = wf(root, "check", "--profile", "minimal", "--format", "github").stdout
    assert "title=check api-uses-cache [minimal] (step 03) failed" in github


def test_profiles_as_a_comma_list(tmp_path):
    root, _ = fixture(tmp_path)
    code, payload = run_json(root, "check", "--profile", "minimal,full")
    assert code == 3
    assert ("cache-ok", ("full",)) in by_profiles(payload)


def test_a_check_whose_tree_is_the_same_in_two_profiles_runs_once(tmp_path):
    runs = tmp_path / "runs"
    root, _ = fixture(tmp_path, runs=runs)
    result = wf(root, "check", "01", "--all-profiles", "--no-cache")
    assert result.exit_code == 0, result.output
    assert runs.read_text() == "ran\n"
    assert "base-ok [full, minimal]" in result.stdout


def test_verify_checks_all_profiles_and_sdlc_stays_the_full_build(tmp_path):
    root, _ = fixture(tmp_path)
    assert wf(root, "build").exit_code == 0
    assert (root / "sdlc" / "demo" / "02-cache" / "cache.txt").is_file()
    code, payload = run_json(root, "verify", "--checks", "--all-profiles")
    assert code == 3
    assert payload["drift"] == []
    assert by_profiles(payload)[("api-uses-cache", ("minimal",))] == "failed"
    # the step fixed not to rely on the optional step: every profile passes
    doc = root / "workflows" / "demo" / "03_api.md"
    doc.write_text(doc.read_text().replace("cat cache.txt", "cat api.txt"))
    assert wf(root, "build").exit_code == 0
    code, payload = run_json(root, "verify", "--checks", "--all-profiles")
    assert code == 0, payload


def test_run_checks_one_step_in_a_profile(tmp_path):
    root, _ = fixture(tmp_path)
    result = wf(root, "run", "03", "--profile", "minimal")
    assert result.exit_code == 3
    assert "api-uses-cache [minimal]" in result.stdout
    assert wf(root, "run", "03", "--profile", "full").exit_code == 0


def test_leaving_out_a_step_that_is_not_optional_is_an_input_error(tmp_path):
    config = WF_YAML.replace('["02"]', '["01", "02"]')
    root, _ = fixture(tmp_path, wf_yaml=config)
    for args in (("check", "--all-profiles"), ("build",), ("verify",)):
        result = wf(root, *args)
        assert result.exit_code == 2, args
        assert (
            "workflows/demo/wf.yaml:4: profile 'minimal' leaves out step 01, which is not optional"
            in result.stderr
        ), result.stderr
    assert not (root / "sdlc").exists()


def test_leaving_out_a_step_a_kept_step_requires_names_both(tmp_path):
    root, _ = fixture(tmp_path, third_requires="[1, 2]")
    result = wf(root, "check", "--profile", "minimal")
    assert result.exit_code == 2
    assert (
        "workflows/demo/wf.yaml:4: profile 'minimal' leaves out step 02, which step 03 requires"
        in result.stderr
    )


def test_unknown_profiles_and_steps_are_input_errors(tmp_path):
    root, _ = fixture(tmp_path)
    result = wf(root, "check", "--profile", "tiny")
    assert result.exit_code == 2
    assert "set 'demo' has no profile 'tiny' (profiles: full, minimal)" in result.stderr
    bad = WF_YAML.replace('["02"]', '["09"]')
    root, _ = fixture(tmp_path / "b", wf_yaml=bad)
    result = wf(root, "build")
    assert result.exit_code == 2
    assert "wf.yaml:4: profile 'minimal' leaves out step 09, which does not exist" in result.stderr
    root, _ = fixture(tmp_path / "c", wf_yaml="profiles:\n  minimal: {skip: ['02']}\n")
    result = wf(root, "build")
    assert result.exit_code == 2
    assert "wf.yaml:2: profile 'minimal': unknown key 'skip'" in result.stderr


def test_a_set_without_profiles_has_one_full_profile(tmp_path):
    root, _ = fixture(tmp_path, wf_yaml="vars: {}\n")
    code, payload = run_json(root, "check", "--all-profiles")
    assert code == 0
    assert {tuple(c["profiles"]) for c in payload["checks"]} == {("full",)}
    assert wf(root, "check", "--profile", "minimal").exit_code == 2


def test_export_a_profile_with_a_derived_output_made_for_its_tree(tmp_path):
    root, docs = fixture(tmp_path)
    docs["03_api.md"] += "\n" + block(
        "bash derive path=files.txt from=stdout", "ls | grep -vx files.txt"
    )
    write_project(root, docs)
    assert wf(root, "build").exit_code == 0
    built = root / "sdlc" / "demo" / "03-api" / "files.txt"
    assert built.read_text() == "api.txt\nbase.txt\ncache.txt\n"
    target = tmp_path / "minimal"
    result = wf(root, "export", str(target), "--profile", "minimal")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in target.iterdir()) == ["api.txt", "base.txt", "files.txt"]
    assert (target / "files.txt").read_text() == "api.txt\nbase.txt\n"
    assert built.read_text() == "api.txt\nbase.txt\ncache.txt\n"  # sdlc/ untouched
    result = wf(root, "export", str(tmp_path / "two"), "--profile", "full,minimal")
    assert result.exit_code == 2 and "export takes one --profile" in result.stderr


def test_json_report_names_profiles_for_every_result(tmp_path):
    root, _ = fixture(tmp_path)
    result = wf(root, "check", "--all-profiles", "--format", "json")
    payload = json.loads(result.stdout)
    assert all(c["profiles"] for c in payload["checks"])


def test_without_optional_leaves_out_every_optional_step(tmp_path):
    root, _ = fixture(tmp_path, wf_yaml="profiles:\n  full: {}\n  lean: {without: optional}\n")
    code, payload = run_json(root, "check", "--profile", "lean")
    assert code == 3
    assert by_profiles(payload) == {
        ("base-ok", ("lean",)): "passed",
        ("api-uses-cache", ("lean",)): "failed",
    }
    root, _ = fixture(tmp_path / "b", wf_yaml="profiles:\n  lean: {without: optionals}\n")
    result = wf(root, "build")
    assert result.exit_code == 2
    assert "wf.yaml:2: profile 'lean': 'without' lists step numbers, or is 'optional'" in (
        result.stderr
    )


def test_run_refuses_a_step_the_profile_leaves_out(tmp_path):
    root, _ = fixture(tmp_path)
    result = wf(root, "run", "02", "--profile", "minimal")
    assert result.exit_code == 2
    assert "profile 'minimal' leaves out step 02" in result.stderr
    assert not (root / "sdlc").exists()


def test_list_shows_what_each_profile_leaves_out(tmp_path):
    root, _ = fixture(tmp_path)
    result = wf(root, "list")
    assert result.exit_code == 0
    assert "profile full: every step" in result.stdout
    assert "profile minimal: without 02" in result.stdout
