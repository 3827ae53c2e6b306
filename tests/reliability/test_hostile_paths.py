"""A corpus of hostile targets, through every target syntax and build, export and apply:
each is written inside its folder or refused at its line; nothing is created outside."""

from __future__ import annotations

import contextlib

import pytest
from core.helpers import wf, write_project

from .conftest import count
from .strategies import HOSTILE_TARGETS

SYNTAXES = [
    'text path="{t}"',
    "text path={t}",
    'text file="{t}"',
    'text title="{t}"',
    '{{.text file="{t}"}}',
    "text\n# path: {t}",
]


def _fence(syntax: str, target: str) -> str:
    info = syntax.format(t=target)
    head, _, first = info.partition("\n")
    return f"```{head}\n" + (first + "\n" if first else "") + "pwned\n```\n"


def _outside(box) -> set[str]:
    return {
        p.relative_to(box).as_posix()
        for p in box.rglob("*")
        if p.relative_to(box).parts[0] not in ("proj", "out", "target")
    }


@pytest.mark.parametrize("target", HOSTILE_TARGETS, ids=range(len(HOSTILE_TARGETS)))
def test_hostile_target_never_escapes(tmp_path, target):
    box = tmp_path
    (box / "target").mkdir()
    for syntax in SYNTAXES:
        if "\n" in target and "\n" not in syntax:
            continue
        root = write_project(box / "proj", {"01_a.md": "# A\n\n" + _fence(syntax, target)})
        for command in (
            ["build"],
            ["export", str(box / "out"), "--force"],
            ["apply", "01", "--to", str(box / "target")],
        ):
            with contextlib.chdir(root):
                result = wf(None, *command)
            count("hostile path runs")
            assert result.exit_code in (0, 1, 2), result.output
            if result.exit_code == 2:
                count("hostile path runs refused")
                assert result.stderr.count("\n") == 1
                assert result.stderr.startswith("wf: workflows/demo/01_a.md:"), result.stderr
            assert _outside(box) == set(), _outside(box)
            for folder in (root / "sdlc", box / "out", box / "target"):
                files = [p for p in folder.rglob("*") if not p.is_dir()] if folder.exists() else []
                for path in files:
                    assert path.resolve().is_relative_to(folder.resolve())
                    assert ".git" not in path.relative_to(folder).parts


@pytest.mark.parametrize("where", ["step folder", "sub folder"])
def test_symlink_in_the_output_tree_pointing_out_is_refused(tmp_path, where):
    outside = tmp_path / "outside"
    outside.mkdir()
    root = write_project(tmp_path / "proj", {"01_a.md": "# A\n\n```text path=app/x.txt\nx\n```\n"})
    link = root / ("sdlc/demo/01-a" if where == "step folder" else "sdlc/demo/01-a/app")
    link.parent.mkdir(parents=True)
    link.symlink_to(outside, target_is_directory=True)
    for force in ([], ["--force"]):
        result = wf(root, "build", *force)
        assert result.exit_code == 2, result.output
        assert "symlink" in result.stderr
    assert list(outside.iterdir()) == []


def test_existing_directory_as_target(tmp_path):
    root = write_project(tmp_path / "proj", {"01_a.md": "# A\n\n```text path=app\nx\n```\n"})
    (root / "sdlc/demo/01-a/app/keep").mkdir(parents=True)
    (root / "sdlc/demo/01-a/app/keep/mine.txt").write_text("mine\n")
    result = wf(root, "build", "--force")
    assert result.exit_code == 1 and "01_a.md:3:" in result.stderr
    assert (root / "sdlc/demo/01-a/app/keep/mine.txt").read_text() == "mine\n"
