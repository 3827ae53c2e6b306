"""``wf verify`` (DESIGN §1, §5): drift kinds, diff, owner, fix command, machine formats."""

from __future__ import annotations

import json
import shlex

import pytest

from .helpers import STEPS, block, doc_path, line_of, snapshot, standard_project, wf

ROUTES_LINE = line_of(STEPS["02_routes.md"], "path=app/routes.py")
ROUTES_OWNER = f"workflows/demo/02_routes.md:{ROUTES_LINE}"
ROUTES_KEY = "sdlc/demo/02-routes/app/routes.py"


@pytest.fixture
def root(tmp_path):
    root = standard_project(tmp_path)
    assert wf(root, "build").exit_code == 0
    return root


def tree(root):
    """Documents and outputs (the parse cache under .wf/ may change on any run)."""
    return snapshot(root / "workflows"), snapshot(root / "sdlc")


def out(root):
    return root / "sdlc" / "demo"


def edit_doc(root, name, old, new):
    doc = doc_path(root, name)
    text = doc.read_text()
    assert old in text
    doc.write_text(text.replace(old, new))


def drift(root):
    result = wf(root, "verify", "--format", "json")
    data = json.loads(result.stdout)
    return result, data


def run_fix(root, fix):
    """Run the fix command verify printed (``wf ...``) and return its result."""
    argv = shlex.split(fix)
    assert argv[0] == "wf"
    return wf(root, *argv[1:])


def test_clean_tree_passes(root):
    before = tree(root)
    result = wf(root, "verify")
    assert result.exit_code == 0
    assert "stale" not in result.output and "missing" not in result.output
    result, data = drift(root)
    assert result.exit_code == 0
    assert data == {"ok": True, "exit_code": 0, "drift": []}
    assert tree(root) == before


def test_stale(root):
    edit_doc(root, "02_routes.md", "router = APIRouter()", "router = APIRouter(prefix='/v1')")
    before = tree(root)
    result = wf(root, "verify")
    assert result.exit_code == 1
    text = result.output
    assert "stale" in text
    assert ROUTES_KEY in text
    assert ROUTES_OWNER in text
    assert f"--- a/{ROUTES_KEY}" in text and f"+++ b/{ROUTES_KEY}" in text
    assert "\n-router = APIRouter()\n" in text
    assert "\n+router = APIRouter(prefix='/v1')\n" in text
    assert "fix: wf build" in text
    assert tree(root) == before

    result, data = drift(root)
    kinds = {d["kind"]: d for d in data["drift"]}
    assert set(kinds) == {"stale", "manifest"}
    assert data["ok"] is False
    stale = kinds["stale"]
    assert stale["path"] == ROUTES_KEY
    assert stale["owners"] == [ROUTES_OWNER]
    assert stale["set"] == "demo"
    assert "+router = APIRouter(prefix='/v1')" in stale["diff"]
    assert run_fix(root, stale["fix"]).exit_code == 0
    assert wf(root, "verify").exit_code == 0


def test_hand_edited(root):
    target = out(root) / "02-routes" / "app" / "routes.py"
    target.write_text(target.read_text() + "HACK = True\n")
    result = wf(root, "verify")
    assert result.exit_code == 1
    assert "hand-edited" in result.output
    assert ROUTES_OWNER in result.output
    assert "\n-HACK = True\n" in result.output
    _, data = drift(root)
    (edited,) = data["drift"]
    assert (edited["kind"], edited["path"], edited["owners"]) == (
        "hand-edited",
        ROUTES_KEY,
        [ROUTES_OWNER],
    )
    assert ROUTES_OWNER in edited["fix"] and "--force" in edited["fix"]
    assert wf(root, "build").exit_code == 1
    assert wf(root, "build", "--force").exit_code == 0
    assert wf(root, "verify").exit_code == 0


def test_missing(root):
    (out(root) / "02-routes" / "app" / "routes.py").unlink()
    result = wf(root, "verify")
    assert result.exit_code == 1
    assert "missing" in result.output and ROUTES_OWNER in result.output
    assert "+from fastapi import APIRouter" in result.output
    _, data = drift(root)
    (missing,) = data["drift"]
    assert (missing["kind"], missing["path"]) == ("missing", ROUTES_KEY)
    assert run_fix(root, missing["fix"]).exit_code == 0
    assert wf(root, "verify").exit_code == 0


