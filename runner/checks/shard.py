"""Split the checks into N shards for a CI job matrix (``wf check --shard K/N``).

The split is a pure function of the checks' ids (``check_id``) and the durations the
result cache recorded for them, so every machine that restored the same cache computes
the same split: shards are disjoint, together they hold every check, and each one's
recorded durations add up to about 1/N of the total (greedy longest-first placement:
no shard exceeds the mean by more than the longest check). A check without a recorded
duration weighs the mean of the known ones; with none recorded every check weighs 1,
which balances the counts.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
MAX_COUNT = 1000  # more shards than any CI matrix runs (GitHub's limit is 256 jobs)


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (1-based) of ``count``."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``"K/N"`` with 1 <= K <= N; ValueError says what is wrong."""
        match = _SHARD.match(text)
        if not match:
            raise ValueError(f"{text!r} is not K/N (e.g. 2/4)")
        index, count = int(match[1]), int(match[2])
        if count < 1 or not 1 <= index <= count:
            raise ValueError(f"{text!r}: K must be between 1 and N, and N at least 1")
        if count > MAX_COUNT:
            raise ValueError(f"{text!r}: N must be at most {MAX_COUNT}")
        return cls(index, count)

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


@dataclass(frozen=True)
class Split:
    """Which check ids each shard runs, and the weight the split gave each id."""

    shards: tuple[tuple[str, ...], ...]
    weights: Mapping[str, float]
    measured: bool  # weights come from recorded durations (else: counts)

    def members(self, shard: Shard) -> frozenset[str]:
        return frozenset(self.shards[shard.index - 1])

    def load(self, index: int) -> float:
        """The summed weight of shard ``index`` (1-based)."""
        return sum(self.weights[i] for i in self.shards[index - 1])

    @property
    def fingerprint(self) -> str:
        """Equal on every machine that computed the same split (compare across shards)."""
        digest = hashlib.sha256()
        for members in self.shards:
            digest.update("\0".join(members).encode("utf-8") + b"\1")
        return digest.hexdigest()[:12]


def split(ids: Sequence[str], durations: Mapping[str, float], count: int) -> Split:
    """Place each id in one of ``count`` shards, longest first, onto the lightest shard."""
    unique = sorted(set(ids))
    known = [durations[i] for i in unique if i in durations]
    fallback = sum(known) / len(known) if known else 1.0
    weights = {i: max(0.0, durations.get(i, fallback)) for i in unique}
    loads = [0.0] * count
    members: list[list[str]] = [[] for _ in range(count)]
    for check in sorted(unique, key=lambda i: (-weights[i], i)):
        lightest = min(range(count), key=lambda k: (loads[k], k))
        loads[lightest] += weights[check]
        members[lightest].append(check)
    return Split(tuple(tuple(sorted(m)) for m in members), weights, bool(known))
