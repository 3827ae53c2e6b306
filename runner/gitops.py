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
    """Commit ``paths`` (relative to ``root``: added, changed and deleted files), if they changed.

    Only ``paths`` go into the commit: it is built in a temporary index from HEAD, so
    whatever else the user has staged stays staged and out of it.
    """
    import tempfile

    import git

    repo = _repo(root)
    specs = [_pathspec(repo, root, path) for path in paths]
    has_head = repo.head.is_valid()
    try:
        repo.git.add("-A", "--", *specs)  # the user's index agrees with the commit
        with tempfile.TemporaryDirectory(prefix="wf-index-") as tmp:
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            if has_head:
                repo.git.read_tree("HEAD", env=env)
            repo.git.add("-A", "--", *specs, env=env)
            tree = repo.git.write_tree(env=env)
    except git.GitCommandError as exc:
        raise WfError(f"git commit of {', '.join(paths)} failed: {exc.stderr.strip()}") from exc
    parents = [repo.head.commit] if has_head else []
    if parents and parents[0].tree.hexsha == tree:
        return None
    actor = _actor(repo)
    commit = git.Commit.create_from_tree(
        repo, tree, message, parent_commits=parents, head=True, author=actor, committer=actor
    )
    return commit.hexsha


def changed_since(root: Path, ref: str, folder: str) -> set[Path]:
    """Files below ``folder`` that differ from ``ref``: committed, staged, unstaged or new."""
    import git

    repo = _repo(root)
    spec = _pathspec(repo, root, folder)
    try:
        names = repo.git.diff("--name-only", ref, "--", spec).splitlines()
    except git.GitCommandError as exc:
        raise WfError(f"--since {ref}: {exc.stderr.strip() or 'unknown revision'}") from exc
    names += repo.git.ls_files("--others", "--exclude-standard", "--", spec).splitlines()
    top = Path(repo.working_tree_dir or root)
    return {(top / name).resolve() for name in names}


def uncommitted(root: Path, folder: str) -> list[tuple[str, str]]:
    """(status, path from the repository top) of each file in ``folder`` that differs
    from HEAD: modified, added, deleted or untracked (``git status --porcelain``)."""
    repo = _repo(root)
    spec = _pathspec(repo, root, folder)
    status = repo.git.status("--porcelain", "--untracked-files=all", "--", spec)
    return [
        (line[:2].strip(), line[3:].split(" -> ")[-1])
        for line in status.splitlines()
        if line.strip()
    ]


def require_repository(root: Path) -> None:
    """Fail (before anything is written) when ``root`` is not inside a git repository."""
    _repo(root)


def _repo(root: Path) -> Any:
    import git

    try:
        return git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
        raise WfError(f"{root} is not inside a git repository") from exc


def _pathspec(repo: Any, root: Path, folder: str) -> str:
    """``folder`` (relative to the project ``root``) as git sees it from the repository top.

    git runs in the top folder, and the project may be a subfolder of the repository.
    """
    top = Path(repo.working_tree_dir or root).resolve()
    target = Path(root).resolve() / folder
    try:
        return target.relative_to(top).as_posix() or "."
    except ValueError:
        return str(target)


def _actor(repo: Any) -> Any:
    """The user's git identity when configured, else a neutral one."""
    import git

    reader = repo.config_reader()
    name = reader.get_value("user", "name", "wf")
    email = reader.get_value("user", "email", "wf@localhost")
    return git.Actor(str(name), str(email))
