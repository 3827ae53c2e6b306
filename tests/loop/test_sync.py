"""``wf sync``: edits made in output files go back into the block that owns them, with
every other byte of the document kept; what is not one-to-one is refused, never lost
(README "wf sync")."""

from __future__ import annotations

import pytest
from core.helpers import block, doc_path, md, snapshot, wf, write_project

OLD = "def f():\n    return 1\n\n\nX = 1\n"
NEW = "def f():\n    return 2\n\nX = 1\nY = 2\n"  # a line changed, a blank dropped, one added


def body(prefix: str, text: str, blank: str) -> str:
    """``text`` as it sits in the document: each line behind the block's container."""
    return "".join(prefix + line + "\n" if line else blank + "\n" for line in text.split("\n")[:-1])


# (id, what precedes the block's lines, the prefix of each line, the closing fence); an
# empty line is the prefix without trailing blanks, except in admonitions and tabs, whose
# content ends at an unindented blank line pair.
SYNTAXES = [
    ("path", "```python path=app.py\n", "", "```\n"),
    ("file", "```python file=app.py\n", "", "```\n"),
    ("filename", "```python filename=app.py\n", "", "```\n"),
    ("mkdocs-title", '```python title="app.py" linenums="1" hl_lines="2 3"\n', "", "```\n"),
    ("pandoc", "```{.python file=app.py}\n", "", "```\n"),
    ("pandoc-lang", "``` python {file=app.py}\n", "", "```\n"),
    ("first-line", "```python\n# path: app.py\n", "", "```\n"),
    ("quarto", "```{python}\n#| file: app.py\n#| echo: false\n", "", "```\n"),
    ("tilde", "~~~python path=app.py\n", "", "~~~\n"),
    ("long-fence", "`````python path=app.py\n", "", "`````\n"),
    ("list-item", "- Create the module:\n\n  ```python path=app.py\n", "  ", "  ```\n"),
    ("nested-list", "1. One\n   - Two:\n\n     ```python path=app.py\n", "     ", "     ```\n"),
    ("blockquote", "> ```python path=app.py\n", "> ", "> ```\n"),
    ("admonition", "!!! note\n\n    ```python path=app.py\n", "    ", "    ```\n"),
    ("content-tab", '=== "Python"\n\n    ```python path=app.py\n', "    ", "    ```\n"),
]


def document(opening: str, prefix: str, closing: str, text: str) -> str:
    indented = opening.startswith(("!!!", "==="))
    return (
        "---\ntitle: Sync\n---\n# Sync\n\nProse *before*, kept.  \n\n"
        + opening
        + body(prefix, text, prefix if indented else prefix.rstrip())
        + closing
        + "\nProse after.\n\n"
        + block("text path=other.txt", "untouched\n")
    )


def encode(text: str, crlf: bool, bom: bool) -> bytes:
    if crlf:
        text = text.replace("\n", "\r\n")
    return (("\ufeff" if bom else "") + text).encode("utf-8")


def project(tmp_path, raw: bytes):
    root = write_project(tmp_path, {"01_sync.md": ""})
    doc_path(root, "01_sync.md").write_bytes(raw)
    assert wf(root, "build").exit_code == 0
    return root


OUT = "sdlc/demo/01-sync/app.py"


@pytest.mark.parametrize("crlf,bom", [(False, False), (True, False), (False, True), (True, True)])
@pytest.mark.parametrize("syntax", SYNTAXES, ids=[s[0] for s in SYNTAXES])
def test_round_trip_keeps_every_other_byte(tmp_path, syntax, crlf, bom):
    _, opening, prefix, closing = syntax
    root = project(tmp_path, encode(document(opening, prefix, closing, OLD), crlf, bom))
    assert (root / OUT).read_text() == OLD
    (root / OUT).write_text(NEW)

    result = wf(root, "sync")
    assert result.exit_code == 0, result.output + result.stderr
    assert "synced" in result.stdout and "01_sync.md:" in result.stdout
    expected = encode(document(opening, prefix, closing, NEW), crlf, bom)
    assert doc_path(root, "01_sync.md").read_bytes() == expected
    assert (root / OUT).read_text() == NEW
    assert wf(root, "verify").exit_code == 0


def test_unchanged_lines_keep_their_own_bytes(tmp_path):
    """Trailing spaces and a lone CRLF line inside the block are not normalised."""
    raw = b"# T\n\n```python path=app.py\nA = 1   \r\nB = 2\n```\n"
    root = project(tmp_path, raw)
    (root / OUT).write_bytes(b"A = 1   \nB = 3\n")  # the CR is the document's, not the file's
    assert wf(root, "sync").exit_code == 0
    assert (
        doc_path(root, "01_sync.md").read_bytes()
        == b"# T\n\n```python path=app.py\nA = 1   \r\nB = 3\n```\n"
    )


