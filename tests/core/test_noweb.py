"""Noweb references and named blocks (issue 19), Entangled 2.x semantics, annotations off.

The documents below are written for these tests. The expected outputs were written by
hand from Entangled's documented behaviour (a reference line is replaced by every block
of that name in document order, each line prefixed with the reference's indentation -
blank lines too; blocks naming the same ``file=`` concatenate) and then checked once
against Entangled 2.5.0 itself; ``test_expected_outputs_match_real_entangled`` repeats
that comparison whenever ``WF_ENTANGLED`` points at an ``entangled`` executable.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from runner.errors import PlanError
from runner.plan import Plan, make_plan
from runner.project import load_set

from .helpers import block, line_of, md, snapshot, wf, write_project

FENCE = "```"
TRAILING = "   "  # spaces after a reference are allowed

SINGLE = md(
    f"""
    # Recursion, continuation, indentation

    {FENCE} {{.python file=out/f.py}}
    def f(n):
        <<f-condition>>

    class A:
        def m(self):
            <<method-body>>
    {FENCE}

    {FENCE} {{.python #f-condition}}
    if n == 0:
        <<f-base-case>>
    else:
        <<f-recursion>>
    {FENCE}

    {FENCE} {{.python #f-base-case}}
    return 1
    {FENCE}

    {FENCE} {{.python #f-recursion}}
    return n * f(n - 1)
    {FENCE}

    {FENCE} {{.python #method-body}}
    x = 1

    y = 2
    \ttabbed = 3
    {FENCE}

    {FENCE} {{.python #method-body}}
    return x + y
    {FENCE}

    {FENCE} {{.sh file=out/run.sh}}
    #!/bin/sh
    echo one
    {FENCE}

    {FENCE} {{.sh file=out/run.sh}}
    echo two
    {FENCE}

    {FENCE} {{.rust #blockid3 file=out/test3.rs}}
    fn fac() {{}}
    {FENCE}

    {FENCE} {{.rust #blockid3}}
    fn main() {{}}
    {FENCE}

    {FENCE} {{.python file=out/trail.py}}
    start
        <<g>>{TRAILING}
    end
    {FENCE}

    {FENCE} {{.python #g}}
    print('a')
    {FENCE}
    """
)

SINGLE_EXPECTED = {
    "out/f.py": (
        "def f(n):\n"
        "    if n == 0:\n"
        "        return 1\n"
        "    else:\n"
        "        return n * f(n - 1)\n"
        "\n"
        "class A:\n"
        "    def m(self):\n"
        "        x = 1\n"
        "        \n"  # Entangled indents blank lines of an expansion too
        "        y = 2\n"
        "        \ttabbed = 3\n"
        "        return x + y\n"
    ),
    "out/run.sh": "#!/bin/sh\necho one\necho two\n",
    "out/test3.rs": "fn fac() {}\nfn main() {}\n",
    "out/trail.py": "start\n    print('a')\nend\n",
}

FIRST = md(
    f"""
    # A

    {FENCE} {{.python file=app/main.py}}
    <<imports>>

    def main():
        <<main-body>>
    {FENCE}

    {FENCE} {{.python #imports}}
    import os
    {FENCE}

    {FENCE} {{.python #main-body}}
    print(os.getcwd())
    {FENCE}
    """
)

SECOND = md(
    f"""
    # B

    {FENCE} {{.python #imports}}
    import sys
    {FENCE}

    {FENCE} {{.python #main-body}}
    print(sys.argv)
    {FENCE}
    """
)

MULTI_AFTER_01 = "import os\n\ndef main():\n    print(os.getcwd())\n"
MULTI_AFTER_02 = (
    "import os\nimport sys\n\ndef main():\n    print(os.getcwd())\n    print(sys.argv)\n"
)


BASIC = md(
    f"""
    ---
    entangled:
        version: "2.4"
        style: basic
        annotation: naked
    ---
    # Entangled's basic style: Quarto cell options instead of braces

    {FENCE}python
    #| id: deck
    #| file: src/deck.py
    import random
    <<helpers>>
    {FENCE}

    {FENCE}python
    #| id: deck
    DECK = 52
    {FENCE}

    {FENCE}python
    #| id: helpers
    #| echo: false
    def shuffle(): ...
    {FENCE}
    """
)

BASIC_EXPECTED = {"src/deck.py": "import random\ndef shuffle(): ...\nDECK = 52\n"}

REPEATED = "# R\n\n" + "".join(
    f"{FENCE} {{.python #main file=app.py}}\n{line}\n{FENCE}\n\n" for line in ("a = 1", "b = 2")
)

REPEATED_EXPECTED = {"app.py": "a = 1\nb = 2\n"}


def plan_of(tmp_path: Path, steps: dict[str, str]) -> Plan:
    root = write_project(tmp_path, steps)
    wset = load_set(root, "demo")
    return make_plan(wset.name, wset.steps(), wset.vars)


def texts(plan: Plan, number: str | None = None) -> dict[str, str]:
    if number is None:
        return {p: f.content.decode() for p, f in plan.assembled().items()}
    files = next(sp.files for sp in plan.steps if sp.step.number == number)
    return {p: f.content.decode() for p, f in files.items()}


def plan_error(tmp_path: Path, steps: dict[str, str]) -> PlanError:
    with pytest.raises(PlanError) as info:
        plan_of(tmp_path, steps)
    return info.value


# --- Entangled's output, byte for byte -----------------------------------------------------


def test_single_document_tangles_like_entangled(tmp_path):
    plan = plan_of(tmp_path, {"01_doc.md": SINGLE})
    assert texts(plan) == SINGLE_EXPECTED
    assert plan.warnings == []


def test_entangled_basic_style_and_repeated_named_file_blocks(tmp_path):
    assert texts(plan_of(tmp_path, {"01_doc.md": BASIC})) == BASIC_EXPECTED
    assert texts(plan_of(tmp_path / "r", {"01_doc.md": REPEATED})) == REPEATED_EXPECTED


def test_names_are_shared_by_the_documents_of_a_set(tmp_path):
    plan = plan_of(tmp_path, {"01_a.md": FIRST, "02_b.md": SECOND})
    assert texts(plan, "01") == {"app/main.py": MULTI_AFTER_01}
    # step 02 adds to names app/main.py uses: the file is made again in step 02's folder
    assert texts(plan, "02") == {"app/main.py": MULTI_AFTER_02}
    assert texts(plan) == {"app/main.py": MULTI_AFTER_02}


def test_build_writes_the_tangled_files_and_verify_agrees(tmp_path):
    root = write_project(tmp_path, {"01_doc.md": SINGLE})
    assert wf(root, "build").exit_code == 0
    files = snapshot(root / "sdlc" / "demo" / "01-doc")
    assert {p: b.decode() for p, b in files.items()} == SINGLE_EXPECTED
    assert files["out/run.sh"].startswith(b"#!")
    assert wf(root, "verify").exit_code == 0


@pytest.mark.skipif(
    not os.environ.get("WF_ENTANGLED") and not os.environ.get("CI"),  # CI installs it
    reason="set WF_ENTANGLED to an Entangled 2.x executable to compare with it "
    "(python3.12 -m venv /tmp/ent && /tmp/ent/bin/pip install entangled-cli; "
    "WF_ENTANGLED=/tmp/ent/bin/entangled pytest tests/core/test_noweb.py)",
)
def test_expected_outputs_match_real_entangled(tmp_path):
    executable = shutil.which(os.environ["WF_ENTANGLED"]) or os.environ["WF_ENTANGLED"]
    cases = [({"01_doc.md": SINGLE}, SINGLE_EXPECTED), ({"01_doc.md": BASIC}, BASIC_EXPECTED)]
    cases.append(({"01_doc.md": REPEATED}, REPEATED_EXPECTED))
    cases.append(({"01_a.md": FIRST, "02_b.md": SECOND}, {"app/main.py": MULTI_AFTER_02}))
    for index, (documents, expected) in enumerate(cases):
        folder = tmp_path / str(index)
        folder.mkdir()
        (folder / "entangled.toml").write_text(
            'version = "2.0"\nannotation = "naked"\nwatch_list = ["*.md"]\n'
        )
        for name, text in documents.items():
            (folder / name).write_text(text)
        subprocess.run([executable, "tangle"], cwd=folder, check=True, capture_output=True)
        made = {path: (folder / path).read_text() for path in expected}
        assert made == expected


# --- reference rules ----------------------------------------------------------------------


def test_reference_indentation_applies_to_every_expanded_line(tmp_path):
    doc = (
        "# T\n\n"
        + block("python path=app/x.py", "class A:\n    def f(self):\n        <<body>>\n")
        + "\n"
        + block("{.python #body}", "if True:\n    return 1\n")
    )
    plan = plan_of(tmp_path, {"01_t.md": doc})
    expected = "class A:\n    def f(self):\n        if True:\n            return 1\n"
    assert texts(plan) == {"app/x.py": expected}


def test_missing_name_is_an_error_at_the_referencing_line(tmp_path):
    doc = (
        "# T\n\nProse.\n\n"
        + block("{.python file=app/x.py}", "def f():\n    <<main-bdy>>\n")
        + "\n"
        + block("{.python #main-body}", "pass\n")
    )
    error = plan_error(tmp_path, {"01_t.md": doc})
    assert error.line == line_of(doc, "<<main-bdy>>")
    assert "<<main-bdy>> names no block (did you mean <<main-body>>?)" in error.message


def test_a_reference_line_is_never_written_as_text(tmp_path):
    """wf's own syntax too: an unresolved ``<<name>>`` line is an error, not content."""
    doc = "# T\n\n" + block("python path=app/x.py", "x = 1\n  <<nothing>>\n")
    error = plan_error(tmp_path, {"01_t.md": doc})
    assert error.line == 5
    assert "<<nothing>> names no block" in error.message


def test_reference_to_a_later_document_names_where_it_is_defined(tmp_path):
    later = "# B\n\n" + block("{.python #helper}", "pass\n")
    doc = "# A\n\n" + block("{.python file=a.py}", "<<helper>>\n")
    error = plan_error(tmp_path, {"01_a.md": doc, "02_b.md": later})
    assert error.line == 4
    assert "first defined later, at 02_b.md:3" in error.message


def test_cycle_is_an_error_naming_the_chain(tmp_path):
    doc = (
        "# T\n\n"
        + block("{.python file=mars.py}", "<<phobos>>\n")
        + block("{.python #phobos}", "<<deimos>>\n")
        + block("{.python #deimos}", "<<phobos>>\n")
    )
    error = plan_error(tmp_path, {"01_t.md": doc})
    assert error.line == line_of(doc, "<<phobos>>", nth=2)
    assert "<<phobos>> -> <<deimos>> -> <<phobos>>" in error.message


def test_a_name_used_twice_is_not_a_cycle(tmp_path):
    doc = (
        "# T\n\n"
        + block("{.text file=helium.txt}", "<<electron>>\n<<electron>>\n")
        + block("{.text #electron}", "negative charge\n")
    )
    assert texts(plan_of(tmp_path, {"01_t.md": doc})) == {
        "helium.txt": "negative charge\nnegative charge\n"
    }


def test_unused_name_is_a_warning_in_verify_and_show(tmp_path):
    doc = (
        "# T\n\n"
        + block("{.python file=a.py}", "<<used>>\n")
        + block("{.python #used}", "x = 1\n")
        + block("{.python #spare}", "y = 2\n")
    )
    root = write_project(tmp_path, {"01_t.md": doc})
    spare = line_of(doc, "#spare")
    assert wf(root, "build").exit_code == 0
    result = wf(root, "verify")
    assert result.exit_code == 0
    warning = f"warning: workflows/demo/01_t.md:{spare}: <<spare>> is defined but never used"
    assert warning in result.stderr
    shown = wf(root, "show", "01")
    assert warning in shown.stderr
    assert f"line {spare:>5}  <<spare>>" in shown.stdout
    github = wf(root, "verify", "--format", "github")
    assert f"::warning file=workflows/demo/01_t.md,line={spare}" in github.stdout


def test_a_patch_cannot_add_a_reference_line(tmp_path):
    first = "# A\n\n" + block("text path=notes.txt", "a\n")
    diff = "--- a/notes.txt\n+++ b/notes.txt\n@@ -1 +1,2 @@\n a\n+<<keep>>\n"
    second = "# B\n\n" + block("diff path=notes.txt mode=patch", diff) + block("{.t #keep}", "k\n")
    error = plan_error(tmp_path, {"01_a.md": first, "02_b.md": second})
    assert error.line == line_of(second, "+<<keep>>")
    assert "a patch cannot add a <<name>> line" in error.message


def test_expansion_happens_before_templating(tmp_path):
    doc = md(
        f"""
        ---
        vars: {{name: shop}}
        ---
        # T

        {FENCE}python path=app/x.py template
        <<greeting>>
        {FENCE}

        {FENCE} {{.python #greeting}}
        print("{{{{ name }}}}")
        {FENCE}
        """
    )
    assert texts(plan_of(tmp_path, {"01_t.md": doc})) == {"app/x.py": 'print("shop")\n'}


def test_the_manifest_and_verify_name_every_contributing_block(tmp_path):
    root = write_project(tmp_path, {"01_a.md": FIRST, "02_b.md": SECOND})
    assert wf(root, "build").exit_code == 0
    manifest = (root / "sdlc" / "demo" / "manifest.json").read_text()
    owners = [f"workflows/demo/01_a.md:{n}" for n in (3, 10, 14)]
    owners += ["workflows/demo/02_b.md:3", "workflows/demo/02_b.md:7"]
    for owner in owners:
        assert owner in manifest.split('"02-b/app/main.py"')[1].split("\n")[0]
    (root / "workflows" / "demo" / "02_b.md").write_text(SECOND.replace("sys.argv", "sys.path"))
    result = wf(root, "verify")
    assert result.exit_code == 1
    stale = next(line for line in result.output.splitlines() if "02-b/app/main.py" in line)
    assert all(owner in stale for owner in owners)


def test_later_continuation_replays_patches_made_since(tmp_path):
    first = "# A\n\n" + block("{.text file=x.txt}", "top\n<<items>>\nend\n")
    first += block("{.text #items}", "one\n")
    diff = "--- a/x.txt\n+++ b/x.txt\n@@ -1,2 +1,2 @@\n-top\n+TOP\n one\n"
    second = "# B\n\n" + block("diff path=x.txt mode=patch", diff)
    third = "# C\n\n" + block("{.text #items}", "two\n")
    plan = plan_of(tmp_path, {"01_a.md": first, "02_b.md": second, "03_c.md": third})
    assert texts(plan, "02") == {"x.txt": "TOP\none\nend\n"}
    assert texts(plan, "03") == {"x.txt": "TOP\none\ntwo\nend\n"}


def test_a_later_continuation_that_breaks_a_patch_is_an_error_at_the_patch(tmp_path):
    first = "# A\n\n" + block("{.text file=x.txt}", "<<items>>\nend\n")
    first += block("{.text #items}", "one\n")
    diff = "--- a/x.txt\n+++ b/x.txt\n@@ -1,2 +1,2 @@\n one\n-end\n+END\n"
    second = "# B\n\n" + block("diff path=x.txt mode=patch", diff)
    third = "# C\n\n" + block("{.text #items}", "two\n")
    with pytest.raises(PlanError) as info:
        plan_of(tmp_path, {"01_a.md": first, "02_b.md": second, "03_c.md": third})
    assert info.value.file.name == "02_b.md"
    assert "once step 03 adds to <<items>>" in info.value.message


def test_a_rewrite_in_a_later_step_ends_the_tangle(tmp_path):
    first = "# A\n\n" + block("{.text file=x.txt}", "<<items>>\n") + block("{.t #items}", "1\n")
    second = "# B\n\n" + block("text path=x.txt", "plain\n")
    third = "# C\n\n" + block("{.text #items}", "2\n") + block("{.t file=y.txt}", "<<items>>\n")
    plan = plan_of(tmp_path, {"01_a.md": first, "02_b.md": second, "03_c.md": third})
    assert texts(plan, "03") == {"y.txt": "1\n2\n"}
    assert texts(plan)["x.txt"] == "plain\n"


def test_entangled_file_blocks_concatenate_but_ours_are_written_once(tmp_path):
    entangled = "# T\n\n" + block("{.sh file=run.sh}", "a\n") + block("{.sh file=run.sh}", "b\n")
    assert texts(plan_of(tmp_path / "e", {"01_t.md": entangled})) == {"run.sh": "a\nb\n"}
    ours = "# T\n\n" + block("sh path=run.sh", "a\n") + block("sh path=run.sh", "b\n")
    error = plan_error(tmp_path / "w", {"01_t.md": ours})
    assert "written twice in this step" in error.message
    assert "mode=append" in error.message
    explicit = (
        "# T\n\n" + block("{.sh file=run.sh}", "a\n") + block("{.sh file=run.sh mode=write}", "b\n")
    )
    assert "written twice" in plan_error(tmp_path / "x", {"01_t.md": explicit}).message


def test_apply_sees_the_names_of_earlier_steps(tmp_path):
    first = "# A\n\n" + block("{.text #greeting}", "hello\n") + block("text path=a.txt", "x\n")
    second = "# B\n\n" + block("text path=b.txt", "<<greeting>>\n")
    root = write_project(tmp_path / "proj", {"01_a.md": first, "02_b.md": second})
    target = tmp_path / "target"
    target.mkdir()
    result = wf(root, "apply", "02", "--to", str(target))
    assert result.exit_code == 0, result.output + result.stderr
    assert (target / "b.txt").read_text() == "hello\n"


# --- parsing named blocks ------------------------------------------------------------------


def test_named_blocks_are_read_from_pandoc_attributes_only(tmp_path):
    from .test_parse import parse

    doc = (
        "# T\n\n"
        + block("{.python #setup}", "x = 1\n")
        + block("python {#teardown .hidden}", "y = 2\n")
        + block("python #not-a-name", "z = 3\n")
        + block("{.python #main file=app.py}", "<<setup>>\n")
    )
    step = parse(tmp_path, doc)
    assert [(f.name, f.content, f.source.line) for f in step.fragments] == [
        ("setup", "x = 1\n", 3),
        ("teardown", "y = 2\n", 6),
    ]
    assert [(b.target, b.name) for b in step.blocks] == [("app.py", "main")]


@pytest.mark.parametrize(
    ("info", "needle"),
    [
        ("{.python #a mode=append}", "'mode' given on a named block"),
        ("{.python #a template}", "'template' given on a named block"),
        ("{.python #a #b}", "a block has one #name, not 2 (a, b)"),
        ("{.python #a fiel=x.py}", "did you mean 'file'?"),
    ],
)
def test_named_block_errors(tmp_path, info, needle):
    from .test_parse import parse_error

    error = parse_error(tmp_path, "# T\n\n" + block(info, "x\n"))
    assert needle in error.message
    assert error.line == 3


def test_named_block_ignores_other_tools_attributes(tmp_path):
    from .test_parse import parse

    step = parse(tmp_path, "# T\n\n" + block('{.python #a caption="Setup" mode=0755}', "x\n"))
    assert [f.name for f in step.fragments] == ["a"]


def test_a_second_named_block_for_one_file_is_more_of_that_name(tmp_path):
    doc = (
        "# T\n\n"
        + block("{.python #main file=app.py}", "a = 1\n")
        + block("{.python #helper}", "h = 0\n")
        + block("{.python #main file=app.py}", "<<helper>>\n")
    )
    assert texts(plan_of(tmp_path, {"01_t.md": doc})) == {"app.py": "a = 1\nh = 0\n"}
    other = "# T\n\n" + block("{.py #a file=x.py}", "1\n") + block("{.py #b file=x.py}", "2\n")
    assert "written twice" in plan_error(tmp_path / "o", {"01_t.md": other}).message


# --- hostile documents: bounded depth, size and time ------------------------------------------


def chain_document(depth: int, fan: int = 1) -> str:
    """A target expanding <<n0>>; each <<nI>> refers ``fan`` times to <<nI+1>>."""
    parts = ["# T\n\n", block("{.python file=app/x.py}", "<<n0>>\n")]
    for i in range(depth):
        parts.append("\n" + block(f"{{.python #n{i}}}", f"x{i}\n" + f"<<n{i + 1}>>\n" * fan))
    parts.append("\n" + block(f"{{.python #n{depth}}}", "end\n"))
    return "".join(parts)


def test_a_deep_chain_of_references_is_an_error_not_a_recursion_crash(tmp_path):
    doc = chain_document(600)
    error = plan_error(tmp_path, {"01_t.md": doc})
    assert "is nested more than 100 references deep" in error.message
    assert error.line == line_of(doc, "<<n99>>")  # the 100th reference below the file


def test_a_chain_within_the_depth_limit_expands(tmp_path):
    text = texts(plan_of(tmp_path, {"01_t.md": chain_document(90)}))["app/x.py"]
    assert text == "".join(f"x{i}\n" for i in range(90)) + "end\n"


def test_references_that_double_at_every_level_stop_at_the_size_limit(tmp_path):
    """2**40 lines if expanded: an error at a reference, after a bounded amount of work."""
    doc = chain_document(40, fan=2)
    error = plan_error(tmp_path, {"01_t.md": doc})
    assert "expanding references here gives more than 16 MiB" in error.message
    assert "<<n" in doc.split("\n")[error.line - 1]


def test_a_name_used_ten_thousand_times_is_expanded_at_each_use(tmp_path):
    body = "def f():\n" + "    <<leaf>>\n" * 10_000
    doc = "# T\n\n" + block("{.python file=app/x.py}", body) + "\n"
    doc += block("{.python #leaf}", "x = 1\n\ny = 2\n")
    text = texts(plan_of(tmp_path, {"01_t.md": doc}))["app/x.py"]
    assert text == "def f():\n" + "    x = 1\n    \n    y = 2\n" * 10_000
