"""Safety rules (DESIGN §3, §9): plan first, atomic writes, lock, confinement, hand edits."""

from __future__ import annotations

import functools
import os
import threading
import time

import pytest

from runner import build, transaction
from runner.errors import LockError, PathError
from runner.paths import clean_target, confined
from runner.transaction import locked, write_atomic

from .helpers import age, block, doc_path, snapshot, standard_project, stats, wf, write_project


def tree(root):
    return snapshot(root / "workflows"), snapshot(root / "sdlc")


# --- path confinement in documents ---------------------------------------------------


@pytest.mark.parametrize(
    ("target", "needle"),
    [
        ("/tmp/evil.py", "absolute"),
        ("C:/evil.py", "absolute"),
        ("../evil.py", ".."),
        ("app/../../evil.py", ".."),
        ("app\\..\\..\\evil.py", ".."),
        ("app/", "does not name a file"),
        (".", "does not name a file"),
    ],
)
def test_hostile_targets_are_rejected_at_their_line(tmp_path, monkeypatch, target, needle):
    text = "# Evil\n\nprose\n\n" + block(f'python path="{target}"', "pwned = True\n")
    root = write_project(
        tmp_path / "proj",
        {"01_good.md": "# ok\n" + block("text path=a", "a\n"), "02_evil.md": text},
    )
    monkeypatch.chdir(root)
    result = wf(None, "build")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"wf: workflows/demo/02_evil.md:5: target {target!r}")
    assert needle in result.stderr
    assert not (root / "sdlc").exists()
    assert not list(tmp_path.rglob("evil.py"))


def test_templated_target_is_confined(tmp_path):
    text = "---\nvars: {p: ../../evil.py}\n---\n" + block('text path="{{ p }}" template', "x\n")
    root = write_project(tmp_path / "proj", {"01_a.md": text})
    result = wf(root, "build")
    assert result.exit_code == 2
    assert "01_a.md:4:" in result.stderr and ".." in result.stderr
    assert not list(tmp_path.rglob("evil.py"))


def test_clean_target_normalises():
    assert clean_target("./app//main.py", None) == "app/main.py"
    assert clean_target("app\\main.py", None) == "app/main.py"
    with pytest.raises(PathError):
        clean_target("a\0b", None)


def test_confined_refuses_symlinks(tmp_path):
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    (root / "sub").mkdir(parents=True)
    outside.mkdir()
    (root / "link").symlink_to(outside, target_is_directory=True)
    (root / "sub" / "file").symlink_to(outside / "f")
    assert confined(root, "sub/ok.txt") == root / "sub" / "ok.txt"
    with pytest.raises(PathError):
        confined(root, "link/x.txt")
    with pytest.raises(PathError):
        confined(root, "sub/file")


# --- symlinks inside sdlc/<set>/<step>/ ------------------------------------------------


def _symlinked_project(tmp_path, how):
    root = standard_project(tmp_path / "proj")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("precious\n")
    step = root / "sdlc" / "demo" / "02-routes"
    if how == "dir":
        step.mkdir(parents=True)
        (step / "app").symlink_to(outside, target_is_directory=True)
    elif how == "file":
        (step / "app").mkdir(parents=True)
        (step / "app" / "routes.py").symlink_to(outside / "keep.txt")
    else:
        step.parent.mkdir(parents=True)
        step.symlink_to(outside, target_is_directory=True)
    return root, outside


@pytest.mark.parametrize("how", ["dir", "file", "step"])
def test_symlink_in_output_never_writes_outside(tmp_path, how):
    root, outside = _symlinked_project(tmp_path, how)
    before = snapshot(outside)
    result = wf(root, "build")
    assert result.exit_code == 2
    assert "symlink" in result.stderr
    assert "Traceback" not in result.output
    assert snapshot(outside) == before
    assert not (root / "sdlc" / "demo" / "manifest.json").exists()
    assert not (root / "sdlc" / "demo" / "01-project-setup").exists()


def test_symlink_error_names_the_owning_block(tmp_path, monkeypatch):
    root, _ = _symlinked_project(tmp_path, "dir")
    monkeypatch.chdir(root)
    result = wf(None, "build")
    assert result.exit_code == 2
    assert result.stderr.startswith("wf: workflows/demo/02_routes.md:")


# --- hand edits ----------------------------------------------------------------------