def test_an_emptied_file_and_a_filled_empty_block(tmp_path):
    raw = md(
        """
        # T

        ```text path=a.txt
        gone
        ```

        - item

          ```text path=b.txt
          ```
        """
    ).encode()
    root = project(tmp_path, raw)
    (root / "sdlc/demo/01-sync/a.txt").write_text("")
    (root / "sdlc/demo/01-sync/b.txt").write_text("now\nfull\n")
    assert wf(root, "sync").exit_code == 0
    assert doc_path(root, "01_sync.md").read_text() == md(
        """
        # T

        ```text path=a.txt
        ```

        - item

          ```text path=b.txt
          now
          full
          ```
        """
    )
    assert wf(root, "verify").exit_code == 0


def test_dry_run_shows_the_document_diff_and_writes_nothing(tmp_path):
    root = project(tmp_path, document("```python path=app.py\n", "", "```\n", OLD).encode())
    (root / OUT).write_text(NEW)
    before = snapshot(root)
    result = wf(root, "sync", "--dry-run")
    assert result.exit_code == 0
    assert "would sync" in result.stdout
    assert "--- a/workflows/demo/01_sync.md" in result.stdout
    assert "-    return 1\n" in result.stdout and "+    return 2\n" in result.stdout
    assert "+Y = 2\n" in result.stdout
    assert snapshot(root) == before


def test_sync_only_the_paths_given_and_keep_the_other_edits(tmp_path):
    raw = "# T\n\n" + block("text path=a.txt", "a\n") + "\n" + block("text path=b.txt", "b\n")
    root = project(tmp_path, raw.encode())
    (root / "sdlc/demo/01-sync/a.txt").write_text("a2\n")
    (root / "sdlc/demo/01-sync/b.txt").write_text("b2\n")
    result = wf(root, "sync", str(root / "sdlc/demo/01-sync/a.txt"))
    assert result.exit_code == 0, result.stderr
    text = doc_path(root, "01_sync.md").read_text()
    assert "a2\n" in text and "b2" not in text
    assert (root / "sdlc/demo/01-sync/b.txt").read_text() == "b2\n"  # left as it is
    verify = wf(root, "verify", "--no-diff")
    assert verify.exit_code == 1
    assert "hand-edited sdlc/demo/01-sync/b.txt" in verify.stdout
    assert "manifest" not in verify.stdout.replace("manifest.json", "")


def test_a_path_that_is_not_an_edited_output_is_an_error(tmp_path):
    root = project(tmp_path, ("# T\n\n" + block("text path=a.txt", "a\n")).encode())
    result = wf(root, "sync", str(root / "sdlc/demo/01-sync/a.txt"))
    assert result.exit_code == 2
    assert "not a hand-edited file" in result.stderr


def test_nothing_to_sync(tmp_path):
    root = project(tmp_path, ("# T\n\n" + block("text path=a.txt", "a\n")).encode())
    result = wf(root, "sync")
    assert result.exit_code == 0
    assert "nothing to sync" in result.stdout


def test_from_an_exported_project(tmp_path):
    steps = {
        "01_one.md": "# One\n\n" + block("python path=app.py", OLD),
        "02_two.md": "# Two\n\n" + block("text path=notes.txt", "n\n"),
    }
    root = write_project(tmp_path / "repo", steps)
    assert wf(root, "build").exit_code == 0
    exported = tmp_path / "shop"
    assert wf(root, "export", str(exported)).exit_code == 0
    (exported / "app.py").write_text(NEW)
    (exported / "mine.txt").write_text("not produced by any document\n")
    result = wf(root, "sync", "--from", str(exported))
    assert result.exit_code == 0, result.stderr
    assert "synced" in result.stdout and "app.py -> workflows/demo/01_one.md:3" in result.stdout
    assert doc_path(root, "01_one.md").read_text() == "# One\n\n" + block("python path=app.py", NEW)
    assert (root / "sdlc/demo/01-one/app.py").read_text() == NEW  # rebuilt
    assert wf(root, "verify").exit_code == 0


# -- refusals: the reason, the diff to apply by hand, and nothing written ----------------

