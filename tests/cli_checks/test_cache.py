"""The check result cache through the CLI (README "Checks": Speed)."""

from __future__ import annotations

from .util import block, check_block, run_json, step_doc, wf, write_project


def runs(marker):
    return len(marker.read_text().splitlines()) if marker.exists() else 0


def cached_project(tmp_path, command_tail=""):
    marker = tmp_path / "runs.log"
    doc = step_doc(
        "Keep",
        block("text path=data.txt", "version one\n"),
        "Prose above the check.\n",
        check_block(f"echo ran >> {marker}\ncat data.txt{command_tail}", name="side-effect"),
    )
    return write_project(tmp_path, {"01_keep.md": doc}), marker


def test_second_run_is_cached_and_does_not_rerun(tmp_path):
    root, marker = cached_project(tmp_path)
    first = wf(root, "check")
    assert first.exit_code == 0, first.output
    assert runs(marker) == 1
    assert "cached" not in first.stdout

    second = wf(root, "check")
    assert second.exit_code == 0
    assert runs(marker) == 1  # not run again
    assert "cached" in second.stdout

    code, report = run_json(root, "check")
    assert code == 0
    assert report["checks"][0]["cached"] is True
    assert report["checks"][0]["status"] == "passed"
    assert runs(marker) == 1


def test_changing_the_assembled_tree_reruns(tmp_path):
    root, marker = cached_project(tmp_path)
    assert wf(root, "check").exit_code == 0
    doc = root / "workflows" / "demo" / "01_keep.md"
    doc.write_text(doc.read_text().replace("version one", "version two"))
    result = wf(root, "check")
    assert result.exit_code == 0
    assert runs(marker) == 2
    assert "cached" not in result.stdout
    # ... and the new result is cached in turn.
    assert wf(root, "check").exit_code == 0
    assert runs(marker) == 2


def test_editing_prose_only_keeps_the_cache(tmp_path):
    root, marker = cached_project(tmp_path)
    assert wf(root, "check").exit_code == 0
    doc = root / "workflows" / "demo" / "01_keep.md"
    doc.write_text(doc.read_text().replace("Prose above the check.", "Longer prose.\n\nMore."))
    result = wf(root, "check")
    assert result.exit_code == 0
    assert runs(marker) == 1
    assert "cached" in result.stdout


def test_no_cache_reruns(tmp_path):
    root, marker = cached_project(tmp_path)
    assert wf(root, "check").exit_code == 0
    result = wf(root, "check", "--no-cache")
    assert result.exit_code == 0
    assert runs(marker) == 2
    assert "cached" not in result.stdout


def test_a_failing_check_is_rerun_every_time(tmp_path):
    root, marker = cached_project(tmp_path, command_tail="\nexit 1")
    for expected in (1, 2, 3):
        result = wf(root, "check")
        assert result.exit_code == 3
        assert runs(marker) == expected
        assert "cached" not in result.stdout


def test_a_later_step_changing_does_not_rerun_earlier_checks(tmp_path):
    log = tmp_path / "runs.log"
    docs = {
        "01_one.md": step_doc(
            "One",
            block("text path=one.txt", "first v1\n"),
            check_block(f"echo c1 >> {log}", name="c1"),
        ),
        "02_two.md": step_doc(
            "Two",
            block("text path=two.txt", "second v1\n"),
            check_block(f"echo c2 >> {log}", name="c2"),
        ),
    }
    root = write_project(tmp_path, docs)
    assert wf(root, "check").exit_code == 0
    doc = root / "workflows" / "demo" / "02_two.md"
    doc.write_text(doc.read_text().replace("second v1", "second v2"))
    code, report = run_json(root, "check")
    assert code == 0
    assert {c["name"]: c["cached"] for c in report["checks"]} == {"c1": True, "c2": False}
    assert sorted(log.read_text().split()) == ["c1", "c2", "c2"]

    # An earlier step's file is part of every later step's tree: both rerun.
    doc = root / "workflows" / "demo" / "01_one.md"
    doc.write_text(doc.read_text().replace("first v1", "first v2"))
    code, report = run_json(root, "check")
    assert code == 0
    assert {c["name"]: c["cached"] for c in report["checks"]} == {"c1": False, "c2": False}
