"""Remember passed checks by a hash of everything they depend on.

The key covers the check's spec (except its line, so editing prose above it keeps the
cache, and only its document's name, so a checkout elsewhere or in CI hits it too), the
assembled tree, the venv key (pyproject, interpreter, uv) and the kinds of services it
needs (not their URLs: any PostgreSQL will do). Only passes are stored.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from runner.model import CheckSpec

_FORMAT = "wf-check-result-1"


def tree_digest(files: Mapping[str, bytes]) -> str:
    digest = hashlib.sha256()
    for rel in sorted(files):
        digest.update(rel.encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(files[rel]).digest())
    return digest.hexdigest()


def result_key(spec: CheckSpec, tree: str, venv_key: str | None) -> str:
    fields = {
        "format": _FORMAT,
        "name": spec.name,
        "command": spec.command,
        "step": spec.step,
        "file": spec.source.file.name,  # not the absolute path: a moved checkout still hits
        "needs": sorted(set(spec.needs)),
        "timeout": spec.timeout,
        "expect_exit": spec.expect_exit,
        "expect_output": spec.expect_output,
        "tree": tree,
        "venv": venv_key,
    }
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Stored:
    output: str
    duration: float


class ResultCache:
    """Passed results as small JSON files under ``<cache_dir>/results/<key>``."""

    def __init__(self, cache_dir: Path) -> None:
        self.root = cache_dir / "results"

    def load(self, key: str) -> Stored | None:
        try:
            data = json.loads((self.root / key).read_text("utf-8"))
            return Stored(output=str(data["output"]), duration=float(data["duration"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None  # absent or damaged: run the check

    def store(self, key: str, output: str, duration: float) -> None:
        """Write atomically (``write_atomic``); a full disk only costs a rerun later."""
        from runner.transaction import write_atomic  # only once a check has passed

        data = json.dumps({"output": output, "duration": duration}).encode("utf-8")
        with contextlib.suppress(OSError):  # not stored: the check runs again next time
            write_atomic(self.root / key, data)