def test_hand_edited_output_is_refused_and_nothing_is_written(tmp_path):
    root = standard_project(tmp_path)
    assert wf(root, "build").exit_code == 0
    out = root / "sdlc" / "demo"
    edited = out / "01-project-setup" / "app" / "main.py"
    edited.write_text("# my precious edit\n")
    doc = doc_path(root, "02_routes.md")
    doc.write_text(doc.read_text().replace("APIRouter()", "APIRouter(tags=['x'])"))
    doc3 = doc_path(root, "03_docs.md")
    doc3.write_text(doc3.read_text().replace("// path: static/app.js\n", ""))
    age(out)
    before, before_stats = snapshot(out), stats(out)

    result = wf(root, "build")
    assert result.exit_code == 1
    assert "01-project-setup/app/main.py" in result.stderr
    assert "--force" in result.stderr
    assert "Traceback" not in result.output
    assert snapshot(out) == before
    assert stats(out) == before_stats

    result = wf(root, "build", "--force")
    assert result.exit_code == 0
    assert b"precious" not in edited.read_bytes()
    assert wf(root, "verify").exit_code == 0


def test_hand_edited_orphan_is_refused(tmp_path):
    root = standard_project(tmp_path)
    assert wf(root, "build").exit_code == 0
    orphan = root / "sdlc" / "demo" / "03-docs" / "static" / "app.js"
    orphan.write_text("// mine\n")
    doc3 = doc_path(root, "03_docs.md")
    doc3.write_text(doc3.read_text().replace("// path: static/app.js\n", ""))
    assert wf(root, "build").exit_code == 1
    assert orphan.read_text() == "// mine\n"
    assert wf(root, "build", "--force").exit_code == 0
    assert not orphan.exists()


def test_untracked_file_in_the_way_is_refused(tmp_path):
    root = standard_project(tmp_path)
    mine = root / "sdlc" / "demo" / "02-routes" / "app" / "routes.py"
    mine.parent.mkdir(parents=True)
    mine.write_text("mine\n")
    result = wf(root, "build")
    assert result.exit_code == 1
    assert mine.read_text() == "mine\n"
    assert not (root / "sdlc" / "demo" / "01-project-setup").exists()


# --- plan first ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        "---\ntitel: x\n---\n",
        block("python path=a.py mdoe=append", "x\n"),
        block("diff path=nothing.py mode=patch", "@@ -1 +1 @@\n-a\n+b\n"),
        block("text path=t.txt template", "{{ undefined_var }}\n"),
    ],
)
def test_nothing_is_written_when_any_document_has_an_error(tmp_path, bad):
    root = standard_project(tmp_path)
    assert wf(root, "build").exit_code == 0
    doc = doc_path(root, "01_project_setup.md")
    doc.write_text(doc.read_text().replace('name = "{{ name }}"', 'name = "{{ name }}-v2"'))
    (root / "workflows" / "demo" / "04_broken.md").write_text(bad)
    before = tree(root)
    result = wf(root, "build")
    assert result.exit_code == 2
    assert "04_broken.md:" in result.stderr
    assert tree(root) == before


def test_nothing_is_written_on_first_build_with_an_error(tmp_path):
    root = standard_project(tmp_path)
    (root / "workflows" / "demo" / "09_broken.md").write_text(block("x path=/abs", "x\n"))
    assert wf(root, "build").exit_code == 2
    assert not (root / "sdlc").exists()


# --- atomic writes -------------------------------------------------------------------


def test_build_leaves_no_temporary_files(tmp_path):
    root = standard_project(tmp_path)
    assert wf(root, "build").exit_code == 0
    doc = doc_path(root, "02_routes.md")
    doc.write_text(doc.read_text().replace("APIRouter()", "APIRouter(x=1)"))
    assert wf(root, "build").exit_code == 0
    names = [p.name for p in (root / "sdlc").rglob("*")]
    assert not [n for n in names if n.endswith(".tmp") or ".wf-" in n]


def test_atomic_write_failure_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "a" / "file.txt"
    target.parent.mkdir()
    target.write_bytes(b"old\n")

    def broken_replace(source, destination):
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk on fire"):
        write_atomic(target, b"new\n")
    monkeypatch.undo()
    assert target.read_bytes() == b"old\n"
    assert [p.name for p in target.parent.iterdir()] == ["file.txt"]


def test_atomic_write_modes(tmp_path):
    target = tmp_path / "deep" / "er" / "x.sh"
    write_atomic(target, b"#!/bin/sh\n", executable=True)
    assert target.read_bytes() == b"#!/bin/sh\n"
    assert target.stat().st_mode & 0o777 == 0o755
    write_atomic(target, b"plain\n")
    assert target.stat().st_mode & 0o777 == 0o644


# --- lock ----------------------------------------------------------------------------


def test_lock_is_exclusive(tmp_path):
    lock = tmp_path / ".wf" / "x.lock"
    with locked(lock, wait=1):
        started = time.monotonic()
        with pytest.raises(LockError, match="another wf run"), locked(lock, wait=0.3):
            pass
        assert time.monotonic() - started >= 0.3
    with locked(lock, wait=0.1):
        pass


