"""The stat index (runner/index.py): a no-op skips parsing, and still finds every drift.

Each drift test first proves the index is in use (a recorded index answers without
parsing), then changes the tree in a way stats alone could miss if only mtime and size
were compared, and expects ``wf verify`` to find exactly what it finds without an index.
"""

from __future__ import annotations

import json
import os

import pytest

from runner import build, index, project
from runner.project import load_set
from runner.stepcache import seal

from .helpers import EXPECTED, block, doc_path, line_of, standard_project, wf, write_project

KEY = "01-project-setup/app/main.py"
PYPROJECT = "01-project-setup/pyproject.toml"


@pytest.fixture
def settled(monkeypatch):
    """Files the test wrote a moment ago count as settled, as if the run came later
    (real runs trust only stats older than ``RACY_NS``; see test_recent_files_...)."""
    monkeypatch.setattr(index, "RACY_NS", -3600 * 10**9)


@pytest.fixture
def recorded(tmp_path, settled):
    """A built project whose index was recorded by a full comparison that found nothing."""
    root = standard_project(tmp_path / "proj")
    assert wf(root, "build").exit_code == 0
    assert wf(root, "verify").exit_code == 0  # the full comparison, which records
    assert index.index_file(load_set(root, "demo")).is_file()
    return root


def no_parsing(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a document was parsed")

    monkeypatch.setattr(project, "_parse_cached", refuse)


def kinds(root):
    found = build.verify([load_set(root, "demo")]).differences["demo"]
    return sorted((d.kind, d.key) for d in found)


def rewrite_keeping_mtime(path, data):
    """Change a file's content in place and put its mtime (and atime) back."""
    before = path.stat()
    path.write_bytes(data)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def test_unchanged_set_is_verified_and_built_without_parsing(recorded, monkeypatch):
    no_parsing(monkeypatch)
    assert kinds(recorded) == []
    result = wf(recorded, "build")
    assert result.exit_code == 0, result.output
    assert "demo: up to date" in result.output


def test_output_edited_with_mtime_restored_is_found(recorded):
    path = recorded / "sdlc" / "demo" / KEY
    assert path.read_bytes() == EXPECTED[KEY]
    rewrite_keeping_mtime(path, EXPECTED[KEY].replace(b"app = ", b"app=  "))  # same size
    assert path.stat().st_size == len(EXPECTED[KEY])
    assert kinds(recorded) == [("hand-edited", KEY)]
    result = wf(recorded, "verify")
    assert result.exit_code == 1 and KEY in result.output


def test_document_edited_with_mtime_restored_is_found(recorded):
    doc = doc_path(recorded, "01_project_setup.md")
    text = doc.read_bytes()
    rewrite_keeping_mtime(doc, text.replace(b"name: shop", b"name: shoq"))  # same size
    assert kinds(recorded) == [("manifest", "manifest.json"), ("stale", PYPROJECT)]


def test_output_replaced_by_a_file_of_the_same_size_and_mtime_is_found(recorded, tmp_path):
    path = recorded / "sdlc" / "demo" / KEY
    before = path.stat()
    other = tmp_path / "other.py"
    other.write_bytes(EXPECTED[KEY].upper())
    os.utime(other, ns=(before.st_atime_ns, before.st_mtime_ns))
    other.replace(path)
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert kinds(recorded) == [("hand-edited", KEY)]


def test_edited_manifest_is_found(recorded):
    manifest = recorded / "sdlc" / "demo" / "manifest.json"
    data = manifest.read_bytes()
    digest = index_of_digest(data)
    flipped = b"0" if data[digest : digest + 1] != b"0" else b"1"
    rewrite_keeping_mtime(manifest, data[:digest] + flipped + data[digest + 1 :])
    assert ("manifest", "manifest.json") in kinds(recorded)
    assert wf(recorded, "verify").exit_code == 1


def index_of_digest(manifest: bytes) -> int:
    return manifest.index(b'"sha256": "') + len(b'"sha256": "')


def test_added_output_file_is_found(recorded):
    (recorded / "sdlc" / "demo" / "01-project-setup" / "app" / "extra.py").write_text("x = 1\n")
    assert kinds(recorded) == [("untracked", "01-project-setup/app/extra.py")]


def test_deleted_output_and_new_document_are_found(recorded):
    (recorded / "sdlc" / "demo" / KEY).unlink()
    assert kinds(recorded) == [("missing", KEY)]
    doc_path(recorded, "04_more.md").write_text("```python path=more.py\nx = 1\n```\n")
    assert ("missing", "04-more/more.py") in kinds(recorded)


def test_empty_folder_left_in_outputs_is_still_removed_by_build(recorded):
    empty = recorded / "sdlc" / "demo" / "01-project-setup" / "left-over"
    empty.mkdir()
    assert wf(recorded, "build").exit_code == 0
    assert not empty.exists()


def test_index_this_machine_did_not_seal_is_ignored(recorded):
    """A planted index that describes a tampered tree exactly, sealed with another key."""
    wset = load_set(recorded, "demo")
    (recorded / "sdlc" / "demo" / KEY).write_bytes(b"tampered\n")
    data = {"format": index.FORMAT, "fingerprint": index.fingerprint(wset)}
    data["stats"] = index.tree_stats(wset)
    forged = seal(json.dumps(data, separators=(",", ":")).encode(), b"k" * 32, f"{wset.name}.json")
    index.index_file(wset).write_bytes(forged)
    assert kinds(recorded) == [("hand-edited", KEY)]


def test_damaged_index_means_a_full_comparison(recorded):
    wset = load_set(recorded, "demo")
    index.index_file(wset).write_bytes(b"\x00garbage")
    assert kinds(recorded) == []
    assert index.recall(load_set(recorded, "demo")) == []  # the full comparison re-recorded it


def test_recent_files_are_not_trusted(tmp_path):
    """Without the ``settled`` fixture: files written less than RACY_NS ago (all of
    them, here) could change within one clock tick unseen, so no index is kept."""
    root = standard_project(tmp_path / "proj")
    assert wf(root, "build").exit_code == 0
    assert wf(root, "verify").exit_code == 0
    assert not index.index_file(load_set(root, "demo")).exists()


def test_drift_is_never_recorded(tmp_path, settled):
    root = standard_project(tmp_path / "proj")
    assert wf(root, "build").exit_code == 0
    (root / "sdlc" / "demo" / KEY).write_text("changed\n")
    assert wf(root, "verify").exit_code == 1
    assert not index.index_file(load_set(root, "demo")).exists()
    assert wf(root, "verify").exit_code == 1


def test_plan_warnings_are_repeated_by_a_run_answered_from_the_index(
    tmp_path, settled, monkeypatch
):
    doc = (
        "# T\n\n"
        + block("{.python file=a.py}", "<<used>>\n")
        + block("{.python #used}", "x = 1\n")
        + block("{.python #spare}", "y = 2\n")
    )
    root = write_project(tmp_path, {"01_t.md": doc})
    warning = (
        f"warning: workflows/demo/01_t.md:{line_of(doc, '#spare')}: "
        "<<spare>> is defined but never used"
    )
    assert wf(root, "build").exit_code == 0
    assert warning in wf(root, "verify").stderr  # the full comparison, which records
    no_parsing(monkeypatch)
    result = wf(root, "verify")
    assert result.exit_code == 0
    assert warning in result.stderr


def test_a_set_with_derived_outputs_is_always_compared_in_full(tmp_path, settled):
    """A derivation's command may depend on the interpreter and tools it finds, which
    no stat of the set's files covers."""
    docs = {
        "01_data.md": "# Data\n\n" + block("text path=data.txt", "b\na\n"),
        "02_derived.md": "# Derived\n\n"
        + block("bash derive path=s.txt from=stdout", "sort data.txt"),
    }
    root = write_project(tmp_path / "proj", docs)
    assert wf(root, "build").exit_code == 0
    assert wf(root, "verify").exit_code == 0
    assert not index.index_file(load_set(root, "demo")).exists()
