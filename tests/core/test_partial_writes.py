"""Things in a target's way are found before the first write; damaged manifests repair."""

from __future__ import annotations

import json

import pytest

from runner import transaction

from .helpers import block, snapshot, wf, write_project

DOC = "# A\n\n" + block("text path=a/one.txt", "1\n") + "\n" + block("text path=b/two.txt", "2\n")
TWO_AT = 7  # the line of the second block


def project(tmp_path):
    return write_project(tmp_path / "proj", {"01_a.md": DOC})


def _in_the_way(place, kind):
    if kind == "empty folder":
        (place / "b/two.txt").mkdir(parents=True)
    elif kind == "nested empty folders":
        (place / "b/two.txt/x/y").mkdir(parents=True)
    elif kind == "dangling link as file":
        (place / "b").mkdir(parents=True)
        (place / "b/two.txt").symlink_to("nowhere")
    elif kind == "dangling link as folder":
        place.mkdir(parents=True, exist_ok=True)
        (place / "b").symlink_to("nowhere")


KINDS = ["empty folder", "nested empty folders", "dangling link as file", "dangling link as folder"]


@pytest.mark.parametrize("kind", KINDS)
def test_apply_finds_what_is_in_the_way_before_writing(tmp_path, kind):
    root = project(tmp_path)
    target = tmp_path / "target"
    target.mkdir()
    _in_the_way(target, kind)
    for force in ([], ["--force"]):
        result = wf(root, "apply", "01", "--to", str(target), *force)
        assert result.exit_code in (1, 2), result.output
        assert result.stderr.count("\n") == 1, result.stderr
        assert f"workflows/demo/01_a.md:{TWO_AT}:" in result.stderr
        assert ".tmp" not in result.stderr
        assert not (target / "a").exists()  # the first block's file was not written


@pytest.mark.parametrize("kind", ["dangling link as file", "dangling link as folder"])
def test_build_finds_a_dangling_link_before_writing(tmp_path, kind):
    root = project(tmp_path)
    _in_the_way(root / "sdlc/demo/01-a", kind)
    for force in ([], ["--force"]):
        result = wf(root, "build", *force)
        assert result.exit_code in (1, 2), result.output
        assert result.stderr.count("\n") == 1, result.stderr
        assert f"workflows/demo/01_a.md:{TWO_AT}:" in result.stderr
        assert not (root / "sdlc/demo/01-a/a").exists()
        assert not (root / "sdlc/demo/manifest.json").exists()


@pytest.mark.parametrize("kind", ["empty folder", "nested empty folders"])
def test_build_clears_empty_folders_in_its_own_tree(tmp_path, kind):
    """sdlc/<set>/ is wf's: a file-less folder there (git cannot even carry it) goes."""
    root = project(tmp_path)
    _in_the_way(root / "sdlc/demo/01-a", kind)
    result = wf(root, "build")
    assert result.exit_code == 0, result.output
    assert snapshot(root / "sdlc/demo/01-a") == {"a/one.txt": b"1\n", "b/two.txt": b"2\n"}
    assert wf(root, "verify").exit_code == 0


def test_folder_left_by_a_kill_after_its_last_delete_is_removed(tmp_path, monkeypatch):
    root = write_project(
        tmp_path / "proj", {"01_a.md": "# A\n\n" + block("text path=x/y/z.txt", "z\n")}
    )
    assert wf(root, "build").exit_code == 0
    (root / "workflows/demo/01_a.md").write_text("# A\n\n" + block("text path=other.txt", "o\n"))

    def killed(folder, root):
        raise KeyboardInterrupt  # the run dies between the unlink and the rmdir

    monkeypatch.setattr(transaction, "_remove_empty_parents", killed)
    assert wf(root, "build").exit_code == 130
    assert (root / "sdlc/demo/01-a/x/y").is_dir()
    monkeypatch.undo()
    assert wf(root, "build").exit_code == 0
    assert not (root / "sdlc/demo/01-a/x").exists()
    assert wf(root, "build").stdout.strip() == "demo: up to date"


def test_a_folder_emptied_by_the_build_can_become_a_file(tmp_path):
    root = write_project(
        tmp_path / "proj", {"01_a.md": "# A\n\n" + block("text path=b/x/c", "c\n")}
    )
    assert wf(root, "build").exit_code == 0
    (root / "sdlc/demo/01-a/b/empty").mkdir()  # besides the file the build deletes
    (root / "workflows/demo/01_a.md").write_text("# A\n\n" + block("text path=b", "b\n"))
    result = wf(root, "build")
    assert result.exit_code == 0, result.output
    assert snapshot(root / "sdlc/demo/01-a") == {"b": b"b\n"}


# --- damaged manifests ----------------------------------------------------------------


def test_deeply_nested_manifest_is_one_line_and_force_repairs_it(tmp_path):
    root = project(tmp_path)
    assert wf(root, "build").exit_code == 0
    good = (root / "sdlc/demo/manifest.json").read_bytes()
    (root / "sdlc/demo/manifest.json").write_text("[" * 100_000)
    for command in ("verify", "build", "list"):
        result = wf(root, command)
        assert result.exit_code == 2, (command, result.output)
        assert result.stderr.count("\n") == 1
        assert "manifest.json: manifest is damaged" in result.stderr
        assert "--force" in result.stderr
    assert wf(root, "build", "--force").exit_code == 0
    assert (root / "sdlc/demo/manifest.json").read_bytes() == good
    assert wf(root, "verify").exit_code == 0


def test_manifest_replaced_by_a_folder_is_refused_before_any_write(tmp_path):
    root = project(tmp_path)
    (root / "sdlc/demo/manifest.json").mkdir(parents=True)
    for force in ([], ["--force"]):
        result = wf(root, "build", *force)
        assert result.exit_code == 1
        assert result.stderr.count("\n") == 1
        assert "sdlc/demo/manifest.json:" in result.stderr and "move it away" in result.stderr
        assert "--force" not in result.stderr  # it would not help, so it is not suggested
        assert not (root / "sdlc/demo/01-a").exists()
    (root / "sdlc/demo/manifest.json").rmdir()
    assert wf(root, "build").exit_code == 0
    assert json.loads((root / "sdlc/demo/manifest.json").read_text())["files"]