REFUSALS = {
    "appends": (
        {
            "01_a.md": "# A\n\n"
            + block("text path=log.txt mode=append", "one\n")
            + "\n"
            + block("text path=log.txt mode=append", "two\n")
        },
        "sdlc/demo/01-a/log.txt",
        "one\ntwo\nthree\n",
        "made by 2 blocks",
    ),
    "append-onto-earlier": (
        {
            "01_a.md": "# A\n\n" + block("text path=log.txt", "one\n"),
            "02_b.md": "# B\n\n" + block("text path=log.txt mode=append", "two\n"),
        },
        "sdlc/demo/02-b/log.txt",
        "one\ntwo\nthree\n",
        "appends to what an earlier step wrote",
    ),
    "patch": (
        {
            "01_a.md": "# A\n\n" + block("text path=t.txt", "a\nb\n"),
            "02_b.md": "# B\n\n"
            + block(
                "diff path=t.txt mode=patch",
                "--- a/t.txt\n+++ b/t.txt\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n",
            ),
        },
        "sdlc/demo/02-b/t.txt",
        "a\nc\nd\n",
        "made by a patch",
    ),
    "template": (
        {
            "01_a.md": "---\nvars: {name: shop}\n---\n# A\n\n"
            + block("text path=t.txt template", "name={{ name }}\n")
        },
        "sdlc/demo/01-a/t.txt",
        "name=store\n",
        "a jinja template",
    ),
    "step-template": (
        {
            "01_a.md": "---\ntemplate: true\nvars: {name: shop}\n---\n# A\n\n"
            + block("text path=t.txt", "plain\n")
        },
        "sdlc/demo/01-a/t.txt",
        "changed\n",
        "a jinja template",
    ),
    "generator": (
        {
            "01_a.md": "---\ngenerate:\n  templates: tpl\n  instances: [{module: product}]\n---\n"
            "# A\n\n" + block('jinja path="tpl/{{ module }}.txt.j2"', "module {{ module }}\n")
        },
        "sdlc/demo/01-a/product.txt",
        "module product!\n",
        "by generate:",
    ),
    "later-rewrite": (
        {
            "01_a.md": "# A\n\n" + block("text path=t.txt", "first\n"),
            "02_b.md": "# B\n\n" + block("text path=t.txt", "second\n"),
        },
        "sdlc/demo/01-a/t.txt",
        "first, edited\n",
        "writes t.txt again in a later step",
    ),
    "noweb": (
        {
            "01_a.md": "# A\n\n"
            + block("{.python #greet}", "print('hi')\n")
            + "\n"
            + block("python path=main.py", "<<greet>>\n")
        },
        "sdlc/demo/01-a/main.py",
        "print('hello')\n",
        "blocks",
    ),
    "derived": (
        {"01_a.md": "# A\n\n" + block("bash derive path=out.txt from=stdout", "echo made\n")},
        "sdlc/demo/01-a/out.txt",
        "made by hand\n",
        "derived by the command",
    ),
    "no-final-newline": (
        {"01_a.md": "# A\n\n" + block("text path=t.txt", "x\n")},
        "sdlc/demo/01-a/t.txt",
        "x\ny",
        "does not end with a newline",
    ),
    "closes-the-fence": (
        {"01_a.md": "# A\n\n" + block("markdown path=README.md", "# Readme\n")},
        "sdlc/demo/01-a/README.md",
        "# Readme\n\n```\ncode\n```\n",
        "would close the block",
    ),
}


@pytest.mark.parametrize("case", REFUSALS, ids=list(REFUSALS))
def test_refused_with_the_reason_and_the_diff_and_nothing_lost(tmp_path, case):
    docs, output, edited, reason = REFUSALS[case]
    root = write_project(tmp_path, docs)
    built = wf(root, "build")
    assert built.exit_code == 0, built.stderr
    (root / output).write_text(edited)
    documents = snapshot(root / "workflows")
    outputs = snapshot(root / "sdlc")

    result = wf(root, "sync")
    assert result.exit_code == 1
    assert f"wf: {output}: not synced: " in result.stderr
    assert reason in result.stderr
    assert "apply by hand" in result.stdout
    assert f"+++ b/{output}" in result.stdout
    assert f"+{edited.splitlines()[-1]}\n" in result.stdout  # the edit, to apply by hand
    assert snapshot(root / "workflows") == documents  # no document touched
    assert snapshot(root / "sdlc") == outputs  # the edit is still there
    assert (root / output).read_text() == edited


def test_a_refused_file_does_not_stop_the_others(tmp_path):
    docs = {
        "01_a.md": "# A\n\n"
        + block("text path=good.txt", "good\n")
        + "\n"
        + block("text path=log.txt mode=append", "one\n")
        + "\n"
        + block("text path=log.txt mode=append", "two\n"),
    }
    root = write_project(tmp_path, docs)
    assert wf(root, "build").exit_code == 0
    (root / "sdlc/demo/01-a/good.txt").write_text("better\n")
    (root / "sdlc/demo/01-a/log.txt").write_text("one\ntwo\nthree\n")
    result = wf(root, "sync")
    assert result.exit_code == 1
    assert "synced     sdlc/demo/01-a/good.txt" in result.stdout
    assert "log.txt: not synced" in result.stderr
    text = doc_path(root, "01_a.md").read_text()
    assert "better\n" in text and "three" not in text
    assert (root / "sdlc/demo/01-a/log.txt").read_text() == "one\ntwo\nthree\n"
    verify = wf(root, "verify", "--no-diff")
    assert "hand-edited sdlc/demo/01-a/log.txt" in verify.stdout
    assert "good.txt" not in verify.stdout
