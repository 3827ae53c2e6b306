"""Remember passed checks by a hash of everything they depend on.

The key covers the check's spec (except its line, so editing prose above it keeps the
cache, and only its document's name, so a checkout elsewhere or in CI hits it too), the
assembled tree, the venv's portable identity (pyproject, interpreter version, uv - not
the interpreter's path) and the kinds of services it needs (not their URLs: any
PostgreSQL will do). No key holds an absolute path or a machine name, so a ``.wf/``
restored on another machine or copied to another folder still hits. Only passes are
stored.

The cache also keeps how long each check took when it last ran (``durations.json``,
keyed by ``check_id``), which balances ``--shard``.
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
_MAX_RESULT_BYTES = 64 * 1024 * 1024


def tree_digest(files: Mapping[str, bytes]) -> str:
    digest = hashlib.sha256()
    for rel in sorted(files):
        digest.update(rel.encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(files[rel]).digest())
    return digest.hexdigest()


def check_id(spec: CheckSpec) -> str:
    """A check's name across runs and machines: ``<set>/<document>::<name>``, and
    ``@profile,...`` when it runs on the tree of some profiles."""
    name = f"{spec.source.file.parent.name}/{spec.source.file.name}::{spec.name}"
    return f"{name}@{','.join(spec.profiles)}" if spec.profiles else name


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


_DURATIONS = "durations.json"


class ResultCache:
    """Passed results as small JSON files under ``<cache_dir>/results/<key>``, and the
    last duration of every check that ran in ``<cache_dir>/durations.json``.

    Each result is sealed with this user's key (``runner.stepcache``): a result planted
    in a checkout's ``.wf/`` is not trusted, so it cannot pass a check that never ran.
    Durations are not sealed: a planted one can only unbalance ``--shard``.
    """

    def __init__(self, cache_dir: Path) -> None:
        self.root = cache_dir / "results"
        self._outside = not self.root.resolve().is_relative_to(cache_dir.resolve())
        self.durations_file = cache_dir / _DURATIONS

    def durations(self) -> dict[str, float]:
        """``check_id`` -> seconds it took when it last ran ({} when none is recorded)."""
        from runner.stepcache import read_regular

        try:
            raw = read_regular(self.durations_file, _MAX_RESULT_BYTES)
            data = json.loads(raw) if raw is not None else {}
            return {str(k): float(v) for k, v in data["checks"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
            return {}

    def record_durations(self, ran: Mapping[str, float]) -> None:
        """Merge the durations of checks that just ran (a lost race only loses numbers)."""
        if not ran:
            return
        from runner.transaction import write_atomic

        merged = self.durations() | {k: round(v, 3) for k, v in ran.items()}
        data = {"format": _FORMAT, "checks": dict(sorted(merged.items()))}
        with contextlib.suppress(OSError):
            write_atomic(self.durations_file, json.dumps(data, indent=1).encode("utf-8"))

    def load(self, key: str) -> Stored | None:
        from runner.stepcache import machine_key, read_regular, unseal

        secret = machine_key()
        if secret is None or self._outside:
            return None
        try:
            sealed = read_regular(self.root / key, _MAX_RESULT_BYTES)
            payload = unseal(sealed, secret, key) if sealed is not None else None
            if payload is None:
                return None
            data = json.loads(payload)
            return Stored(output=str(data["output"]), duration=float(data["duration"]))
        except (OSError, ValueError, KeyError, TypeError, RecursionError):
            return None  # absent or damaged: run the check

    def store(self, key: str, output: str, duration: float) -> None:
        """Write atomically (``write_atomic``); a full disk only costs a rerun later."""
        from runner.stepcache import machine_key, seal
        from runner.transaction import write_atomic  # only once a check has passed

        secret = machine_key()
        if secret is None or self._outside:
            return
        data = json.dumps({"output": output, "duration": duration}).encode("utf-8")
        with contextlib.suppress(OSError):  # not stored: the check runs again next time
            write_atomic(self.root / key, seal(data, secret, key))
