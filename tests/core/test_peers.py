"""Documents written for other tools read unchanged (issue 19): MkDocs Material content
tabs, Runme cells, malformed pandoc attributes."""

from __future__ import annotations

import pytest

from .helpers import block, line_of, md, snapshot, wf, write_project
from .test_parse import parse, parse_error

# --- MkDocs Material content tabs (pymdownx.tabbed) ------------------------------------

TABS = md(
    """
    # Install

    === "Python"

        ```python title="app/main.py"
        print("python")
        ```

    ===! "Shell"

        Some prose in the tab.


        ```sh title="scripts/run.sh"
        echo shell
        ```

        - a list in the tab

            ```text title="notes/deep.txt"
            deep
            ```

    ===+ "Selected"
        ```toml title="pyproject.toml"
        [x]
        ```

    After the tabs, an indented block is code again:

        ```python
        an example
        ```
    """
)


def test_blocks_inside_content_tabs_are_read(tmp_path):
    step = parse(tmp_path, TABS)
    assert [(b.target, b.content) for b in step.blocks] == [
        ("app/main.py", 'print("python")\n'),
        ("scripts/run.sh", "echo shell\n"),
        ("notes/deep.txt", "deep\n"),
        ("pyproject.toml", "[x]\n"),
    ]
    assert [b.source.line for b in step.blocks] == [
        line_of(TABS, 'title="app/main.py"'),
        line_of(TABS, 'title="scripts/run.sh"'),
        line_of(TABS, 'title="notes/deep.txt"'),
        line_of(TABS, 'title="pyproject.toml"'),
    ]


def test_content_tab_nested_in_an_admonition(tmp_path):
    text = md(
        """
        !!! note "Files"

            === "Linux"

                ```sh path=install.sh
                apt-get install x
                ```
        """
    )
    step = parse(tmp_path, text)
    assert [(b.target, b.content) for b in step.blocks] == [("install.sh", "apt-get install x\n")]


def test_content_tabs_build_end_to_end(tmp_path):
    root = write_project(tmp_path, {"01_tabs.md": TABS})
    result = wf(root, "build")
    assert result.exit_code == 0, result.output + result.stderr
    files = snapshot(root / "sdlc" / "demo" / "01-tabs")
    assert files["app/main.py"] == b'print("python")\n'
    assert len(files) == 4


def test_equals_without_a_quoted_title_is_not_a_tab(tmp_path):
    text = "# T\n\n=== not a tab\n\n    ```python path=a.py\n    x\n    ```\n"
    assert "indented 4 spaces" in parse_error(tmp_path, text).message


@pytest.mark.parametrize(
    ("marker", "is_tab"),
    [
        ('=== "The "main" module"', True),
        ('===+! "T"', True),
        ('===!+ "T"', True),
        ('===++ "T"', False),
        ('===!! "T"', False),
        ("=== 'T'", False),
    ],
)
def test_tab_lines_are_those_pymdownx_tabbed_reads(tmp_path, marker, is_tab):
    """Its title runs to the line's last quote; other markers leave a paragraph."""
    text = f"# T\n\n{marker}\n\n    ```text path=a.txt\n    a\n    ```\n"
    if is_tab:
        assert [b.target for b in parse(tmp_path, text).blocks] == ["a.txt"]
    else:
        assert "indented 4 spaces" in parse_error(tmp_path, text).message


# --- Runme cells and other tools' attributes on examples ----------------------------------


@pytest.mark.parametrize(
    "info",
    [
        "sh { name=update-brew }",
        "sh {name=update-brew interactive=false}",
        "bash { background=true closeTerminalOnSuccess=false cwd=.. name=serve }",
        "sh { name=deploy timeout=3 }",
        'sh {"name":"update-brew","interactive":"false"}',
        'sh { "name": "x", "cwd": ".." }',
        "{.python .hidden mode=0755}",
    ],
)
def test_foreign_attributes_leave_an_example_an_example(tmp_path, info):
    text = "# Runme\n\n" + block(info, "brew update\n")
    step = parse(tmp_path, text)
    assert step.blocks == ()
    assert step.checks == ()


@pytest.mark.parametrize(
    ("info", "word"), [("sh mode=append", "mode"), ("sh skeleton", "skeleton")]
)
def test_our_target_only_words_still_need_a_target(tmp_path, info, word):
    error = parse_error(tmp_path, "# T\n\n" + block(info, "x\n"))
    assert f"{word!r} given on a block without a target" in error.message
    assert error.line == 3


