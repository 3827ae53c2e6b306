"""Helpers for the CLI check tests: documents with checks, JSON runs, git repositories."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from core.helpers import block, line_of, md, wf, write_project

__all__ = [
    "block",
    "check_block",
    "git",
    "init_repo",
    "line_of",
    "md",
    "run_json",
    "statuses",
    "step_doc",
    "wf",
    "write_project",
]


def check_block(body: str, **attrs: object) -> str:
    """A ```` ```bash check name=… ```` block; attribute values are quoted when needed."""
    words = ["bash", "check"]
    for key, value in attrs.items():
        text = str(value)
        words.append(f'{key}="{text}"' if any(c in text for c in " \\$") else f"{key}={text}")
    return block(" ".join(words), body)


def step_doc(title: str, *parts: str, front: str = "") -> str:
    """A step document: optional front matter lines, a heading, then blocks."""
    head = f"---\ntitle: {title}\n{front}---\n" if front else ""
    return head + f"# {title}\n\n" + "\n".join(parts)


def run_json(root: Path, *args: str) -> tuple[int, dict[str, Any]]:
    """``wf --root ROOT ARGS --format json``: the exit code and the parsed report."""
    result = wf(root, *args, "--format", "json")
    try:
        payload = json.loads(result.stdout)
    except json.JSONDecodeError as exc:
        raise AssertionError(
            f"stdout is not JSON ({exc}):\n{result.stdout}\nstderr:\n{result.stderr}"
        ) from exc
    return result.exit_code, payload


def statuses(payload: dict[str, Any]) -> dict[str, str]:
    """check name -> status, from a JSON report."""
    return {c["name"]: c["status"] for c in payload["checks"]}


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=True, timeout=30
    )
    return done.stdout


def init_repo(root: Path) -> None:
    """A git repository at ``root`` with a local identity and everything committed."""
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Test User")
    git(root, "config", "user.email", "test@example.com")
    git(root, "config", "commit.gpgsign", "false")
    (root / ".gitignore").write_text(".wf/\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
