"""The command line (DESIGN §1, §5, §9): exit codes, error lines, lazy imports, list/show."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import (
    STEPS,
    block,
    line_of,
    snapshot,
    standard_project,
    stats,
    wf,
    write_project,
)

VENV_BIN = Path(sys.executable).parent
WF = VENV_BIN / "wf"


def run(args, cwd, **kwargs):
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("CI", None)
    return subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, timeout=60, env=env, **kwargs
    )


# --- exit codes ----------------------------------------------------------------------


def test_exit_codes(tmp_path):
    root = standard_project(tmp_path)
    assert wf(root, "build").exit_code == 0
    assert wf(root, "verify").exit_code == 0
    (root / "sdlc" / "demo" / "stray").write_text("x")
    assert wf(root, "verify").exit_code == 1
    assert wf(root, "build", "--bogus").exit_code == 2
    assert wf(root, "show").exit_code == 2
    assert wf(root, "verify", "--format", "xml").exit_code == 2
    assert wf(root, "build", "--var", "novalue").exit_code == 2
    assert wf(root, "frobnicate").exit_code == 2
    assert wf(root, "build", "99").exit_code == 2


@pytest.mark.parametrize(
    ("bad_doc", "line", "message"),
    [
        ("---\ntitle: x\nrequirse: [1]\n---\n", 3, "unknown front matter key 'requirse'"),
        ("# X\n\n" + block("python path=a.py mdoe=append", "x\n"), 3, "unknown attribute"),
        ("---\ntitle: x\nvars: [a, b\noptional: true\n---\n", 4, "not valid YAML"),
        ("# X\n\nText\n\n" + block("python path=../a.py", "x\n"), 5, "escapes"),
        ("# X\n\n" + block("t path=a template", "{{ nope }}\n"), 3, "'nope'"),
        ("# X\n\n" + block("d path=zz mode=patch", "@@ -1 +1 @@\n-a\n+b\n"), 3, "zz"),
    ],
)
def test_bad_input_is_one_error_line(tmp_path, monkeypatch, bad_doc, line, message):
    root = standard_project(tmp_path)
    (root / "workflows" / "demo" / "04_bad.md").write_text(bad_doc)
    monkeypatch.chdir(root)
    result = wf(None, "build")
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"wf: workflows/demo/04_bad.md:{line}: ")
    assert message in lines[0]
    assert not (root / "sdlc").exists()


def test_usage_errors_name_the_problem(tmp_path):
    root = standard_project(tmp_path)
    result = wf(root, "export", str(tmp_path / "out"), "--var", "novalue")
    assert "KEY=VALUE" in result.stderr
    result = wf(tmp_path / "nowhere", "list")
    assert result.exit_code == 2
    assert "workflows" in result.stderr


def test_root_is_found_from_a_subfolder(tmp_path, monkeypatch):
    root = standard_project(tmp_path)
    sub = root / "some" / "deep" / "folder"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    assert wf(None, "build").exit_code == 0
    assert (root / "sdlc" / "demo" / "manifest.json").is_file()
    assert not (sub / "sdlc").exists()


def test_no_workflows_anywhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = wf(None, "list")
    assert result.exit_code == 2
    assert result.stderr.startswith("wf: no workflows/ folder")


# --- list / show ---------------------------------------------------------------------


def test_list(tmp_path):
    root = standard_project(tmp_path)
    doc = root / "workflows" / "demo" / "03_docs.md"
    doc.write_text("---\ntitle: Documentation\noptional: true\n---\n" + doc.read_text())
    result = wf(root, "list")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].startswith("demo")
    rows = {line.split()[0]: line for line in lines[1:]}
    assert set(rows) == {"01", "02", "03"}
    assert "project-setup" in rows["01"] and "Project setup" in rows["01"]
    assert "routes" in rows["02"] and "Routes" in rows["02"]
    assert "Documentation" in rows["03"] and "optional" in rows["03"]
    assert all("stale" in row for row in rows.values())
    assert "README" not in result.output

    assert wf(root, "build").exit_code == 0
    rows = {line.split()[0]: line for line in wf(root, "list").output.splitlines()[1:]}
    assert all("up-to-date" in row for row in rows.values())
    (root / "sdlc" / "demo" / "02-routes" / "app" / "routes.py").write_text("edited\n")
    rows = {line.split()[0]: line for line in wf(root, "list").output.splitlines()[1:]}
    assert "stale" in rows["02"] and "up-to-date" in rows["01"]


def test_show(tmp_path):
    root = standard_project(tmp_path)
    doc = root / "workflows" / "demo" / "02_routes.md"
    doc.write_text(
        "---\nrequires: [1]\nchecks:\n  - {name: import, run: python -c 'import app'}\n---\n"
        + doc.read_text()
    )
    text = doc.read_text()
    for selector in ("2", "02", "routes"):
        result = wf(root, "show", selector)
        assert result.exit_code == 0, result.output
        out = result.output
        assert "Routes" in out
        assert "workflows/demo/02_routes.md" in out
        assert "sdlc/demo/02-routes/" in out
        assert "requires: 01" in out
        rows = out.splitlines()

        def row_for(target, rows=rows):
            (found,) = [r for r in rows if r.rstrip().endswith(target) or f" {target} " in r]
            return found

        assert str(line_of(text, "mode=patch")) in row_for("app/main.py")
        assert "patch" in row_for("app/main.py")
        assert str(line_of(text, "mode=append")) in row_for("requirements.txt")
        assert "append" in row_for("requirements.txt")
        assert str(line_of(text, "path=app/routes.py")) in row_for("app/routes.py")
        assert "4" in row_for("import")


def test_show_unknown_step_lists_steps(tmp_path):
    root = standard_project(tmp_path)
    result = wf(root, "show", "nine")
    assert result.exit_code == 2
    assert "01 (project-setup)" in result.stderr and "03 (docs)" in result.stderr


def test_single_set_commands_need_set_when_ambiguous(tmp_path):
    root = standard_project(tmp_path)
    write_project(root, {"01_x.md": "# X\n"}, set_name="other")
    result = wf(root, "show", "1")
    assert result.exit_code == 2
    assert "--set" in result.stderr
    assert wf(root, "show", "1", "--set", "other").exit_code == 0


def test_version():
    result = wf(None, "--version")
    assert result.exit_code == 0
    assert "0.1.0" in result.output


# --- real processes ------------------------------------------------------------------


def test_real_build_twice_then_verify(tmp_path):
    root = standard_project(tmp_path)
    first = run([str(WF), "build"], cwd=root)
    assert first.returncode == 0, first.stderr
    tree, meta = snapshot(root / "sdlc"), stats(root / "sdlc")
    second = run([str(WF), "build"], cwd=root)
    assert second.returncode == 0
    assert snapshot(root / "sdlc") == tree
    assert stats(root / "sdlc") == meta
    verify = run([str(WF), "verify"], cwd=root)
    assert verify.returncode == 0, verify.stdout


def test_real_error_has_no_traceback(tmp_path):
    root = standard_project(tmp_path)
    (root / "workflows" / "demo" / "04_bad.md").write_text(
        "# Bad\n\n" + block("python path=x.py templat", "x\n")
    )
    result = run([str(WF), "build"], cwd=root)
    assert result.returncode == 2
    assert result.stderr == (
        "wf: workflows/demo/04_bad.md:3: unknown flag 'templat' (did you mean 'template'?)\n"
    )
    assert not (root / "sdlc").exists()


def test_real_verify_drift_exit_code(tmp_path):
    root = standard_project(tmp_path)
    assert run([str(WF), "build"], cwd=root).returncode == 0
    doc = root / "workflows" / "demo" / "02_routes.md"
    doc.write_text(doc.read_text().replace("APIRouter()", "APIRouter(x=1)"))
    result = run([str(WF), "verify", "--format", "github"], cwd=root)
    assert result.returncode == 1
    line = line_of(STEPS["02_routes.md"], "path=app/routes.py")
    assert f"::error file=workflows/demo/02_routes.md,line={line}" in result.stdout


def test_python_dash_m_runner(tmp_path):
    result = run([sys.executable, "-m", "runner", "--help"], cwd=tmp_path)
    assert result.returncode == 0
    assert "Usage: wf" in result.stdout
    for command in ("build", "verify", "export", "apply", "list", "show"):
        assert command in result.stdout


def test_help_does_not_import_heavy_modules(tmp_path):
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from runner.cli import main\n"
        "for args in (['--help'], ['build', '--help'], ['verify', '--help']):\n"
        "    r = CliRunner().invoke(main, args)\n"
        "    assert r.exit_code == 0, r.output\n"
        "heavy = ('markdown_it', 'jinja2', 'git', 'yaml')\n"
        "print(','.join(sorted(m for m in heavy if m in sys.modules)))\n"
    )
    result = run([sys.executable, "-c", code], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_real_help_is_quick_to_import(tmp_path):
    result = run([sys.executable, "-X", "importtime", str(WF), "--help"], cwd=tmp_path)
    assert result.returncode == 0
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()}
    assert not imported & {"markdown_it", "jinja2", "git", "yaml"}
    assert "click" in imported