def test_a_block_with_a_target_stays_strict_about_foreign_words(tmp_path):
    error = parse_error(tmp_path, "# T\n\n" + block("sh { name=setup path=setup.sh }", "echo\n"))
    assert "'name' is only valid on a check block" in error.message


# --- malformed attribute syntax --------------------------------------------------------


@pytest.mark.parametrize(
    "info",
    [
        "{{.python file=script.py}}",
        " {{.python file=script.py}}",
        "{.python file=script.py",
        "python file=script.py}",
        "python {file=script.py}}",
    ],
)
def test_malformed_braces_are_refused_at_the_fence(tmp_path, info):
    text = "# T\n\nProse.\n\n" + block(info, "print(1)\n")
    error = parse_error(tmp_path, text)
    assert "malformed fence attributes" in error.message
    assert error.line == 5


def test_malformed_braces_write_nothing(tmp_path):
    root = write_project(tmp_path, {"01_x.md": block("{{.python file=script.py}}", "x = 1\n")})
    result = wf(root, "build")
    assert result.exit_code == 2
    assert "01_x.md:1: malformed fence attributes" in result.stderr
    assert not (root / "sdlc").exists()


def test_balanced_template_braces_in_a_value_stay_a_template(tmp_path):
    text = "# T\n\n" + block('python path="app/{{ module }}.py" template', "x\n")
    assert [b.target for b in parse(tmp_path, text).blocks] == ["app/{{ module }}.py"]


def test_malformed_braces_on_an_example_are_left_alone(tmp_path):
    assert parse(tmp_path, "# T\n\n" + block("{{< highlight go >}}", "x\n")).blocks == ()


# --- front matter of other tools ----------------------------------------------------------

FOREIGN = {
    "mkdocs": "title: Install\nicon: material/rocket\ntags: [setup, python]\nhide: [toc]\n",
    "entangled": 'title: Hello\nauthor: Someone\nversion: 1.0.0\nentangled:\n  version: "2.0"\n',
    "runme": "runme:\n  id: 01HF7B0KJPF469EG9ZWD5ZVBJ9\n  version: v3\nshell: bash\n",
    "quarto": "title: T\nsubtitle: S\nauthor: [A, B]\nformat: {html: {toc: true}}\n",
    "pandoc": "title: T\nbibliography: lit/ref.bib\nreference-section-title: References\n",
    "nested-duplicates": "extra:\n  a: 1\n  a: 2\n",  # not ours to judge
}


@pytest.mark.parametrize("meta", FOREIGN.values(), ids=FOREIGN.keys())
def test_other_tools_front_matter_is_ignored(tmp_path, meta):
    text = f"---\n{meta}optional: true\n---\n# Doc\n\n" + block("python path=a.py", "x = 1\n")
    step = parse(tmp_path, text)
    assert step.optional is True
    assert [b.target for b in step.blocks] == ["a.py"]


@pytest.mark.parametrize(
    ("key", "meant"),
    [("chekcs", "checks"), ("check", "checks"), ("require", "requires"), ("var", "vars")],
)
def test_a_typo_of_our_key_is_still_refused(tmp_path, key, meant):
    error = parse_error(tmp_path, f"---\ntitle: T\n{key}: []\n---\n# T\n")
    assert error.line == 3
    assert f"unknown front matter key {key!r} (did you mean {meant!r}?" in error.message
    assert "front_matter: accept:" in error.message


def test_our_duplicate_keys_are_still_refused(tmp_path):
    error = parse_error(tmp_path, "---\nvars:\n  a: 1\n  a: 2\n---\n")
    assert "'a' is given twice" in error.message


def _front_matter_project(tmp_path, wf_yaml: str, meta: str):
    doc = f"---\n{meta}\n---\n# T\n\n" + block("python path=a.py", "x = 1\n")
    return write_project(tmp_path, {"01_t.md": doc}, wf_yaml=wf_yaml)


def test_wf_yaml_accepts_a_key_that_looks_like_ours(tmp_path):
    root = _front_matter_project(tmp_path, "front_matter:\n  accept: [check]\n", "check: yes")
    result = wf(root, "build")
    assert result.exit_code == 0, result.stderr
    assert (root / "sdlc" / "demo" / "01-t" / "a.py").is_file()


