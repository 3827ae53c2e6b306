"""``wf export`` and ``wf apply`` (DESIGN §3, issue: assemble and re-run steps)."""

from __future__ import annotations

import git
import pytest

from .helpers import ASSEMBLED, block, md, snapshot, standard_project, stats, wf, write_project

# --- export --------------------------------------------------------------------------


def test_export_assembles_every_step(tmp_path):
    root = standard_project(tmp_path / "proj")
    target = tmp_path / "out" / "project"
    result = wf(root, "export", str(target))
    assert result.exit_code == 0, result.output
    assert snapshot(target) == ASSEMBLED
    assert (target / "scripts" / "run.sh").stat().st_mode & 0o111
    assert not (root / "sdlc").exists()


def test_export_chosen_steps(tmp_path):
    root = standard_project(tmp_path / "proj")
    target = tmp_path / "first"
    assert wf(root, "export", str(target), "--steps", "1").exit_code == 0
    assert snapshot(target) == {
        "pyproject.toml": b'[project]\nname = "shop"\n',
        "app/main.py": b"from fastapi import FastAPI\n\napp = FastAPI()\n",
        "scripts/run.sh": b"#!/bin/sh\nexec uvicorn app.main:app\n",
        ".github/workflows/ci.yml": b"env:\n  TOKEN: ${{ secrets.TOKEN }}\n",
        "requirements.txt": b"fastapi\n",
    }
    target = tmp_path / "one-and-three"
    assert wf(root, "export", str(target), "--steps", "1,3").exit_code == 0
    files = snapshot(target)
    assert "docs/index.md" in files and "app/routes.py" not in files
    assert files["app/main.py"] == b"from fastapi import FastAPI\n\napp = FastAPI()\n"


def test_export_respects_requires(tmp_path):
    steps = {
        "01_a.md": block("text path=a.txt", "a\n"),
        "02_b.md": "---\nrequires: [1]\n---\n" + block("text path=a.txt mode=append", "b\n"),
    }
    root = write_project(tmp_path / "proj", steps)
    result = wf(root, "export", str(tmp_path / "t"), "--steps", "2")
    assert result.exit_code == 2
    assert "requires step 01" in result.stderr
    assert not (tmp_path / "t").exists()


def test_export_with_var(tmp_path):
    root = standard_project(tmp_path / "proj")
    target = tmp_path / "t"
    assert wf(root, "export", str(target), "--var", "name=store").exit_code == 0
    assert (target / "pyproject.toml").read_bytes() == b'[project]\nname = "store"\n'


def test_export_refuses_a_non_empty_target(tmp_path):
    root = standard_project(tmp_path / "proj")
    target = tmp_path / "t"
    target.mkdir()
    (target / "keep.txt").write_text("mine\n")
    result = wf(root, "export", str(target))
    assert result.exit_code == 1
    assert "not empty" in result.stderr and "--force" in result.stderr
    assert snapshot(target) == {"keep.txt": b"mine\n"}
    assert wf(root, "export", str(target), "--force").exit_code == 0
    assert snapshot(target) == {**ASSEMBLED, "keep.txt": b"mine\n"}


def test_export_into_an_empty_existing_folder(tmp_path):
    root = standard_project(tmp_path / "proj")
    target = tmp_path / "t"
    target.mkdir()
    assert wf(root, "export", str(target)).exit_code == 0
    assert snapshot(target) == ASSEMBLED


def test_export_git_init(tmp_path):
    root = standard_project(tmp_path / "proj")
    target = tmp_path / "repo"
    result = wf(root, "export", str(target), "--git-init")
    assert result.exit_code == 0, result.output
    repo = git.Repo(target)
    commits = list(repo.iter_commits())
    assert len(commits) == 1
    assert commits[0].hexsha[:12] in result.output
    tracked = sorted(item.path for item in commits[0].tree.traverse() if item.type == "blob")
    assert tracked == sorted(ASSEMBLED)
    assert not repo.is_dirty(untracked_files=True)
    assert commits[0].tree["app/main.py"].data_stream.read() == ASSEMBLED["app/main.py"]


# --- apply ---------------------------------------------------------------------------

BASE = (
    "# Base\n\n"
    + block("python path=app/main.py", "from app import routes\n\napp = routes.build()\n")
    + block("python path=app/routes.py", "ROUTES = []\n")
    + block("text path=requirements.txt", "fastapi\n")
)

MODULE = (
    md(
        """
        ---
        requires: [1]
        generate:
          templates: templates/module
          instances:
            - module: items
        ---
        # Add a module

        """
    )
    + block(
        "jinja path=templates/module/app/{{module}}/models.py.j2",
        'NAME = "{{ module }}"\n',
    )
    + block(
        "jinja path=templates/module/app/routes.py.append.j2",
        'ROUTES.append("{{ module }}")\n',
    )
    + block(
        "diff path=app/main.py mode=patch",
        "--- a/app/main.py\n+++ b/app/main.py\n@@ -1,3 +1,4 @@\n from app import routes\n"
        "+import logging\n \n app = routes.build()\n",
    )
    + block("text path=requirements.txt mode=append", "sqlalchemy\n")
    + block("python path=app/local_settings.py skeleton", "DEBUG = False\n")
)


