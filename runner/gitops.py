"""Git operations (gitpython): init + commit, changed documents, committed tree."""

from __future__ import annotations

from pathlib import Path


def init_and_commit(folder: Path, message: str) -> str:
    """``git init`` ``folder``, commit everything in it, return the commit's hex sha."""
    import git

    repo = git.Repo.init(folder)
    repo.git.add(A=True)
    actor = _actor(repo)
    commit = repo.index.commit(message, author=actor, committer=actor)
    return commit.hexsha


def _actor(repo: object) -> object:
    """The user's git identity when configured, else a neutral one."""
    import git

    reader = repo.config_reader()  # type: ignore[attr-defined]
    name = reader.get_value("user", "name", "wf")
    email = reader.get_value("user", "email", "wf@localhost")
    return git.Actor(str(name), str(email))
