"""File names: shown safely, kept as written, portable to Windows; writes reach the disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner import transaction
from runner.errors import PathError, printable
from runner.paths import clean_target

from .helpers import block, snapshot, standard_project, wf, write_project

ESCAPE = "\x1b]0;pwned\x07\x1b[2J"  # retitles the terminal, then clears it


def test_printable_escapes_controls_and_bidi_overrides():
    assert printable("a\x1b[31mb\nc\u202ed") == "a\\x1b[31mb\\nc\\u202ed"
    assert printable("a\nb\x00", newlines=True) == "a\nb\\x00"
    assert printable("plain/ünïcode.py") == "plain/ünïcode.py"


def test_hostile_names_on_disk_are_escaped_in_every_report(tmp_path):
    root = standard_project(tmp_path / "proj")
    assert wf(root, "build").exit_code == 0
    (root / f"sdlc/demo/01-project-setup/{ESCAPE}.txt").write_text("stray\n")
    outputs = [wf(root, "verify"), wf(root, "build"), wf(root, "list")]
    for result in outputs:
        assert "\x1b" not in result.output and "\x07" not in result.output
    assert "\\x1b]0;pwned\\x07" in outputs[0].stdout
    assert "\\x1b]0;pwned\\x07" in outputs[1].stderr


def test_conflict_listing_escapes_names(tmp_path):
    root = write_project(
        tmp_path / "proj", {"01_a.md": "# A\n\n" + block("text path=a.txt", "1\n")}
    )
    target = tmp_path / "target"
    target.mkdir()
    (target / "a.txt").write_text("mine\n")
    result = wf(root, "apply", "01", "--to", str(target))
    assert result.exit_code == 1
    assert "a.txt: exists with different content" in result.stderr


def test_error_messages_are_one_line_whatever_the_message_holds():
    error = PathError("cannot write x\ny\x1b[2J", "docs/a\nb.md", 3)
    assert str(error) == "docs/a\\nb.md:3: cannot write x\\ny\\x1b[2J"


@pytest.mark.parametrize(
    ("info", "written"),
    [
        ("text path=app\\main.py", "app/main.py"),
        ('text path="app\\main.py"', "app/main.py"),
        ("text path=a\\\\b.py", "a/b.py"),
    ],
)
def test_backslash_in_a_target_is_kept_not_dropped(tmp_path, info, written):
    root = write_project(tmp_path / "proj", {"01_a.md": "# A\n\n" + block(info, "x\n")})
    result = wf(root, "build")
    assert result.exit_code == 0, result.output
    assert set(snapshot(root / "sdlc/demo/01-a")) == {written}


@pytest.mark.parametrize(
    "target",
    [
        "CON",
        "con.txt",
        "app/aux.py",
        "Nul",
        "COM1.log",
        "lpt9",
        "COM\u00b9",
        "docs/readme.",
        "docs /readme.md",
        "dir./x.py",
        "a<b.py",
        "ab:c.py",
        "what?.md",
        "star*.md",
        'quote".md',
        "pipe|x",
        "tab\there.py",
    ],
)
def test_names_windows_cannot_hold_are_refused(target):
    with pytest.raises(PathError, match="Windows"):
        clean_target(target, None)


@pytest.mark.parametrize(
    "target", ["console.py", "auxiliary/x.py", "com10.txt", "nul_test.py", "a.b.c"]
)
def test_names_like_device_names_are_fine(target):
    assert clean_target(target, None) == target


def test_windows_name_fails_at_its_block(tmp_path):
    root = write_project(
        tmp_path / "proj", {"01_a.md": "# A\n\n" + block("text path=app/aux.py", "x\n")}
    )
    result = wf(root, "build")
    assert result.exit_code == 2
    assert "01_a.md:3:" in result.stderr and "device name on Windows" in result.stderr


def test_files_are_flushed_before_the_manifest_is_replaced(tmp_path, monkeypatch):
    root = standard_project(tmp_path / "proj")
    events = []
    real_write, real_sync = transaction.write_atomic, transaction.sync_filesystem

    def write(path, content, executable=False, durable=False):
        events.append(("manifest" if Path(path).name == "manifest.json" else "file", durable))
        real_write(path, content, executable, durable)

    def sync(folder):
        events.append(("sync", True))
        real_sync(folder)

    monkeypatch.setattr(transaction, "write_atomic", write)
    monkeypatch.setattr(transaction, "sync_filesystem", sync)
    monkeypatch.setattr("runner.build.write_atomic", write)
    assert wf(root, "build").exit_code == 0
    kinds = [kind for kind, _ in events if kind != "file"]
    assert kinds == ["sync", "manifest"]
    assert events[-1] == ("manifest", True)
    assert events.index(("sync", True)) == len(events) - 2  # after every file
    events.clear()
    assert wf(root, "build").exit_code == 0
    assert events == []  # a no-op build writes nothing and flushes nothing
