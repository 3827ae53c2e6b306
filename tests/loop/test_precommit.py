"""The hooks of ``.pre-commit-hooks.yaml``, run by the real ``pre-commit`` in a fresh git
repository whose ``.pre-commit-config.yaml`` points at (a snapshot of) this checkout.

pre-commit clones the hook repository and pip-installs it into a venv of its own, so
this needs the package index (nothing else from the network).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from core.helpers import block, md, write_project

CHECKOUT = Path(__file__).resolve().parents[2]
PRE_COMMIT = Path(sys.executable).with_name("pre-commit")
SHIPPED = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "runner")

pytestmark = pytest.mark.skipif(
    not PRE_COMMIT.exists(), reason="pre-commit is not installed: pip install -e '.[dev]'"
)


def run(
    cwd: Path, *args: str, env: dict[str, str], check: bool = True
) -> subprocess.CompletedProcess:
    """Run a command; its stdout holds stderr too (git commit prints hooks there)."""
    done = subprocess.run(
        list(args),
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
        check=False,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"{args} failed ({done.returncode}):\n{done.stdout}")
    return done


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Git identity, a private pre-commit cache, and no variables that steer git or wf."""
    home = tmp_path_factory.mktemp("pre-commit-home")
    drop = {"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "CI", "VIRTUAL_ENV", "PYTHONPATH"}
    result = {k: v for k, v in os.environ.items() if k not in drop}
    result.update(
        PRE_COMMIT_HOME=str(home),
        GIT_AUTHOR_NAME="Test User",
        GIT_AUTHOR_EMAIL="test@example.com",
        GIT_COMMITTER_NAME="Test User",
        GIT_COMMITTER_EMAIL="test@example.com",
        GIT_CONFIG_GLOBAL=os.devnull,
        NO_COLOR="1",
    )
    return result


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> tuple[Path, str]:
    """This checkout's working tree (uncommitted changes included) as a one-commit repo."""
    repo = tmp_path_factory.mktemp("hook-repo")
    for name in SHIPPED:
        source = CHECKOUT / name
        if source.is_dir():
            shutil.copytree(source, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, repo / name)
    run(repo, "git", "init", "-q", "-b", "main", env=env)
    run(repo, "git", "add", "-A", env=env)
    run(repo, "git", "commit", "-q", "-m", "snapshot", env=env)
    sha = run(repo, "git", "rev-parse", "HEAD", env=env).stdout.strip()
    return repo, sha


DOC = md(
    """
    # Setup

    """
) + block("text path=hello.txt", "hello\n")


@pytest.fixture
def project(tmp_path: Path, env: dict[str, str], hook_repo: tuple[Path, str]) -> Path:
    """A repository using both hooks, with sdlc/ built and everything committed."""
    from runner.build import build
    from runner.project import load_sets

    root = write_project(tmp_path / "project", {"01_setup.md": DOC})
    build(load_sets(root))
    repo, sha = hook_repo
    (root / ".gitignore").write_text(".wf/\n")
    (root / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {repo}\n    rev: {sha}\n"
        "    hooks:\n      - id: wf-verify\n      - id: wf-build\n"
    )
    run(root, "git", "init", "-q", "-b", "main", env=env)
    run(root, "git", "add", "-A", env=env)
    run(root, "git", "commit", "-q", "-m", "initial", env=env)
    run(root, str(PRE_COMMIT), "install", env=env)
    return root


def edit_document(root: Path) -> Path:
    doc = root / "workflows" / "demo" / "01_setup.md"
    doc.write_text(doc.read_text().replace("hello\n", "hello, world\n"))
    return doc


OUTPUT = Path("sdlc/demo/01-setup/hello.txt")


def test_wf_verify_hook_refuses_a_commit_whose_sdlc_is_stale(project, env):
    edit_document(project)
    run(project, "git", "add", "workflows", env=env)
    done = run(project, "git", "commit", "-m", "edit", env={**env, "SKIP": "wf-build"}, check=False)
    assert done.returncode != 0, done.stdout
    assert "wf verify" in done.stdout and "Failed" in done.stdout
    assert "stale" in done.stdout and "sdlc/demo/01-setup/hello.txt" in done.stdout
    assert (project / OUTPUT).read_text() == "hello\n"  # verify writes nothing
    assert run(project, "git", "rev-list", "--count", "HEAD", env=env).stdout.strip() == "1"


def test_wf_build_hook_regenerates_fails_and_passes_once_restaged(project, env):
    edit_document(project)
    run(project, "git", "add", "workflows", env=env)
    first = run(project, "git", "commit", "-m", "edit", env=env, check=False)
    assert first.returncode != 0, first.stdout
    assert "wf build" in first.stdout and "Failed" in first.stdout
    assert (project / OUTPUT).read_text() == "hello, world\n"  # regenerated for review
    assert run(project, "git", "rev-list", "--count", "HEAD", env=env).stdout.strip() == "1"

    run(project, "git", "add", "sdlc", env=env)
    second = run(project, "git", "commit", "-m", "edit", env=env, check=False)
    assert second.returncode == 0, second.stdout
    assert run(project, "git", "rev-list", "--count", "HEAD", env=env).stdout.strip() == "2"
    assert run(project, "git", "status", "--porcelain", env=env).stdout == ""


def test_hooks_pass_and_change_nothing_when_documents_and_sdlc_agree(project, env):
    done = run(project, str(PRE_COMMIT), "run", "--all-files", env=env, check=False)
    assert done.returncode == 0, done.stdout
    assert done.stdout.count("Passed") == 2
    assert run(project, "git", "status", "--porcelain", env=env).stdout == ""
