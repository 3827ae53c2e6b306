"""The data the check engine takes and gives back."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from runner.model import CheckSpec

STATUSES = ("passed", "failed", "timeout", "skipped", "error")
# The services a check may need: the one definition (the parser, the engine and its
# backends ``runner.checks._<kind>`` all use it).
SERVICE_KINDS = ("postgres", "redis", "s3")


@dataclass(frozen=True)
class CheckJob:
    """One check and the project tree (steps 01..spec.step) it runs against."""

    spec: CheckSpec
    files: Mapping[str, bytes]  # posix relative path -> content


@dataclass(frozen=True)
class CheckOptions:
    """How to run a batch of checks."""

    cache_dir: Path  # everything the engine stores lives below it (e.g. <repo>/.wf)
    strict: bool = False  # a skipped check counts as a failure
    jobs: int = os.cpu_count() or 1  # checks run in parallel
    use_cache: bool = True  # False: never read the result cache (results are still stored)
    python: str | None = None  # --python; None: WF_PYTHON from ``env``, then discovery
    env: Mapping[str, str] | None = None  # base environment, default os.environ
    # Update the durations that balance --shard; off while running one shard, so every
    # shard of a matrix (even run one after another in one folder) sees the same split.
    record_durations: bool = True


@dataclass(frozen=True)
class CheckResult:
    """What happened when a check ran (or why it did not)."""

    spec: CheckSpec
    status: str  # one of STATUSES
    duration: float
    output: str  # combined stdout+stderr, tail-limited
    reason: str = ""  # one actionable line when not passed
    cached: bool = False
    # What went wrong after the check's command ended without changing its verdict,
    # e.g. a database left on the server because its drop failed (one line each).
    warnings: tuple[str, ...] = ()

    def ok(self, strict: bool) -> bool:
        """Passed; or skipped when not strict."""
        return self.status == "passed" or (self.status == "skipped" and not strict)
