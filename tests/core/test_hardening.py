"""Hardening found in review: patches, templates, front matter, lenient prose fences,
captions, step names, hostile paths, built-in syntax checks (DESIGN §2, §3, §9)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from runner.discover import StepFile, find_sets, find_steps
from runner.errors import DocumentError, PathError, PlanError
from runner.model import Source, Step
from runner.parse import parse_step
from runner.patch import SEVERAL_FILES, PatchFailed, apply_patch, patch_target
from runner.paths import clean_target
from runner.plan import Plan, make_plan
from runner.syntax import (
    data_syntax_problems,
    python_problems,
    python_syntax_check,
)

from .helpers import block, line_of, write_project


def parse(tmp_path: Path, text: str, name: str = "01_demo.md") -> Step:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    number, slug = name[:-3].split("_", 1)
    return parse_step(StepFile(number, slug, path))


def parse_error(tmp_path: Path, text: str) -> DocumentError:
    with pytest.raises(DocumentError) as info:
        parse(tmp_path, text)
    return info.value


def plan_of(tmp_path: Path, steps: dict[str, str]) -> Plan:
    root = write_project(tmp_path, steps)
    found = find_steps(root / "workflows" / "demo")
    return make_plan("demo", [parse_step(f) for f in found])


def doc(tmp_path: Path, name: str) -> Path:
    return tmp_path / "workflows" / "demo" / name


# --- 1. hunk bodies are read by the counts of their @@ header ----------------------------

SQL = "SELECT 1;\n-- drop me\nSELECT 2;\n"


def test_removing_a_line_that_starts_with_two_dashes():
    diff = "--- a/db.sql\n+++ b/db.sql\n@@ -1,3 +1,2 @@\n SELECT 1;\n--- drop me\n SELECT 2;\n"
    assert apply_patch(SQL, diff) == "SELECT 1;\nSELECT 2;\n"


def test_a_hunk_of_only_header_like_lines_is_applied_not_skipped():
    diff = "@@ -2 +2 @@\n--- drop me\n+++ keep me\n"
    assert apply_patch(SQL, diff) == "SELECT 1;\n++ keep me\nSELECT 2;\n"


def test_body_line_starting_with_plus_signs_is_not_the_target_header():
    diff = "@@ -2 +2 @@\n--- drop me\n+++ keep me\n"
    assert patch_target(diff) is None
    assert patch_target("--- a/x.sql\n+++ b/x.sql\n" + diff) == "x.sql"


def test_blank_line_before_the_closing_fence_is_not_context():
    diff = "--- a/a.py\n+++ b/a.py\n@@ -1,2 +1,2 @@\n A = 1\n-B = 2\n+B = 3\n\n"
    assert apply_patch("A = 1\nB = 2\n", diff) == "A = 1\nB = 3\n"


def test_patch_block_ending_in_a_blank_line_applies_through_the_plan(tmp_path):
    patch = "--- a/a.py\n+++ b/a.py\n@@ -1,2 +1,2 @@\n A = 1\n-B = 2\n+B = 3\n\n"
    plan = plan_of(
        tmp_path,
        {
            "01_a.md": "# A\n\n" + block("python path=a.py", "A = 1\nB = 2\n"),
            "02_b.md": "# B\n\n" + block("diff path=a.py mode=patch", patch),
        },
    )
    assert plan.assembled()["a.py"].content == b"A = 1\nB = 3\n"


def test_blank_context_inside_a_hunk_still_counts():
    diff = "@@ -1,3 +1,3 @@\n A\n\n-B\n+C\n"
    assert apply_patch("A\n\nB\n", diff) == "A\n\nC\n"


def test_text_after_a_complete_hunk_is_an_error():
    diff = "@@ -1,1 +1,1 @@\n-A\n+B\n C\n"
    with pytest.raises(PatchFailed, match="follows hunk 1"):
        apply_patch("A\nC\n", diff)


def test_hunk_shorter_than_its_header_is_an_error():
    with pytest.raises(PatchFailed, match="hunk 1 ends early"):
        apply_patch("A\nB\nC\n", "@@ -1,3 +1,3 @@\n A\n-B\n+X\n")
    with pytest.raises(PatchFailed, match="hunk 1 ends early"):
        apply_patch("A\nB\n", "@@ -1,2 +1,2 @@\n A\n@@ -2 +2 @@\n-B\n+C\n")


def test_no_newline_marker_after_the_last_line():
    diff = "@@ -1 +1 @@\n-A\n\\ No newline at end of file\n+B\n\\ No newline at end of file\n"
    assert apply_patch("A", diff) == "B"


def test_two_hunks_and_git_headers():
    diff = (
        "diff --git a/a.txt b/a.txt\nindex 1234..5678 100644\n--- a/a.txt\n+++ b/a.txt\n"
        "@@ -1 +1 @@\n-a\n+A\n@@ -3 +3 @@\n-c\n+C\n"
    )
    assert apply_patch("a\nb\nc\n", diff) == "A\nb\nC\n"


# --- 2. one block, one file -----------------------------------------------------------


def test_patch_naming_several_files_is_an_error():
    diff = (
        "--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-a\n+A\n"
        "--- a/b.txt\n+++ b/b.txt\n@@ -1 +1 @@\n-b\n+B\n"
    )
    with pytest.raises(PatchFailed, match="several files"):
        apply_patch("a\n", diff)
    with pytest.raises(PatchFailed, match="several files"):
        apply_patch("a\n", "diff --git a/a b/a\n@@ -1 +1 @@\n-a\n+A\ndiff --git a/b b/b\n")


def test_patch_naming_several_files_fails_at_the_block(tmp_path):
    diff = (
        "--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-a\n+A\n"
        "--- a/b.txt\n+++ b/b.txt\n@@ -1 +1 @@\n-b\n+B\n"
    )
    second = "# B\n\n" + block("diff path=a.txt mode=patch", diff)
    first = "# A\n\n" + block("text path=a.txt", "a\nb\n")  # both hunks would apply
    with pytest.raises(PlanError) as info:
        plan_of(tmp_path, {"01_a.md": first, "02_b.md": second})
    assert SEVERAL_FILES in info.value.message
    assert (info.value.file, info.value.line) == (doc(tmp_path, "02_b.md"), 3)


# --- 3. template runtime errors and variable names -------------------------------------


@pytest.mark.parametrize(
    ("expression", "needle"),
    [("{{ x + 1 }}", "TypeError"), ("{{ 1/0 }}", "ZeroDivisionError")],
)
def test_template_runtime_error_is_a_plan_error_at_the_block(tmp_path, expression, needle):
    text = "---\nvars: {x: text}\n---\n# A\n\n" + block("python path=a.py template", expression)
    with pytest.raises(PlanError) as info:
        plan_of(tmp_path, {"01_a.md": text})
    assert needle in info.value.message
    assert (info.value.file, info.value.line) == (doc(tmp_path, "01_a.md"), 6)


def test_vars_keys_must_be_names(tmp_path):
    error = parse_error(tmp_path, "---\ntitle: T\nvars:\n  1: one\n---\n")
    assert "'vars'" in error.message
    assert error.line == 3


def test_generate_instance_keys_must_be_names(tmp_path):
    text = "---\ngenerate:\n  templates: t\n  instances:\n    - {null: x}\n---\n"
    error = parse_error(tmp_path, text)
    assert "generate.instances" in error.message
    assert error.line == 2


# --- 4. front matter: merge keys, duplicates, numbers, names ---------------------------


def test_merge_key_is_validated_not_a_crash(tmp_path):
    error = parse_error(tmp_path, "---\n<<: {title: 5}\n---\n")
    assert "'title' must be a str" in error.message
    step = parse(tmp_path, "---\nbase: &b {title: Merged}\n---\n".replace("base", "<<"))
    assert step.title == "Merged"


def test_duplicate_front_matter_key(tmp_path):
    error = parse_error(tmp_path, "---\ntitle: A\noptional: true\ntitle: B\n---\n")
    assert "'title' is given twice (first at line 2)" in error.message
    assert error.line == 4


def test_duplicate_nested_key(tmp_path):
    error = parse_error(tmp_path, "---\nvars:\n  a: 1\n  a: 2\n---\n")
    assert "'a' is given twice" in error.message
    assert error.line == 4


@pytest.mark.parametrize("value", ["1e400", ".nan", ".inf", "-3", "true"])
def test_front_matter_timeout_must_be_finite_and_positive(tmp_path, value):
    text = f"---\nchecks:\n  - run: 'true'\n    timeout: {value}\n---\n"
    error = parse_error(tmp_path, text)
    assert "timeout must be" in error.message
    assert error.line == 3


@pytest.mark.parametrize("value", ["inf", "nan", "1e400"])
def test_check_block_timeout_must_be_finite(tmp_path, value):
    error = parse_error(tmp_path, "# T\n\n" + block(f"bash check timeout={value}", "true\n"))
    assert "timeout must be" in error.message
    assert error.line == 3


@pytest.mark.parametrize("value", ["1.7", "true", "'x'"])
def test_expect_exit_must_be_a_whole_number(tmp_path, value):
    text = f"---\nchecks:\n  - run: 'false'\n    expect_exit: {value}\n---\n"
    assert "expect_exit must be a whole number" in parse_error(tmp_path, text).message
    fence = "# T\n\n" + block("bash check expect_exit=1.7", "false\n")
    assert "expect_exit must be a whole number" in parse_error(tmp_path, fence).message


def test_expect_exit_accepts_whole_numbers(tmp_path):
    text = "---\nchecks:\n  - {run: 'false', expect_exit: 2, name: a}\n---\n"
    text += block("bash check expect_exit=3", "false\n")
    assert [c.expect_exit for c in parse(tmp_path, text).checks] == [2, 3]


def test_check_name_must_be_a_string(tmp_path):
    error = parse_error(tmp_path, "---\nchecks:\n  - {name: 5, run: 'true'}\n---\n")
    assert "'name' must be a string" in error.message
    assert error.line == 3


# --- 5. strict where wf acts, lenient on prose examples --------------------------------


@pytest.mark.parametrize(
    "info",
    [
        "js {1,3}",
        "shell session",
        'python {.numberLines startFrom="5"}',
        "text it's quoted",
        "console $ prompt",
        "python linenums=1 data-line=3",
    ],
)
def test_prose_examples_ignore_unknown_info_words(tmp_path, info):
    step = parse(tmp_path, "# T\n\n" + block(info, "example\n"))
    assert step.blocks == () and step.checks == ()


@pytest.mark.parametrize(
    ("info", "meant"),
    [
        ("python pth=a.py", "path"),
        ("python fiel=a.py", "file"),
        ("python filenme=a.py", "filename"),
        ('python titel="a.py"', "title"),
        ("bash chek", "check"),
    ],
)
def test_typo_of_a_target_key_is_an_error_even_on_prose(tmp_path, info, meant):
    error = parse_error(tmp_path, "# T\n\n" + block(info, "x = 1\n"))
    assert f"did you mean {meant!r}?" in error.message
    assert error.line == 3


@pytest.mark.parametrize(
    "info",
    ["python path=a.py startFrom=5", "python path=a.py session", "bash check session"],
)
def test_unknown_words_are_errors_on_artifacts_and_checks(tmp_path, info):
    error = parse_error(tmp_path, "# T\n\n" + block(info, "x = 1\n"))
    assert "unknown" in error.message
    assert error.line == 3


def test_unknown_word_on_a_block_with_a_first_line_target_is_an_error(tmp_path):
    error = parse_error(tmp_path, "# T\n\n" + block("python session", "# path: a.py\nx\n"))
    assert "unknown flag 'session'" in error.message


def test_unreadable_info_string_is_an_error_only_where_it_matters(tmp_path):
    error = parse_error(tmp_path, "# T\n\n" + block("python path=a.py it's", "x\n"))
    assert "cannot read fence attributes" in error.message


# --- 6. title= is a target only when it looks like a path ------------------------------


def test_title_caption_is_not_a_file(tmp_path):
    text = "# T\n\n" + block('bash title="Install dependencies"', "pip install x\n")
    text += block('python title="Main module" path=app/main.py', "x = 1\n")
    text += block("python title=Makefile", "all:\n")
    text += block('bash check title="Run the tests"', "pytest\n")
    step = parse(tmp_path, text)
    assert [b.target for b in step.blocks] == ["app/main.py"]
    assert [c.name for c in step.checks] == ["pytest"]


def test_title_that_looks_like_a_path_is_a_target(tmp_path):
    text = "# T\n\n" + block('yaml title=".github/workflows/ci.yml"', "on: push\n")
    text += block("text title=notes.txt", "n\n")
    assert [b.target for b in parse(tmp_path, text).blocks] == [
        ".github/workflows/ci.yml",
        "notes.txt",
    ]


# --- 7. files that look like steps must be named like steps ----------------------------


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [
        ("03_Auth.md", "03_auth.md"),
        ("4_auth.md", "04_auth.md"),
        ("02_café.md", "02_cafe.md"),
        ("05-auth.md", "05_auth.md"),
        ("06_auth.MD", "06_auth.md"),
    ],
)
def test_misnamed_step_is_an_error(tmp_path, name, suggestion):
    folder = tmp_path / "workflows" / "demo"
    folder.mkdir(parents=True)
    (folder / "01_setup.md").write_text("# S\n")
    (folder / name).write_text("# X\n")
    with pytest.raises(DocumentError) as info:
        find_steps(folder)
    assert (info.value.file, info.value.line) == (folder / name, 1)
    assert "NN_slug.md" in info.value.message
    assert "lowercase a-z" in info.value.message
    assert suggestion in info.value.message


def test_set_of_only_misnamed_steps_is_still_found(tmp_path):
    folder = tmp_path / "workflows" / "demo"
    folder.mkdir(parents=True)
    (folder / "1_setup.md").write_text("# S\n")
    assert find_sets(tmp_path) == ["demo"]
    with pytest.raises(DocumentError, match=r"NN_slug\.md"):
        find_steps(folder)


def test_other_files_are_still_ignored(tmp_path):
    folder = tmp_path / "workflows" / "demo"
    folder.mkdir(parents=True)
    for name in ("01_setup.md", "README.md", "notes.md", "01_data.json", "2024.txt"):
        (folder / name).write_text("# S\n")
    (folder / "02_folder.md").mkdir()
    assert [s.path.name for s in find_steps(folder)] == ["01_setup.md"]


# --- 8. hostile and oversized paths -----------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        ".git/hooks/post-checkout",
        ".GIT/config",
        "sub/.Git/hooks/pre-commit",
        ".git",
        ".git./hooks/x",
        ".git\u200c/hooks/x",
        "git~1/hooks/x",
    ],
)
def test_dot_git_component_is_rejected(target):
    source = Source(Path("doc.md"), 7)
    with pytest.raises(PathError) as info:
        clean_target(target, source)
    assert ".git" in info.value.message
    assert (info.value.file, info.value.line) == (Path("doc.md"), 7)


def test_names_like_git_are_fine():
    for target in (".github/workflows/ci.yml", ".gitignore", "a/git/x", "b/.gitkeep"):
        assert clean_target(target, None) == target


def test_overlong_names_are_rejected():
    source = Source(Path("doc.md"), 3)
    assert clean_target("a" * 197 + ".py", None) == "a" * 197 + ".py"  # 200 bytes: fine
    with pytest.raises(PathError, match="longer than 200 bytes"):
        clean_target("a" * 201, source)
    with pytest.raises(PathError, match="longer than 200 bytes"):
        clean_target("dir/" + "é" * 101, source)  # 202 bytes in UTF-8
    with pytest.raises(PathError, match="longer than 1024 bytes") as info:
        clean_target("/".join(["d" * 100] * 11), source)
    assert info.value.line == 3


def test_dot_git_target_fails_at_its_block(tmp_path):
    text = "# A\n\n" + block("sh path=.git/hooks/post-checkout", "#!/bin/sh\nrm -rf ~\n")
    with pytest.raises(PathError) as info:
        plan_of(tmp_path, {"01_a.md": text})
    assert (info.value.file, info.value.line) == (doc(tmp_path, "01_a.md"), 3)


# --- 9. built-in syntax checks --------------------------------------------------------


def test_yaml_check_accepts_any_tag(tmp_path):
    yaml_text = "Value: !Ref Bucket\nfn: !!python/name:os.system\nlist: !Split [a, b]\n"
    plan = plan_of(tmp_path, {"01_a.md": "# A\n\n" + block("yaml path=t.yaml", yaml_text)})
    assert data_syntax_problems(plan.steps[0], plan) == []


def _run_python_check(command: str, files: dict[str, bytes], workdir: Path, path: str):
    for name, content in files.items():
        target = workdir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    env = {"PATH": path, "LC_ALL": "C.UTF-8"}
    return subprocess.run(
        ["/bin/bash", "-e", "-o", "pipefail", "-c", command],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def only_python3(tmp_path) -> str:
    """A PATH holding ``python3`` and no ``python`` (a system without a project venv)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "python3").symlink_to(sys.executable)
    return str(folder)