def test_wf_yaml_strict_refuses_every_other_key(tmp_path):
    root = _front_matter_project(tmp_path, "front_matter:\n  strict: true\n", "tags: [x]")
    result = wf(root, "build")
    assert result.exit_code == 2
    assert "01_t.md:2: unknown front matter key 'tags'" in result.stderr
    assert "strict" in result.stderr
    loose = _front_matter_project(tmp_path / "loose", "vars: {}\n", "tags: [x]")
    assert wf(loose, "build").exit_code == 0


@pytest.mark.parametrize(
    ("wf_yaml", "needle"),
    [
        ("front_matter: [x]\n", "'front_matter' takes"),
        ("front_matter: {acept: [x]}\n", "'front_matter' takes"),
        ("front_matter: {accept: x}\n", "must be a list of keys"),
        ("front_matter: {strict: maybe}\n", "must be true or false"),
    ],
)
def test_bad_front_matter_config(tmp_path, wf_yaml, needle):
    result = wf(_front_matter_project(tmp_path, wf_yaml, "title: T"), "build")
    assert result.exit_code == 2
    assert needle in result.stderr


@pytest.mark.parametrize(
    ("wf_yaml", "line"),
    [
        ("vars: {a: 1}\n\nfront_matter:\n  accept: [x]\n  strict: maybe\n", 5),
        ("vars: {a: 1}\nfront_matter:\n  accept: check\n", 3),
        ("vars: {a: 1}\n\n\nfront_matter: [x]\n", 4),
    ],
)
def test_bad_front_matter_config_names_its_line(tmp_path, wf_yaml, line):
    result = wf(_front_matter_project(tmp_path, wf_yaml, "title: T"), "build")
    assert result.exit_code == 2
    assert f"/wf.yaml:{line}: " in result.stderr.splitlines()[0]


# --- other tools' target syntax -----------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "options", "target"),
    [
        ("python", "#| file: hello.py\n", "hello.py"),
        ("python", "#| label: fig-1\n#| file: 'app/hello.py'\n#| echo: false\n", "app/hello.py"),
        ("js", "//| file: static/app.js\n", "static/app.js"),
        ("sql", '--| file: "db/init.sql"\n', "db/init.sql"),
    ],
)
def test_quarto_cell_option_names_the_target_and_is_stripped(tmp_path, lang, options, target):
    text = "# Q\n\n" + block(lang, options + "body = 1\n")
    step = parse(tmp_path, text)
    assert [(b.target, b.content, b.stripped) for b in step.blocks] == [
        (target, "body = 1\n", options.count("\n"))
    ]


def test_quarto_options_without_file_leave_an_example(tmp_path):
    text = "# Q\n\n" + block("python", "#| label: x\n#| echo: false\nprint(1)\n")
    assert parse(tmp_path, text).blocks == ()


def test_md_tangle_attribute_and_its_concatenation(tmp_path):
    text = (
        "# M\n\n"
        + block("bash tangle:scripts/setup.sh", "#!/bin/bash\necho one\n")
        + block("bash tangle:scripts/setup.sh", "echo two\n")
    )
    step = parse(tmp_path, text)
    assert [(b.target, b.mode) for b in step.blocks] == [
        ("scripts/setup.sh", "write"),
        ("scripts/setup.sh", "append"),
    ]
    root = write_project(tmp_path / "p", {"01_m.md": text})
    assert wf(root, "build").exit_code == 0
    out = root / "sdlc" / "demo" / "01-m" / "scripts" / "setup.sh"
    assert out.read_text() == "#!/bin/bash\necho one\necho two\n"


def test_md_tangle_home_folder_is_refused(tmp_path):
    error = parse_error(tmp_path, "# M\n\n" + block("sh tangle:~/.bashrc", "x\n"))
    assert "home folder" in error.message
    assert error.line == 3


def test_md_tangle_copies_are_refused(tmp_path):
    text = "# M\n\n<!-- TANGLE_CP:../assets/bg.png tangle:bg.png -->\n"
    error = parse_error(tmp_path, text)
    assert "TANGLE_CP: file copies are not done" in error.message
    assert error.line == 3


