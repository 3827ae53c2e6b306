"""``wf run`` and ``wf check``: check blocks, front-matter checks, the assembled project,
built-in syntax checks (README "Checks", DESIGN §4)."""

from __future__ import annotations

import time

from .util import (
    block,
    check_block,
    line_of,
    run_json,
    statuses,
    step_doc,
    wf,
    write_project,
)

# --- wf run ----------------------------------------------------------------------------


def two_steps(tmp_path, second_check="cat base.txt more.txt"):
    docs = {
        "01_base.md": step_doc(
            "Base",
            block("text path=base.txt", "base\n"),
            check_block("echo base-check-ran", name="base-ok"),
        ),
        "02_more.md": step_doc(
            "More",
            block("text path=more.txt", "more v1\n"),
            check_block(second_check, name="more-check"),
        ),
    }
    return write_project(tmp_path, docs), docs


def test_run_regenerates_the_step_then_runs_only_its_checks(tmp_path):
    root, _ = two_steps(tmp_path)
    result = wf(root, "run", "02")
    assert result.exit_code == 0, result.output
    out = root / "sdlc" / "demo"
    assert (out / "02-more" / "more.txt").read_text() == "more v1\n"
    assert not (out / "01-base").exists()  # only that step's folder is regenerated
    assert "more-check" in result.stdout
    assert "base-ok" not in result.stdout  # step 01's checks are not run
    assert "1 passed" in result.stdout

    # Editing the document and running again regenerates the file.
    doc = root / "workflows" / "demo" / "02_more.md"
    doc.write_text(doc.read_text().replace("more v1", "more v2"))
    assert wf(root, "run", "2").exit_code == 0
    assert (out / "02-more" / "more.txt").read_text() == "more v2\n"


def test_run_with_a_failing_check_exits_3_naming_the_check(tmp_path):
    root, docs = two_steps(tmp_path, second_check="echo boom-output-xyz\nexit 3")
    result = wf(root, "run", "02")
    assert result.exit_code == 3
    line = line_of(docs["02_more.md"], "bash check")
    assert f"workflows/demo/02_more.md:{line}" in result.stdout
    assert "exit code 3" in result.stdout
    assert "boom-output-xyz" in result.stdout
    assert "0 passed, 1 failed" in result.stdout
    # The step was still regenerated before its checks ran.
    assert (root / "sdlc" / "demo" / "02-more" / "more.txt").is_file()


def test_run_no_checks_only_regenerates(tmp_path):
    marker = tmp_path / "ran"
    root, _ = two_steps(tmp_path, second_check=f"touch {marker}\nexit 1")
    result = wf(root, "run", "02", "--no-checks")
    assert result.exit_code == 0, result.output
    assert (root / "sdlc" / "demo" / "02-more" / "more.txt").is_file()
    assert not marker.exists()
    assert "checks:" not in result.stdout
    # Without --no-checks the same check runs and fails.
    assert wf(root, "run", "02").exit_code == 3
    assert marker.exists()


# --- check block options ---------------------------------------------------------------


def test_check_block_options_expect_output_and_expect_exit(tmp_path):
    doc = step_doc(
        "Options",
        check_block('echo "version 1.2.3"', name="out-match", expect_output=r"version \d+\.\d+"),
        check_block("echo hello", name="out-mismatch", expect_output="^bye$"),
        check_block("echo on-stderr >&2", name="out-stderr", expect_output="on-stderr"),
        check_block("exit 3", name="exit-3", expect_exit=3),
        check_block("true", name="exit-0-wanted-3", expect_exit=3),
        check_block("false | true\necho not-reached", name="pipefail"),
        check_block("false\necho not-reached", name="errexit"),
    )
    root = write_project(tmp_path, {"01_options.md": doc})
    code, report = run_json(root, "check")
    assert code == 3
    assert statuses(report) == {
        "out-match": "passed",
        "out-mismatch": "failed",
        "out-stderr": "passed",
        "exit-3": "passed",
        "exit-0-wanted-3": "failed",
        "pipefail": "failed",
        "errexit": "failed",
    }
    by_name = {c["name"]: c for c in report["checks"]}
    assert "expect_output" in by_name["out-mismatch"]["reason"]
    assert "exit code 0" in by_name["exit-0-wanted-3"]["reason"]
    assert "3" in by_name["exit-0-wanted-3"]["reason"]
    assert "not-reached" not in by_name["errexit"]["output"]
    for name in by_name:
        assert by_name[name]["line"] == line_of(doc, f"name={name}")