@pytest.fixture
def exported(tmp_path):
    """A project exported from step 01 only, and the fixture root."""
    root = write_project(tmp_path / "proj", {"01_base.md": BASE, "02_module.md": MODULE})
    target = tmp_path / "app"
    assert wf(root, "export", str(target), "--steps", "1").exit_code == 0
    return root, target


def test_apply_creates_and_builds_on_the_target(exported):
    root, target = exported
    result = wf(root, "apply", "02", "--to", str(target), "--var", "module=orders")
    assert result.exit_code == 0, result.output
    files = snapshot(target)
    assert files["app/orders/models.py"] == b'NAME = "orders"\n'
    assert "app/items/models.py" not in files
    assert files["app/routes.py"] == b'ROUTES = []\nROUTES.append("orders")\n'
    assert (
        files["app/main.py"] == b"from app import routes\nimport logging\n\napp = routes.build()\n"
    )
    assert files["requirements.txt"] == b"fastapi\nsqlalchemy\n"
    assert files["app/local_settings.py"] == b"DEBUG = False\n"


def test_apply_twice_changes_nothing(exported):
    root, target = exported
    args = ("apply", "02", "--to", str(target), "--var", "module=orders")
    assert wf(root, *args).exit_code == 0
    before, before_stats = snapshot(target), stats(target)
    result = wf(root, *args)
    assert result.exit_code == 0, result.output
    assert "update" not in result.output and "create" not in result.output
    assert snapshot(target) == before
    assert stats(target) == before_stats


def test_apply_a_second_module(exported):
    root, target = exported
    assert wf(root, "apply", "02", "--to", str(target), "--var", "module=orders").exit_code == 0
    assert wf(root, "apply", "02", "--to", str(target), "--var", "module=users").exit_code == 0
    files = snapshot(target)
    assert (
        files["app/routes.py"] == b'ROUTES = []\nROUTES.append("orders")\nROUTES.append("users")\n'
    )
    assert files["app/main.py"].count(b"import logging") == 1
    assert files["requirements.txt"] == b"fastapi\nsqlalchemy\n"
    assert {"app/orders/models.py", "app/users/models.py"} <= set(files)


def test_apply_builds_on_the_users_changes(exported):
    root, target = exported
    main = target / "app" / "main.py"
    main.write_text("# my header\n# more\n" + main.read_text() + "app.debug = True\n")
    routes = target / "app" / "routes.py"
    routes.write_text("ROUTES = ['mine']\n")
    assert wf(root, "apply", "02", "--to", str(target), "--var", "module=x").exit_code == 0
    assert main.read_text() == (
        "# my header\n# more\nfrom app import routes\nimport logging\n\n"
        "app = routes.build()\napp.debug = True\n"
    )
    assert routes.read_text() == "ROUTES = ['mine']\nROUTES.append(\"x\")\n"


def test_apply_keeps_the_users_skeleton(exported):
    root, target = exported
    settings = target / "app" / "local_settings.py"
    settings.write_text("DEBUG = True  # mine\n")
    result = wf(root, "apply", "02", "--to", str(target), "--var", "module=x")
    assert result.exit_code == 0
    assert settings.read_text() == "DEBUG = True  # mine\n"
    assert "app/local_settings.py" in result.output and "kept" in result.output


def test_apply_refuses_a_clash(exported):
    root, target = exported
    clash = target / "app" / "orders" / "models.py"
    clash.parent.mkdir(parents=True)
    clash.write_text("mine\n")
    before = snapshot(target)
    result = wf(root, "apply", "02", "--to", str(target), "--var", "module=orders")
    assert result.exit_code == 1
    assert "app/orders/models.py" in result.stderr
    assert snapshot(target) == before
    result = wf(root, "apply", "02", "--to", str(target), "--var", "module=orders", "--force")
    assert result.exit_code == 0
    assert clash.read_text() == 'NAME = "orders"\n'


def test_apply_patch_that_no_longer_applies(exported):
    root, target = exported
    (target / "app" / "main.py").write_text("something else entirely\n")
    before = snapshot(target)
    result = wf(root, "apply", "02", "--to", str(target), "--var", "module=x")
    assert result.exit_code == 2
    assert "02_module.md:" in result.stderr and "patch does not apply" in result.stderr
    assert snapshot(target) == before


def test_apply_dry_run(exported):
    root, target = exported
    before = snapshot(target)
    result = wf(root, "apply", "02", "--to", str(target), "--dry-run")
    assert result.exit_code == 0
    assert "would" in result.output
    assert snapshot(target) == before


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("apply", "1-2", "--to", "{target}"), "exactly one step"),
        (("apply", "7", "--to", "{target}"), "no step matches"),
        (("apply", "2", "--to", "{missing}"), "not a folder"),
    ],
)
def test_apply_input_errors(exported, args, needle):
    root, target = exported
    argv = [a.format(target=target, missing=target / "nope") for a in args]
    result = wf(root, *argv)
    assert result.exit_code == 2
    assert needle in result.stderr