def test_md_tangle_several_files_and_tags(tmp_path):
    text = (
        "# M\n\n"
        + block("css tangle:styles/button.css,styles/input.css", "/* header */\n", "~~~~")
        + block("css tangle:styles/button.css", "#button {}\n", "~~~~")
        + block("css tangle:styles/theme.css tags:theme", "#theme {}\n", "~~~~")
    )
    root = write_project(tmp_path, {"01_m.md": text})
    assert wf(root, "build").exit_code == 0
    files = snapshot(root / "sdlc" / "demo" / "01-m")
    assert files == {
        "styles/button.css": b"/* header */\n#button {}\n",
        "styles/input.css": b"/* header */\n",
    }


@pytest.mark.parametrize(
    ("info", "target", "mode"),
    [
        ("python app/main.py", "app/main.py", "write"),
        ("go main.go", "main.go", "write"),
        ("go main.go +=", "main.go", "append"),
        ("make build/Makefile", "build/Makefile", "write"),
    ],
)
def test_lmt_header_names_the_file(tmp_path, info, target, mode):
    step = parse(tmp_path, "# L\n\n" + block(info, "x\n"))
    assert [(b.target, b.mode) for b in step.blocks] == [(target, mode)]


@pytest.mark.parametrize(
    "info",
    ["python 3.12", "python Makefile", 'go "main function"', "python app/main.py extra", "sh $"],
)
def test_lmt_header_only_where_unambiguous(tmp_path, info):
    assert parse(tmp_path, "# L\n\n" + block(info, "x\n")).blocks == ()


def test_lmt_references_are_refused_not_written(tmp_path):
    error = parse_error(tmp_path, "# L\n\n" + block("go main.go", "<<<imports>>>\n"))
    assert "lmt's <<<name>>> references are not read" in error.message


def test_entangled_octal_mode_is_a_permission(tmp_path):
    text = (
        "# E\n\n"
        + block("{.sh file=run.sh mode=0755}", "echo no shebang\n")
        + block("{.sh file=plain.sh mode=644}", "#!/bin/sh\necho not executable\n")
        + block("{.sh file=log.txt mode=append}", "line\n")
    )
    step = parse(tmp_path, text)
    assert [(b.target, b.mode, b.permissions) for b in step.blocks] == [
        ("run.sh", "write", 0o755),
        ("plain.sh", "write", 0o644),
        ("log.txt", "append", None),
    ]
    root = write_project(tmp_path / "p", {"01_e.md": text})
    assert wf(root, "build").exit_code == 0
    out = root / "sdlc" / "demo" / "01-e"
    assert (out / "run.sh").stat().st_mode & 0o111
    assert not (out / "plain.sh").stat().st_mode & 0o111
    assert wf(root, "verify").exit_code == 0


def test_a_bad_mode_still_says_what_is_allowed(tmp_path):
    error = parse_error(tmp_path, "# E\n\n" + block("{.sh file=a.sh mode=0999}", "x\n"))
    assert "unknown mode '0999'" in error.message


# --- fences Markdown would not see: refused, never lost -------------------------------------


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("# T\n\nProse.\n\n    ``` {.python file=a.py}\n    x\n    ```\n", "indented 4 spaces"),
        ("# T\n\n<div>\n``` {.python file=a.py}\nx\n```\n</div>\n", "inside an HTML block"),
        ("# T\n\n<details>\n```python path=a.py\nx\n```\n</details>\n", "inside an HTML block"),
        ("# T\n\n    ``` {.python #name}\n    x\n    ```\n", "indented 4 spaces"),
    ],
)
def test_a_target_fence_markdown_does_not_read_is_an_error(tmp_path, text, needle):
    error = parse_error(tmp_path, text)
    assert needle in error.message
    assert error.line == line_of(text, "```", 1)


@pytest.mark.parametrize(
    "text",
    [
        "# T\n\n    ```python\n    example\n    ```\n",
        '# T\n\n<div>\n```python title="A caption"\nx\n```\n</div>\n',
        "# T\n\n<details>\n\n```python path=a.py\nx\n```\n\n</details>\n",
    ],
)
def test_examples_and_readable_fences_near_html_are_fine(tmp_path, text):
    parse(tmp_path, text)


def test_quarto_id_names_a_block_as_entangled_basic_style_does(tmp_path):
    from .test_noweb import BASIC, BASIC_EXPECTED

    root = write_project(tmp_path, {"01_b.md": BASIC})
    assert wf(root, "build").exit_code == 0
    out = root / "sdlc" / "demo" / "01-b"
    assert {path: (out / path).read_text() for path in BASIC_EXPECTED} == BASIC_EXPECTED