def test_python_check_falls_back_to_python3(tmp_path, only_python3):
    plan = plan_of(tmp_path, {"01_a.md": "# A\n\n" + block("python path=a.py", "def (:\n")})
    spec = python_syntax_check(plan.steps[0], plan)
    assert spec is not None
    files = {p: f.content for p, f in plan.assembled("01").items()}
    done = _run_python_check(spec.command, files, tmp_path / "ws", only_python3)
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith("a.py:1: ")


def _python_steps() -> dict[str, str]:
    return {
        "01_a.md": "# A\n\n"
        + block("python path=bad.py", "def broken(:\n    pass\n")
        + block("python path=good.py", "X = 1\n")
        + block("python path=patched.py", "A = 1\nB = 2\n"),
        "02_b.md": "# B\n\n"
        + block("python path=bad.py mode=append", "Y = 2\n")
        + block("python path=good.py mode=append", "def also_broken(:\n")
        + block("diff path=patched.py mode=patch", "@@ -1,2 +1,2 @@\n A = 1\n-B = 2\n+B = (\n"),
    }


def test_python_syntax_error_is_reported_by_the_step_that_made_it(tmp_path, only_python3):
    plan = plan_of(tmp_path, _python_steps())
    outputs = {}
    for sp in plan.steps:
        spec = python_syntax_check(sp, plan)
        assert spec is not None
        files = {p: f.content for p, f in plan.assembled(sp.step.number).items()}
        work = tmp_path / f"ws{sp.step.number}"
        outputs[sp.step.number] = _run_python_check(spec.command, files, work, only_python3)
    assert outputs["01"].returncode == 1
    assert [line.split(":")[0] for line in outputs["01"].stdout.splitlines()] == ["bad.py"]
    assert outputs["02"].returncode == 1
    # bad.py was broken by step 01 already: step 02 only appended to it
    assert [line.split(":")[:2] for line in outputs["02"].stdout.splitlines()] == [
        ["good.py", "2"],
        ["patched.py", "2"],
    ]