def test_orphaned(root):
    doc = doc_path(root, "03_docs.md")
    doc.write_text(doc.read_text().replace("// path: static/app.js\n", ""))
    result = wf(root, "verify")
    assert result.exit_code == 1
    assert "orphaned" in result.output
    assert "sdlc/demo/03-docs/static/app.js" in result.output
    _, data = drift(root)
    kinds = {d["kind"]: d for d in data["drift"]}
    assert set(kinds) == {"orphaned", "manifest"}
    assert kinds["orphaned"]["path"] == "sdlc/demo/03-docs/static/app.js"
    js_line = line_of(STEPS["03_docs.md"], "```js")
    assert kinds["orphaned"]["owners"] == [f"workflows/demo/03_docs.md:{js_line}"]
    assert run_fix(root, kinds["orphaned"]["fix"]).exit_code == 0
    assert not (out(root) / "03-docs" / "static" / "app.js").exists()
    assert wf(root, "verify").exit_code == 0


def test_untracked(root):
    stray = out(root) / "02-routes" / "app" / "stray.py"
    stray.write_text("x = 1\n")
    result = wf(root, "verify")
    assert result.exit_code == 1
    assert "untracked" in result.output
    assert "sdlc/demo/02-routes/app/stray.py" in result.output
    _, data = drift(root)
    (untracked,) = data["drift"]
    assert (untracked["kind"], untracked["path"], untracked["owners"]) == (
        "untracked",
        "sdlc/demo/02-routes/app/stray.py",
        [],
    )
    build = wf(root, "build")
    assert build.exit_code == 0
    assert "02-routes/app/stray.py" in build.stderr
    assert stray.read_text() == "x = 1\n"


def test_manifest_drift(root):
    manifest = out(root) / "manifest.json"
    data = json.loads(manifest.read_text())
    data["files"]["02-routes/app/routes.py"]["sha256"] = "0" * 64
    manifest.write_text(json.dumps(data))
    result = wf(root, "verify")
    assert result.exit_code == 1
    assert "manifest" in result.output
    _, found = drift(root)
    assert [d["kind"] for d in found["drift"]] == ["manifest"]
    assert run_fix(root, found["drift"][0]["fix"]).exit_code == 0
    assert wf(root, "verify").exit_code == 0


def test_missing_manifest(root):
    (out(root) / "manifest.json").unlink()
    _, data = drift(root)
    assert [(d["kind"], d["path"]) for d in data["drift"]] == [
        ("manifest", "sdlc/demo/manifest.json")
    ]


def test_nothing_built_yet(tmp_path):
    root = standard_project(tmp_path)
    result, data = drift(root)
    assert result.exit_code == 1
    assert {d["kind"] for d in data["drift"]} == {"missing", "manifest"}
    assert not (root / "sdlc").exists()


def test_no_diff_option(root):
    edit_doc(root, "02_routes.md", "router = APIRouter()", "router = 1")
    result = wf(root, "verify", "--no-diff")
    assert result.exit_code == 1
    assert "stale" in result.output
    assert "+router = 1" not in result.output


def test_github_annotations(root):
    edit_doc(root, "02_routes.md", "router = APIRouter()", "router = 1")
    (out(root) / "stray.txt").write_text("?\n")
    result = wf(root, "verify", "--format", "github")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert any(
        line.startswith(f"::error file=workflows/demo/02_routes.md,line={ROUTES_LINE}")
        and "stale" in line
        for line in lines
    )
    assert any(line.startswith("::error file=sdlc/demo/stray.txt") for line in lines)
    assert all(line.startswith("::error ") for line in lines)


def test_all_sets_are_verified(root):
    from .helpers import write_project

    write_project(root, {"01_x.md": block("text path=x.txt", "x\n")}, set_name="beta")
    result, data = drift(root)
    assert result.exit_code == 1
    assert {d["set"] for d in data["drift"]} == {"beta"}
    assert wf(root, "verify", "--set", "demo").exit_code == 0


def test_lost_executable_bit_is_drift(root):
    script = out(root) / "01-project-setup" / "scripts" / "run.sh"
    script.chmod(0o644)
    _, data = drift(root)
    assert [d["path"] for d in data["drift"]] == ["sdlc/demo/01-project-setup/scripts/run.sh"]
    assert wf(root, "build").exit_code == 0
    assert script.stat().st_mode & 0o111
    assert wf(root, "verify").exit_code == 0


def test_damaged_manifest_is_an_input_error(root):
    (out(root) / "manifest.json").write_text("{not json")
    result = wf(root, "verify")
    assert result.exit_code == 2
    assert "manifest" in result.stderr and "damaged" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_dangling_symlink_in_output_is_untracked(root):
    (out(root) / "01-project-setup" / "dangling").symlink_to(root / "nowhere")
    result, data = drift(root)
    assert result.exit_code == 1
    assert [(d["kind"], d["path"]) for d in data["drift"]] == [
        ("untracked", "sdlc/demo/01-project-setup/dangling")
    ]
    assert wf(root, "verify").exit_code == 1