def test_second_build_fails_clearly_while_locked(tmp_path, monkeypatch):
    root = standard_project(tmp_path)
    monkeypatch.setattr(build, "locked", functools.partial(transaction.locked, wait=0.2))
    lock_file = root / ".wf" / "demo.lock"
    with locked(lock_file, wait=1):
        result = wf(root, "build")
    assert result.exit_code == 2
    assert result.stderr.startswith("wf: another wf run holds")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (root / "sdlc").exists()


def test_second_build_waits_for_the_first(tmp_path):
    root = standard_project(tmp_path)
    lock_file = root / ".wf" / "demo.lock"
    held = threading.Event()

    def hold():
        with locked(lock_file, wait=1):
            held.set()
            time.sleep(0.5)

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait(5)
    started = time.monotonic()
    result = wf(root, "build")
    waited = time.monotonic() - started
    thread.join()
    assert result.exit_code == 0
    assert waited >= 0.3
    assert (root / "sdlc" / "demo" / "manifest.json").is_file()


def test_lock_file_lives_outside_the_output(tmp_path):
    root = standard_project(tmp_path)
    assert wf(root, "build").exit_code == 0
    assert not [p for p in (root / "sdlc").rglob("*.lock")]
    assert [p.name for p in (root / "sdlc").iterdir()] == ["demo"]


# --- export / apply targets ----------------------------------------------------------


def test_export_through_a_symlink_in_the_target_writes_nothing_outside(tmp_path):
    root = standard_project(tmp_path / "proj")
    outside = tmp_path / "outside"
    outside.mkdir()
    target = tmp_path / "t"
    target.mkdir()
    (target / "app").symlink_to(outside, target_is_directory=True)
    result = wf(root, "export", str(target), "--force")
    assert result.exit_code == 2
    assert "symlink" in result.stderr
    assert list(outside.iterdir()) == []
    assert [p.name for p in target.iterdir()] == ["app"]


def test_apply_through_a_symlink_writes_nothing_outside(tmp_path):
    root = standard_project(tmp_path / "proj")
    target = tmp_path / "t"
    assert wf(root, "export", str(target), "--steps", "1").exit_code == 0
    outside = tmp_path / "outside"
    outside.mkdir()
    (target / "app" / "main.py").rename(outside / "main.py")
    (target / "app").rmdir()
    (target / "app").symlink_to(outside, target_is_directory=True)
    before = snapshot(outside)
    result = wf(root, "apply", "2", "--to", str(target))
    assert result.exit_code == 2
    assert "symlink" in result.stderr
    assert snapshot(outside) == before


def test_temporary_file_of_a_killed_run_is_cleaned_by_the_next_build(tmp_path):
    root = standard_project(tmp_path)
    assert wf(root, "build").exit_code == 0
    leftover = root / "sdlc" / "demo" / "02-routes" / "app" / ".routes.py.wf-4242-7.tmp"
    leftover.write_bytes(b"from fastapi import Ap")  # a write cut short by SIGKILL
    result = wf(root, "verify")
    assert result.exit_code == 1
    assert ".routes.py.wf-4242-7.tmp" in result.output
    assert wf(root, "build").exit_code == 0
    assert not leftover.exists()
    assert wf(root, "verify").exit_code == 0


def test_simple_targets_take_a_shortcut_to_the_same_answer():
    """clean_target's fast path (SIMPLE_TARGET) answers as the full rules do, refusals
    included: device names, long names, dots, .git look-alikes."""
    import random

    from runner.paths import SIMPLE_TARGET, normalised_target

    rng = random.Random(17)
    alphabet = "aZ09_-./.gG~ "
    words = ["con", "NUL", "com1", "lpt9", "aux.txt", ".git", "git", "x" * 201, "a..b", "ok"]
    words += ["Con.tar.gz", "prn", "com0", "lpt1.x", "conx", "xcon", "COM9", "nul-x", "y" * 200]
    seen_fast = 0
    for _ in range(20000):
        if rng.random() < 0.5:
            target = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 14)))
        else:
            target = "/".join(rng.choice(words) for _ in range(rng.randint(1, 3)))
        seen_fast += bool(SIMPLE_TARGET.fullmatch(target))
        try:
            expected: object = normalised_target(target, None)
        except PathError as exc:
            expected = ("refused", str(exc))
        try:
            got: object = clean_target(target, None)
        except PathError as exc:
            got = ("refused", str(exc))
        assert got == expected, target
    assert seen_fast > 1000
