"""Document format (DESIGN §2): targets, fences, front matter, attributes, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.discover import StepFile
from runner.errors import DocumentError
from runner.model import Step
from runner.parse import FrontMatterPolicy, parse_step

from .helpers import block, line_of, md


def parse(tmp_path: Path, text: str | bytes, name: str = "01_demo.md") -> Step:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    number, slug = name[:-3].split("_", 1)
    return parse_step(StepFile(number, slug, path))


def parse_error(tmp_path: Path, text: str) -> DocumentError:
    with pytest.raises(DocumentError) as info:
        parse(tmp_path, text)
    return info.value


BODY = 'def main() -> None:\n    print("hi")\n'


# --- targets -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "info",
    [
        "python path=app/main.py",
        "python file=app/main.py",
        "python filename=app/main.py",
        'python title="app/main.py"',
        "python title='app/main.py'",
        "{.python file=app/main.py}",
        "python {file=app/main.py}",
        "{.python #main .numberLines file=app/main.py}",
        'python path="app/main.py" linenums="1"',
    ],
)
def test_target_attribute_forms(tmp_path, info):
    text = "# Step\n\nSome prose.\n\n" + block(info, BODY)
    step = parse(tmp_path, text)
    assert len(step.blocks) == 1
    only = step.blocks[0]
    assert only.target == "app/main.py"
    assert only.lang == "python"
    assert only.content == BODY
    assert only.mode == "write"
    assert only.source.line == 5
    assert only.source.file == tmp_path / "01_demo.md"


@pytest.mark.parametrize(
    ("lang", "comment", "target"),
    [
        ("python", "# path: app/core/config.py", "app/core/config.py"),
        ("javascript", "// path: static/client.js", "static/client.js"),
        ("sql", "-- path: db/schema.sql", "db/schema.sql"),
        ("html", "<!-- path: templates/index.html -->", "templates/index.html"),
        ("", "# path: Makefile", "Makefile"),
    ],
)
def test_first_line_comment_names_target_and_is_stripped(tmp_path, lang, comment, target):
    text = "# Step\n\n" + block(lang, f"{comment}\nline one\nline two\n")
    step = parse(tmp_path, text)
    assert [b.target for b in step.blocks] == [target]
    assert step.blocks[0].content == "line one\nline two\n"
    assert "path:" not in step.blocks[0].content


def test_path_comment_below_the_first_line_is_not_a_target(tmp_path):
    text = "# Step\n\n" + block("python", "import os\n# path: app/x.py\n")
    assert parse(tmp_path, text).blocks == ()


def test_blocks_without_target_are_prose_examples(tmp_path):
    text = (
        "# Step\n\n"
        + block("python", "print('example')\n")
        + "\n"
        + block("", "plain\n")
        + "\n"
        + block("bash", "pip install fastapi\n")
        + "\n"
        + block("python path=app/real.py", "x = 1\n")
    )
    step = parse(tmp_path, text)
    assert [b.target for b in step.blocks] == ["app/real.py"]
    assert step.checks == ()


def test_block_indented_in_a_list_item(tmp_path):
    text = md(
        """
        # Step

        1. Install:

           ```bash
           pip install x
           ```

        2. Create the module:

           ```python path=app/util.py
           def f():
               return 1
           ```

           - nested deeper:

             ```python path=app/deep.py
             X = 2
             ```
        """
    )
    step = parse(tmp_path, text)
    assert [b.target for b in step.blocks] == ["app/util.py", "app/deep.py"]
    assert step.blocks[0].content == "def f():\n    return 1\n"
    assert step.blocks[1].content == "X = 2\n"
    assert step.blocks[0].source.line == line_of(text, "path=app/util.py")
    assert step.blocks[1].source.line == line_of(text, "path=app/deep.py")


def test_block_inside_a_blockquote(tmp_path):
    text = "# Step\n\n> Note:\n>\n> ```python path=app/q.py\n> Q = 1\n> ```\n"
    step = parse(tmp_path, text)
    assert [(b.target, b.content, b.source.line) for b in step.blocks] == [
        ("app/q.py", "Q = 1\n", 5)
    ]


def test_tilde_fence(tmp_path):
    inner = "```\nnot a fence here\n```\n"
    text = "# Step\n\n" + block("markdown path=docs/guide.md", inner, ticks="~~~")
    step = parse(tmp_path, text)
    assert [(b.target, b.lang) for b in step.blocks] == [("docs/guide.md", "markdown")]
    assert step.blocks[0].content == inner


def test_four_backtick_fence_contains_triple_backticks(tmp_path):
    inner = "# Title\n\n```python path=should/not/count.py\nx = 1\n```\n"
    text = "# Step\n\n" + block("markdown path=README.md", inner, ticks="````") + "\nafter\n"
    step = parse(tmp_path, text)
    assert [b.target for b in step.blocks] == ["README.md"]
    assert step.blocks[0].content == inner


def test_line_numbers_count_front_matter(tmp_path):
    text = md(
        """
        ---
        title: Numbered
        ---
        # Heading

        ```python path=a.py
        A = 1
        ```

        ```python path=b.py
        B = 2
        ```
        """
    )
    step = parse(tmp_path, text)
    assert [b.source.line for b in step.blocks] == [
        line_of(text, "path=a.py"),
        line_of(text, "path=b.py"),
    ]
    assert step.blocks[0].source.line == 6


def test_crlf_and_bom_parse_like_lf(tmp_path):
    lf = md(
        """
        ---
        title: Endings
        vars:
          name: demo
        ---
        # Endings

        ```toml path=pyproject.toml template
        [project]
        name = "{{ name }}"
        ```

        ```python
        # path: app/main.py
        print("x")
        ```
        """
    )
    reference = parse(tmp_path, lf, "01_lf.md")
    crlf = parse(tmp_path, lf.replace("\n", "\r\n"), "01_crlf.md")
    bom = parse(tmp_path, b"\xef\xbb\xbf" + lf.replace("\n", "\r\n").encode(), "01_bom.md")
    for other in (crlf, bom):
        assert other.title == reference.title == "Endings"
        assert other.vars == {"name": "demo"}
        assert [(b.target, b.content, b.source.line, b.template) for b in other.blocks] == [
            (b.target, b.content, b.source.line, b.template) for b in reference.blocks
        ]
        assert all("\r" not in b.content and "\ufeff" not in b.content for b in other.blocks)
    assert [b.target for b in reference.blocks] == ["pyproject.toml", "app/main.py"]


# --- modes and flags -------------------------------------------------------------------


def test_modes_and_flags(tmp_path):
    text = (
        "# Step\n\n"
        + block("python path=a.py", "A\n")
        + block("python path=a.py mode=append", "B\n")
        + block("diff path=a.py mode=patch", "@@ -1 +1 @@\n-A\n+C\n")
        + block("python path=settings.py skeleton", "S\n")
        + block("python path=t.py template", "{{ x }}\n")
        + block("python path=w.py mode=write", "W\n")
    )
    step = parse(tmp_path, text)
    assert [(b.target, b.mode, b.skeleton, b.template) for b in step.blocks] == [
        ("a.py", "write", False, False),
        ("a.py", "append", False, False),
        ("a.py", "patch", False, False),
        ("settings.py", "write", True, False),
        ("t.py", "write", False, True),
        ("w.py", "write", False, False),
    ]


def test_flags_work_with_first_line_target(tmp_path):
    text = "# Step\n\n" + block("python mode=append", "# path: app/a.py\nX = 1\n")
    step = parse(tmp_path, text)
    assert [(b.target, b.mode, b.content) for b in step.blocks] == [
        ("app/a.py", "append", "X = 1\n")
    ]


# --- front matter ----------------------------------------------------------------------


def test_front_matter_fields(tmp_path):
    text = md(
        """
        ---
        title: Authentication & security
        requires: [1, "02"]
        optional: true
        template: true
        vars:
          module: users
          port: 8000
        checks:
          - run: pytest -q
            name: unit
          - run: ruff check .
        generate:
          templates: templates/module
          instances:
            - module: users
            - module: items
        ---
        # Ignored heading
        """
    )
    step = parse(tmp_path, text, "04_auth_security.md")
    assert step.title == "Authentication & security"
    assert step.requires == ("01", "02")
    assert step.optional is True
    assert step.template is True
    assert step.vars == {"module": "users", "port": 8000}
    assert [(c.name, c.command, c.source.line) for c in step.checks] == [
        ("unit", "pytest -q", line_of(text, "- run: pytest -q")),
        ("ruff check .", "ruff check .", line_of(text, "- run: ruff check .")),
    ]
    assert step.generate == {
        "templates": "templates/module",
        "instances": [{"module": "users"}, {"module": "items"}],
    }
    assert (step.number, step.id, step.folder) == ("04", "auth-security", "04-auth-security")


def test_defaults_without_front_matter(tmp_path):
    step = parse(tmp_path, "Intro text\n\n# Project setup\n\nprose\n")
    assert step.title == "Project setup"
    assert (step.requires, step.optional, step.vars, step.template, step.generate) == (
        (),
        False,
        {},
        False,
        None,
    )
    assert parse(tmp_path, "no heading\n", "02_some_step.md").title == "some-step"


def test_unknown_front_matter_key_with_did_you_mean_and_line(tmp_path):
    text = "---\ntitle: A\noptional: false\nrequire: [1]\n---\n# A\n"
    error = parse_error(tmp_path, text)
    assert error.line == 4
    assert error.file == tmp_path / "01_demo.md"
    assert "require" in error.message
    assert "did you mean 'requires'" in error.message


def test_unknown_front_matter_key_without_close_match_lists_keys(tmp_path):
    path = tmp_path / "01_demo.md"
    path.write_text("---\ntitle: A\nzzz: 1\n---\n")
    with pytest.raises(DocumentError) as info:  # strict: other tools' keys refused too
        parse_step(StepFile("01", "demo", path), policy=FrontMatterPolicy(strict=True))
    error = info.value
    assert error.line == 3
    assert "zzz" in error.message
    for key in ("title", "requires", "optional", "vars", "template", "checks", "generate"):
        assert key in error.message


def test_invalid_yaml_reports_its_line(tmp_path):
    text = "---\ntitle: A\nvars:\n  a: 1\n b: 2\n---\n# A\n"
    error = parse_error(tmp_path, text)
    assert "not valid YAML" in error.message
    assert error.line == 5


def test_invalid_yaml_tab_indent_line(tmp_path):
    text = "---\ntitle: A\noptional: true\nvars:\n\ta: 1\n---\n"
    error = parse_error(tmp_path, text)
    assert "not valid YAML" in error.message
    assert error.line == 5


def test_front_matter_never_closed(tmp_path):
    error = parse_error(tmp_path, "---\ntitle: A\n# A\n")
    assert error.line == 1
    assert "never closed" in error.message


@pytest.mark.parametrize(
    ("entry", "key"),
    [
        ("requires: 3", "requires"),
        ("optional: maybe", "optional"),
        ("vars: [a, b]", "vars"),
        ("template: 1", "template"),
        ("checks: pytest", "checks"),
        ("title: [a]", "title"),
    ],
)
def test_front_matter_wrong_type(tmp_path, entry, key):
    error = parse_error(tmp_path, f"---\n# comment\n{entry}\n---\n")
    assert repr(key) in error.message
    assert error.line == 3


def test_front_matter_that_is_not_a_mapping(tmp_path):
    error = parse_error(tmp_path, "---\n- a\n- b\n---\n")
    assert "mapping" in error.message


@pytest.mark.parametrize(
    ("generate", "needle"),
    [
        ("generate:\n  template: t\n", "did you mean 'templates'"),
        ("generate:\n  instances: []\n", "generate.templates"),
        ("generate:\n  templates: t\n  instances: [a, b]\n", "generate.instances"),
    ],
)
def test_generate_spec_is_validated(tmp_path, generate, needle):
    error = parse_error(tmp_path, f"---\ntitle: G\n{generate}---\n")
    assert needle in error.message
    assert error.line == 3


def test_requires_must_be_step_numbers(tmp_path):
    error = parse_error(tmp_path, "---\nrequires: [setup]\n---\n")
    assert "requires" in error.message


# --- attribute errors ------------------------------------------------------------------

PROSE = "---\ntitle: T\n---\n# T\n\nText.\n\n"
FENCE_LINE = 8


@pytest.mark.parametrize(
    ("info", "needle"),
    [
        ("python path=a.py mdoe=append", "unknown attribute 'mdoe' (did you mean 'mode'?)"),
        ("python pth=a.py", "unknown attribute 'pth' (did you mean 'path'?)"),
        ("python path=a.py templat", "unknown flag 'templat' (did you mean 'template'?)"),
        ("python path=a.py skeleten", "unknown flag 'skeleten' (did you mean 'skeleton'?)"),
        ("python path=a.py mode=apend", "unknown mode 'apend' (did you mean 'append'?)"),
        ("python path=a.py mode=replace", "unknown mode 'replace'"),
        ("python path=a.py file=b.py", "names its target twice"),
        ("python path=a.py path=b.py", "given twice"),
        ('python path="a.py', "cannot read fence attributes"),
        ("python mode=append", "without a target"),
        ("python template", "without a target"),
        ("python path=a.py skeleton mode=append", "skeleton"),
        ("python path=a.py timeout=3", "only valid on a check block"),
        ("bash check path=x.sh", "check block cannot have path="),
        ("bash check needs=postgress", "unknown service 'postgress' (did you mean 'postgres'?)"),
        ("bash check timeout=soon", "timeout must be a number"),
        ("bash check timeout=0", "timeout must be positive"),
        ("bash check expect_output=(", "not a valid regex"),
    ],
)
def test_bad_fence_attributes_point_at_the_fence(tmp_path, info, needle):
    text = PROSE + block(info, "x = 1\n")
    assert line_of(text, info) == FENCE_LINE
    error = parse_error(tmp_path, text)
    assert needle in error.message
    assert error.line == FENCE_LINE
    assert error.file == tmp_path / "01_demo.md"
    assert str(error).startswith(f"{tmp_path / '01_demo.md'}:{FENCE_LINE}: ")


def test_unknown_attribute_without_close_match_lists_known_ones(tmp_path):
    error = parse_error(tmp_path, PROSE + block("python path=a.py zzzz=1", "x\n"))
    assert "expected one of" in error.message
    assert "path" in error.message and "mode" in error.message


# --- check blocks (parsed here, run by runner.checks) ------------------------------------


def test_check_blocks_are_not_artifacts(tmp_path):
    text = (
        "# Step\n\n"
        + block("bash check name=lint needs=redis,postgres timeout=30", "ruff check .\n")
        + block("bash check", "# comment\npytest -q\n")
        + block("bash check needs=s3 expect_exit=1 expect_output=boom", "false\n")
    )
    step = parse(tmp_path, text)
    assert step.blocks == ()
    lint, tests, failing = step.checks
    assert (lint.name, lint.command, lint.needs, lint.timeout) == (
        "lint",
        "ruff check .\n",
        ("postgres", "redis"),
        30.0,
    )
    assert lint.source.line == 3 and lint.step == "01"
    assert tests.name == "pytest -q"
    assert (failing.needs, failing.expect_exit, failing.expect_output) == (("s3",), 1, "boom")


def test_front_matter_check_entry_errors(tmp_path):
    error = parse_error(tmp_path, "---\nchecks:\n  - name: a\n    runn: x\n---\n")
    assert "did you mean 'run'" in error.message
    assert error.line == 3
    error = parse_error(tmp_path, "---\nchecks:\n  - name: a\n---\n")
    assert "'run'" in error.message


def test_duplicate_check_names(tmp_path):
    text = "---\nchecks:\n  - {name: t, run: 'true'}\n---\n" + block("bash check name=t", "x\n")
    error = parse_error(tmp_path, text)
    assert "'t' is used twice (first at line 3)" in error.message
    assert error.line == 5


def test_document_must_be_utf8(tmp_path):
    with pytest.raises(DocumentError, match="UTF-8"):
        parse(tmp_path, b"# T\n\xff\xfe bad\n")


def test_title_ignores_comments_inside_code_blocks(tmp_path):
    text = "Intro.\n\n```bash\n# install the tools\npip install x\n```\n\n# Real title\n"
    assert parse(tmp_path, text).title == "Real title"
    assert parse(tmp_path, "Setext title\n============\n\ntext\n").title == "Setext title"