def test_timeout_really_fires(tmp_path):
    doc = step_doc(
        "Slow",
        check_block("sleep 30", name="slow-block", timeout=1),
        front="checks:\n  - name: slow-front\n    run: sleep 30\n    timeout: 1\n",
    )
    root = write_project(tmp_path, {"01_slow.md": doc})
    start = time.monotonic()
    code, report = run_json(root, "check")
    elapsed = time.monotonic() - start
    assert code == 3
    assert statuses(report) == {"slow-block": "timeout", "slow-front": "timeout"}
    assert elapsed < 15, f"took {elapsed:.1f}s: the 1 s timeouts did not fire"
    text = wf(root, "check")
    assert text.exit_code == 3
    assert f"workflows/demo/01_slow.md:{line_of(doc, 'name=slow-block')}" in text.stdout
    assert "timeout" in text.stdout


def test_front_matter_checks_have_their_own_line(tmp_path):
    doc = step_doc(
        "Front",
        block("text path=f.txt", "front\n"),
        front=(
            "checks:\n"
            "  - name: fm-pass\n"
            "    run: grep -qx front f.txt\n"
            "  - name: fm-fail\n"
            "    run: 'echo fm-broken-output; exit 4'\n"
        ),
    )
    root = write_project(tmp_path, {"01_front.md": doc})
    code, report = run_json(root, "check")
    assert code == 3
    found = {c["name"]: (c["status"], c["line"], c["file"]) for c in report["checks"]}
    assert found["fm-pass"][:2] == ("passed", line_of(doc, "name: fm-pass"))
    assert found["fm-fail"][:2] == ("failed", line_of(doc, "name: fm-fail"))
    assert found["fm-fail"][2].endswith("workflows/demo/01_front.md")
    text = wf(root, "check")
    assert f"workflows/demo/01_front.md:{line_of(doc, 'name: fm-fail')}" in text.stdout
    assert "fm-broken-output" in text.stdout


def test_check_sees_the_project_assembled_up_to_its_step(tmp_path):
    docs = {
        "01_first.md": step_doc(
            "First",
            block("text path=a.txt", "first\n"),
            check_block(
                "grep -qx first a.txt\n! grep -q appended a.txt\ntest ! -e b.txt\ntest ! -e c.txt",
                name="in-01",
            ),
        ),
        "02_second.md": step_doc(
            "Second",
            block("text path=a.txt mode=append", "appended\n"),
            block("text path=b.txt", "second\n"),
            check_block(
                "grep -qx first a.txt\ngrep -qx appended a.txt\ntest -f b.txt\ntest ! -e c.txt",
                name="in-02",
            ),
        ),
        "03_third.md": step_doc(
            "Third",
            block("text path=c.txt", "third\n"),
            check_block("test -f a.txt -a -f b.txt -a -f c.txt", name="in-03"),
        ),
    }
    root = write_project(tmp_path, docs)
    code, report = run_json(root, "check")
    assert statuses(report) == {"in-01": "passed", "in-02": "passed", "in-03": "passed"}
    assert code == 0
    assert not (root / "sdlc").exists()  # check runs checks; it does not regenerate

    code, report = run_json(root, "check", "02")
    assert code == 0
    assert statuses(report) == {"in-02": "passed"}


def test_a_check_that_would_see_a_later_file_fails(tmp_path):
    """The negative of the test above: the probe really can fail."""
    docs = {
        "01_first.md": step_doc("First", check_block("test -e later.txt", name="sees-later")),
        "02_second.md": step_doc("Second", block("text path=later.txt", "x\n")),
    }
    root = write_project(tmp_path, docs)
    code, report = run_json(root, "check")
    assert code == 3
    assert statuses(report) == {"sees-later": "failed"}


# --- built-in syntax checks ------------------------------------------------------------


def test_broken_python_is_located_at_the_markdown_line(tmp_path, monkeypatch):
    good = block("python path=app/good.py", "def ok():\n    return 1\n")
    bad = block("python path=app/bad.py", "x = 1\ndef broken(:\n    pass\n")
    doc = step_doc("Py", good, "Some prose.\n", bad)
    root = write_project(tmp_path, {"01_py.md": doc})
    fence = line_of(doc, "path=app/bad.py")
    expected = fence + 2  # the second line of the block's file

    code, report = run_json(root, "check")
    assert code == 3
    failed = [c for c in report["checks"] if c["status"] != "passed"]
    assert len(failed) == 1, failed
    assert failed[0]["line"] == expected
    assert failed[0]["file"].endswith("workflows/demo/01_py.md")

    text = wf(root, "check")
    assert text.exit_code == 3
    assert f"workflows/demo/01_py.md:{expected}" in text.stdout

    monkeypatch.chdir(root)
    github = wf(root, "check", "--format", "github")
    errors = [x for x in github.stdout.splitlines() if x.startswith("::error ")]
    assert len(errors) == 1, github.stdout
    assert errors[0].startswith(f"::error file=workflows/demo/01_py.md,line={expected},")


