"""The runner's contract, for every generated project: exit 0/1 with consistent outputs,
or exit 2 with one line naming a file and line; never a traceback, never a write after
an error, never a file outside the output tree."""

from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from core.helpers import snapshot, wf
from hypothesis import given

from runner import template

from .conftest import count
from .strategies import ESCAPE_PAYLOADS, projects

ERROR_LINE = re.compile(r"^wf: (?P<file>[^\n]+?):(?P<line>\d+): [^\n]+\n$")


@pytest.fixture(autouse=True, scope="module")
def quick_limits():
    """Template limits low enough that a bomb costs a fraction of a second."""
    saved = template.MAX_SECONDS, template.MAX_OUTPUT_CHARS
    template.MAX_SECONDS, template.MAX_OUTPUT_CHARS = 0.3, 1024 * 1024
    yield
    template.MAX_SECONDS, template.MAX_OUTPUT_CHARS = saved


def _everything(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")}


def _check_error(result, root: Path) -> None:
    match = ERROR_LINE.match(result.stderr)
    assert match, f"not one file:line line: {result.stderr!r}"
    named = (root / match["file"]).resolve()
    assert named.is_relative_to(root.resolve()), match["file"]
    count("errors with file:line")


@given(projects())
def test_contract_holds_for_generated_projects(files):
    box = Path(tempfile.mkdtemp(prefix="wf-fuzz-"))
    try:
        root = box / "proj"
        folder = root / "workflows/demo"
        folder.mkdir(parents=True)
        for name, data in files.items():
            (folder / name).write_bytes(data)
        if any(p.encode() in data for p in ESCAPE_PAYLOADS for data in files.values()):
            count("examples carrying sandbox-escape payloads")
        before = _everything(box)
        with contextlib.chdir(root):
            built = wf(None, "build")
            count("examples")
            count(f"build exit {built.exit_code}")
            assert built.exit_code in (0, 1, 2), built.output
            assert "Traceback" not in built.output
            outside = _everything(box) - before
            assert all(p.startswith(("proj/sdlc", "proj/.wf")) for p in outside), outside
            if built.exit_code == 2:
                _check_error(built, root)
                assert not (root / "sdlc").exists(), "written after an error"
                return
            assert built.exit_code == 0, built.output
            tree = snapshot(root / "sdlc")
            verified = wf(None, "verify")
            count("verify runs")
            assert verified.exit_code == 0, verified.output
            rebuilt = wf(None, "build")
            assert rebuilt.exit_code == 0 and snapshot(root / "sdlc") == tree
            assert rebuilt.stdout.strip() == "demo: up to date"
            listed = wf(None, "list")
            assert listed.exit_code == 0 and "stale" not in listed.stdout
        assert not Path("/tmp/wf-pwned").exists()
    finally:
        shutil.rmtree(box, ignore_errors=True)
