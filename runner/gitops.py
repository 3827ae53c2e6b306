"""Git operations (gitpython): init + commit, documents changed since a ref, and
whether the generated tree equals what git has committed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runner.errors import WfError


def init_and_commit(folder: Path, message: str) -> str:
    """``git init`` ``folder``, commit everything in it, return the commit's hex sha."""
    import git

    repo = git.Repo.init(folder)
    repo.git.add(A=True)
    actor = _actor(repo)
    return repo.index.commit(message, author=actor, committer=actor).hexsha


def commit_paths(root: Path, paths: list[str], message: str) -> str | None:
    """Stage ``paths`` (added, changed and deleted files) and commit them, if anything changed."""
    repo = _repo(root)
    repo.git.add("-A", "--", *paths)
    if not repo.index.diff("HEAD" if repo.head.is_valid() else None):
        return None
    actor = _actor(repo)
    return repo.index.commit(message, author=actor, committer=actor).hexsha


def changed_since(root: Path, ref: str, folder: str) -> set[Path]:
    """Files below ``folder`` that differ from ``ref``: committed, staged, unstaged or new."""
    import git

    repo = _repo(root)
    try:
        names = repo.git.diff("--name-only", ref, "--", folder).splitlines()
    except git.GitCommandError as exc:
        raise WfError(f"--since {ref}: {exc.stderr.strip() or 'unknown revision'}") from exc
    names += [n for n in repo.untracked_files if n.startswith(folder.rstrip("/") + "/")]
    top = Path(repo.working_tree_dir or root)
    return {(top / name).resolve() for name in names}


def uncommitted(root: Path, folder: str) -> list[str]:
    """``git status --porcelain`` lines for ``folder``: what differs from HEAD."""
    repo = _repo(root)
    status = repo.git.status("--porcelain", "--untracked-files=all", "--", folder)
    return [line for line in status.splitlines() if line.strip()]


def _repo(root: Path) -> Any:
    import git

    try:
        return git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
        raise WfError(f"{root} is not inside a git repository") from exc


def _actor(repo: Any) -> Any:
    """The user's git identity when configured, else a neutral one."""
    import git

    reader = repo.config_reader()
    name = reader.get_value("user", "name", "wf")
    email = reader.get_value("user", "email", "wf@localhost")
    return git.Actor(str(name), str(email))