def test_valid_python_passes_the_builtin_check(tmp_path):
    doc = step_doc("Py", block("python path=app/good.py", "def ok():\n    return 1\n"))
    root = write_project(tmp_path, {"01_py.md": doc})
    result = wf(root, "check")
    assert result.exit_code == 0, result.stdout
    assert "1 passed, 0 failed" in result.stdout


def test_broken_data_files_fail_at_their_block(tmp_path):
    blocks = {
        "good.toml": 'a = 1\n[t]\nb = "x"\n',
        "bad.toml": 'a = 1\nb = [\nc = "unterminated\n',
        "good.yaml": "a: 1\nb: [x, y]\n",
        "bad.yaml": "a: 1\nb: [x, y\nc: {\n",
        "good.json": '{"a": 1}\n',
        "bad.json": '{"a": 1,\n "b": }\n',
    }
    parts = [block(f"text path=conf/{name}", body) for name, body in blocks.items()]
    doc = step_doc("Data", *parts)
    root = write_project(tmp_path, {"01_data.md": doc})
    code, report = run_json(root, "check")
    assert code == 3
    failed = {c["line"] for c in report["checks"] if c["status"] == "failed"}
    assert len(failed) == 3, report["checks"]
    for name, body in blocks.items():
        fence = line_of(doc, f"path=conf/{name}")
        closing = fence + body.count("\n") + 1
        inside = {line for line in failed if fence <= line < closing}
        if name.startswith("bad"):
            assert len(inside) == 1, f"{name}: no failure located in its block"
        else:
            assert not inside, f"{name} is valid but reported at {inside}"
    text = wf(root, "check")
    for kind in ("TOML", "YAML", "JSON"):
        assert kind in text.stdout


def failed_lines(report):
    return sorted(c["line"] for c in report["checks"] if c["status"] != "passed")


def test_python_error_below_a_first_line_target_comment(tmp_path):
    doc = step_doc("Py", block("python", "# path: app/first.py\nx = 1\ndef broken(:\n    pass\n"))
    root = write_project(tmp_path, {"01_py.md": doc})
    code, report = run_json(root, "check")
    assert code == 3
    # The comment is left out of the file, but the line is counted in the document.
    assert failed_lines(report) == [line_of(doc, "def broken(:")]


def test_error_in_an_appended_block_is_located_in_that_block(tmp_path):
    docs = {
        "01_base.md": step_doc(
            "Base",
            block("python path=app/base.py", "a = 1\nb = 2\nc = 3\n"),
            block("yaml path=conf.yaml", "a: 1\nb: 2\n"),
        ),
        "02_more.md": step_doc(
            "More",
            block("python path=app/base.py mode=append", "d = 4\ne = (\n"),
            "Prose.\n\nMore prose.\n\nEven more prose, and more.\n",
            block("yaml path=conf.yaml mode=append", "c: 3\nd: [unclosed\n"),
            "The end.\n",
        ),
    }
    root = write_project(tmp_path, docs)
    code, report = run_json(root, "check", "02")
    assert code == 3
    doc = docs["02_more.md"]
    python_line = line_of(doc, "e = (")
    yaml_fence = line_of(doc, "path=conf.yaml")
    [python_fail, yaml_fail] = failed_lines(report)
    assert python_fail == python_line
    assert yaml_fence <= yaml_fail <= line_of(doc, "d: [unclosed") + 1  # inside the block


def test_error_from_a_patch_is_located_at_the_patch_block(tmp_path):
    base = "{\n" + "".join(f' "k{i}": {i},\n' for i in range(1, 9)) + ' "k9": 9\n}\n'
    diff = '--- a/conf.json\n+++ b/conf.json\n@@ -10,2 +10,2 @@\n- "k9": 9\n+ "k9": 9,\n }\n'
    docs = {
        "01_base.md": step_doc("Base", block("json path=conf.json", base)),
        "02_patch.md": step_doc("Patch", block("diff path=conf.json mode=patch", diff), "End.\n"),
    }
    root = write_project(tmp_path, docs)
    code, report = run_json(root, "check")
    assert code == 3
    doc = docs["02_patch.md"]
    fence = line_of(doc, "mode=patch")
    closing = fence + diff.count("\n") + 1
    [line] = failed_lines(report)
    assert fence <= line < closing, f"line {line} is outside the patch block {fence}-{closing}"
    assert [c["step"] for c in report["checks"] if c["status"] != "passed"] == ["02"]
