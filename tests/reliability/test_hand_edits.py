"""An edited output is never overwritten or deleted without --force, per command."""

from __future__ import annotations

import pytest
from core.helpers import block, wf, write_project

from .conftest import count

DOC = "# A\n\n" + block("text path=a.txt", "one\n") + "\n" + block("text path=b.txt", "two\n")


def project(tmp_path):
    root = write_project(tmp_path / "proj", {"01_a.md": DOC})
    assert wf(root, "build").exit_code == 0
    return root


@pytest.mark.parametrize("command", ["build", "run"])
@pytest.mark.parametrize("change", ["edit", "edit and orphan"])
def test_build_and_run_keep_hand_edits(tmp_path, command, change):
    root = project(tmp_path)
    edited = root / "sdlc/demo/01-a/a.txt"
    edited.write_text("mine\n")
    if change == "edit and orphan":  # no document produces a.txt any more
        (root / "workflows/demo/01_a.md").write_text("# A\n\n" + block("text path=b.txt", "2\n"))
    args = ["run", "01", "--no-checks"] if command == "run" else ["build"]
    refused = wf(root, *args)
    count("hand-edit scenarios")
    assert refused.exit_code == 1 and "a.txt" in refused.stderr
    assert edited.read_text() == "mine\n"
    assert wf(root, *args, "--force").exit_code == 0
    assert not edited.exists() if change == "edit and orphan" else edited.read_text() == "one\n"


@pytest.mark.parametrize("command", ["apply", "export"])
def test_apply_and_export_keep_existing_files(tmp_path, command):
    root = project(tmp_path)
    target = tmp_path / "target"
    target.mkdir()
    (target / "a.txt").write_text("mine\n")
    args = ["apply", "01", "--to", str(target)] if command == "apply" else ["export", str(target)]
    refused = wf(root, *args)
    count("hand-edit scenarios")
    assert refused.exit_code == 1, refused.output
    assert (target / "a.txt").read_text() == "mine\n"
    assert not (target / "b.txt").exists()
    assert wf(root, *args, "--force").exit_code == 0
    assert (target / "a.txt").read_text() == "one\n"
