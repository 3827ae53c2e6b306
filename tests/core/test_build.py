"""``wf build`` (DESIGN §3): step folders, manifest, determinism, no needless writes."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest

from .helpers import (
    EXPECTED,
    STEP1,
    STEPS,
    age,
    block,
    doc_path,
    line_of,
    overlay,
    snapshot,
    standard_project,
    stats,
    wf,
    write_project,
)


def built(tmp_path):
    root = standard_project(tmp_path / "proj")
    result = wf(root, "build")
    assert result.exit_code == 0, result.output
    return root


def outputs(root, set_name="demo"):
    tree = snapshot(root / "sdlc" / set_name)
    tree.pop("manifest.json", None)
    return tree


def test_build_writes_each_step_folder(tmp_path):
    root = built(tmp_path)
    assert outputs(root) == EXPECTED
    assert sorted(p.name for p in (root / "sdlc").iterdir()) == ["demo"]
    assert not (root / "sdlc" / "demo" / "never.py").exists()


def test_shebang_files_are_executable(tmp_path):
    root = built(tmp_path)
    out = root / "sdlc" / "demo" / "01-project-setup"
    assert (out / "scripts" / "run.sh").stat().st_mode & 0o111
    assert not (out / "app" / "main.py").stat().st_mode & 0o111


def test_overlay_of_step_folders_equals_export(tmp_path):
    root = built(tmp_path)
    result = wf(root, "export", str(tmp_path / "exported"))
    assert result.exit_code == 0, result.output
    assert overlay(root / "sdlc" / "demo") == snapshot(tmp_path / "exported")


def test_manifest_records_step_sources_and_hash(tmp_path):
    root = built(tmp_path)
    out = root / "sdlc" / "demo"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["set"] == "demo"
    assert set(manifest["files"]) == set(EXPECTED)
    for key, entry in manifest["files"].items():
        assert entry["step"] == key.split("/", 1)[0]
        assert entry["sha256"] == hashlib.sha256((out / key).read_bytes()).hexdigest()
    step1 = "workflows/demo/01_project_setup.md"
    step2 = "workflows/demo/02_routes.md"
    files = manifest["files"]
    assert files["01-project-setup/app/main.py"]["sources"] == [
        f"{step1}:{line_of(STEP1, 'path=app/main.py')}"
    ]
    assert files["02-routes/app/main.py"]["sources"] == [
        f"{step2}:{line_of(STEPS['02_routes.md'], 'mode=patch')}"
    ]
    assert files["02-routes/requirements.txt"]["sources"] == [
        f"{step2}:{line_of(STEPS['02_routes.md'], 'mode=append')}"
    ]
    assert files["03-docs/docs/index.md"]["sources"] == ["workflows/demo/03_docs.md:3"]


def test_manifest_lists_every_block_that_made_a_file(tmp_path):
    text = "# A\n\n" + block("text path=a.txt", "1\n") + block("text path=a.txt mode=append", "2\n")
    root = write_project(tmp_path, {"01_a.md": text})
    assert wf(root, "build").exit_code == 0
    manifest = json.loads((root / "sdlc" / "demo" / "manifest.json").read_text())
    assert manifest["files"]["01-a/a.txt"]["sources"] == [
        "workflows/demo/01_a.md:3",
        "workflows/demo/01_a.md:6",
    ]


def test_second_build_is_byte_identical_and_writes_nothing(tmp_path):
    root = built(tmp_path)
    out = root / "sdlc"
    age(out)
    before, before_stats = snapshot(out), stats(out)
    result = wf(root, "build")
    assert result.exit_code == 0
    assert "create" not in result.output and "update" not in result.output
    assert snapshot(out) == before
    assert stats(out) == before_stats


def test_build_is_deterministic_across_checkouts(tmp_path):
    first = built(tmp_path / "one")
    second = built(tmp_path / "two")
    assert snapshot(first / "sdlc") == snapshot(second / "sdlc")


def test_crlf_and_bom_documents_build_the_same_bytes(tmp_path):
    lf = built(tmp_path / "lf")
    other = standard_project(tmp_path / "crlf")
    for name, text in STEPS.items():
        data = text.replace("\n", "\r\n").encode()
        if name.startswith("01"):
            data = b"\xef\xbb\xbf" + data
        doc_path(other, name).write_bytes(data)
    assert wf(other, "build").exit_code == 0
    assert snapshot(other / "sdlc") == snapshot(lf / "sdlc")
    assert all(b"\r" not in data for data in snapshot(other / "sdlc").values())


def test_only_changed_files_are_rewritten(tmp_path):
    root = built(tmp_path)
    out = root / "sdlc" / "demo"
    age(out)
    before = stats(out)
    doc = doc_path(root, "02_routes.md")
    doc.write_text(doc.read_text().replace("router = APIRouter()", "router = APIRouter(tags=[])"))
    result = wf(root, "build")
    assert result.exit_code == 0
    after = stats(out)
    changed = {k for k in before if before[k] != after[k]}
    assert changed == {"02-routes/app/routes.py", "manifest.json"}
    assert b"tags=[]" in (out / "02-routes" / "app" / "routes.py").read_bytes()


def test_orphans_are_removed_when_a_block_is_deleted(tmp_path):
    root = built(tmp_path)
    doc = doc_path(root, "03_docs.md")
    doc.write_text("# Docs\n\n" + block("markdown", "<!-- path: docs/index.md -->\n# Shop\n"))
    result = wf(root, "build")
    assert result.exit_code == 0, result.output
    out = root / "sdlc" / "demo"
    assert not (out / "03-docs" / "static").exists()
    assert not (out / "03-docs" / "db").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert "03-docs/static/app.js" not in manifest["files"]
    assert outputs(root) == {
        k: v
        for k, v in EXPECTED.items()
        if k not in ("03-docs/static/app.js", "03-docs/db/init.sql")
    }
    assert wf(root, "verify").exit_code == 0


def test_renamed_step_moves_its_folder(tmp_path):
    root = built(tmp_path)
    doc_path(root, "03_docs.md").rename(doc_path(root, "03_documentation.md"))
    result = wf(root, "build")
    assert result.exit_code == 0
    out = root / "sdlc" / "demo"
    assert (out / "03-documentation" / "docs" / "index.md").is_file()


def test_build_selected_steps_only(tmp_path):
    root = built(tmp_path)
    for name, old, new in [
        ("01_project_setup.md", "name: shop", "name: store"),
        ("02_routes.md", "APIRouter()", "APIRouter(prefix='/x')"),
    ]:
        doc = doc_path(root, name)
        doc.write_text(doc.read_text().replace(old, new))
    result = wf(root, "build", "2")
    assert result.exit_code == 0, result.output
    out = root / "sdlc" / "demo"
    assert (out / "01-project-setup" / "pyproject.toml").read_bytes() == EXPECTED[
        "01-project-setup/pyproject.toml"
    ]
    assert b"prefix='/x'" in (out / "02-routes" / "app" / "routes.py").read_bytes()
    verify = wf(root, "verify", "--format", "json")
    kinds = {(d["kind"], d["path"]) for d in json.loads(verify.stdout)["drift"]}
    assert kinds == {
        ("stale", "sdlc/demo/01-project-setup/pyproject.toml"),
        ("manifest", "sdlc/demo/manifest.json"),
    }


def test_dry_run_writes_nothing(tmp_path):
    root = standard_project(tmp_path)
    result = wf(root, "build", "--dry-run")
    assert result.exit_code == 0
    assert "would create" in result.output
    assert not (root / "sdlc").exists()


def test_build_takes_no_var_overrides(tmp_path):
    # sdlc/ is what the documents produce; --var belongs to export and apply.
    root = standard_project(tmp_path)
    result = wf(root, "build", "--var", "name=store")
    assert result.exit_code == 2
    assert not (root / "sdlc").exists()


def test_var_override_on_export(tmp_path):
    root = standard_project(tmp_path)
    assert wf(root, "export", str(tmp_path / "out"), "--var", "name=store").exit_code == 0
    assert (tmp_path / "out" / "pyproject.toml").read_bytes() == b'[project]\nname = "store"\n'


def test_set_config_vars(tmp_path):
    text = "# A\n\n" + block("text path=a.txt template", "{{ who }} {{ what }}\n")
    root = write_project(tmp_path, {"01_a.md": text}, wf_yaml="vars:\n  who: set\n  what: cfg\n")
    assert wf(root, "build").exit_code == 0
    assert (root / "sdlc" / "demo" / "01-a" / "a.txt").read_text() == "set cfg\n"


def test_several_sets_map_to_their_own_folders(tmp_path):
    root = standard_project(tmp_path)
    write_project(root, {"01_only.md": block("text path=b.txt", "beta\n")}, set_name="beta")
    assert wf(root, "build").exit_code == 0
    assert outputs(root, "beta") == {"01-only/b.txt": b"beta\n"}
    assert outputs(root, "demo") == EXPECTED
    assert json.loads((root / "sdlc" / "beta" / "manifest.json").read_text())["set"] == "beta"

    shutil.rmtree(root / "sdlc")
    assert wf(root, "build", "--set", "beta").exit_code == 0
    assert sorted(p.name for p in (root / "sdlc").iterdir()) == ["beta"]


def test_deleted_step_leaves_no_orphans(tmp_path):
    root = built(tmp_path)
    doc_path(root, "03_docs.md").rename(doc_path(root, "03_documentation.md"))
    assert wf(root, "build").exit_code == 0
    out = root / "sdlc" / "demo"
    assert not (out / "03-docs").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert not any(key.startswith("03-docs/") for key in manifest["files"])
    assert wf(root, "verify").exit_code == 0


@pytest.mark.parametrize(
    "config",
    ["vars: [a, b]\n", "variables: {a: 1}\n", "vars: {a: 1\n"],
)
def test_bad_set_config_is_an_input_error(tmp_path, config):
    root = write_project(tmp_path, {"01_a.md": block("text path=a", "a\n")}, wf_yaml=config)
    result = wf(root, "build")
    assert result.exit_code == 2
    assert "wf.yaml" in result.stderr
    assert not (root / "sdlc").exists()


def test_step_folder_disappears_with_its_last_block(tmp_path):
    root = built(tmp_path)
    doc_path(root, "03_docs.md").write_text("# Docs\n\nNothing to write any more.\n")
    assert wf(root, "build").exit_code == 0
    out = root / "sdlc" / "demo"
    assert not (out / "03-docs").exists()
    assert (out / "02-routes").is_dir()
    assert wf(root, "verify").exit_code == 0


def test_interrupted_build_recovers(tmp_path, monkeypatch):
    """A run dying after some writes leaves whole files and the old manifest; rerun heals."""
    from runner import transaction

    root = built(tmp_path)
    out = root / "sdlc" / "demo"
    old_manifest = (out / "manifest.json").read_bytes()
    for name, old, new in [
        ("01_project_setup.md", "name: shop", "name: store"),
        ("02_routes.md", "APIRouter()", "APIRouter(x=1)"),
        ("03_docs.md", "# Shop", "# Store"),
    ]:
        doc = doc_path(root, name)
        doc.write_text(doc.read_text().replace(old, new))

    real = transaction.write_atomic
    calls = []

    def dying(path, content, executable=False):
        calls.append(path)
        if len(calls) == 2:
            raise KeyboardInterrupt
        real(path, content, executable)

    monkeypatch.setattr(transaction, "write_atomic", dying)
    result = wf(root, "build")
    monkeypatch.undo()
    assert result.exit_code != 0
    assert (out / "manifest.json").read_bytes() == old_manifest
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    assert wf(root, "verify").exit_code == 1
    assert wf(root, "build").exit_code == 0
    assert wf(root, "verify").exit_code == 0
    assert (out / "03-docs" / "docs" / "index.md").read_bytes() == b"# Store\n"