def test_without_a_plan_every_problem_is_reported(tmp_path, only_python3):
    plan = plan_of(tmp_path, _python_steps())
    spec = python_syntax_check(plan.steps[1])
    assert spec is not None
    files = {p: f.content for p, f in plan.assembled("02").items()}
    done = _run_python_check(spec.command, files, tmp_path / "ws", only_python3)
    assert sorted(line.split(":")[0] for line in done.stdout.splitlines()) == [
        "bad.py",
        "good.py",
        "patched.py",
    ]


def test_data_syntax_error_is_reported_by_the_step_that_made_it(tmp_path):
    plan = plan_of(
        tmp_path,
        {
            "01_a.md": "# A\n\n"
            + block("json path=broken.json", '{"a": \n')
            + block("toml path=fine.toml", "a = 1\n"),
            "02_b.md": "# B\n\n"
            + block("json path=broken.json mode=append", "2\n")
            + block("toml path=fine.toml mode=append", "b = \n"),
            "03_c.md": "# C\n\n" + block("json path=broken.json", "{]\n"),
        },
    )
    first, second, third = plan.steps
    assert [p.file.path for p in data_syntax_problems(first, plan)] == ["broken.json"]
    assert [p.file.path for p in data_syntax_problems(second, plan)] == ["fine.toml"]
    # written whole again: step 03's own content, reported even though it was broken before
    assert [p.file.path for p in data_syntax_problems(third, plan)] == ["broken.json"]
    assert len(data_syntax_problems(second)) == 2  # without the plan: everything


def test_first_line_target_offset_comes_from_the_block(tmp_path):
    body = "# path: app/x.py\nok = 1\ndef (:\n"
    text = "# A\n\nProse.\n\n" + block("python", body)
    plan = plan_of(tmp_path, {"01_a.md": text})
    assert plan.steps[0].step.blocks[0].stripped == 1
    doc(tmp_path, "01_a.md").unlink()  # located without reading the document again
    problems = python_problems("app/x.py:2: invalid syntax\n", plan.steps[0])
    assert [p.source().line for p in problems] == [line_of(text, "def (:")]
