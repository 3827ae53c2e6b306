"""The services of one run: resolved once per kind, lent per check, stopped at the end.

Each kind is resolved lazily on first need (user URL, then the default local port, then
an embedded server), so a run that needs no Redis never probes for it.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from runner.checks._service_base import CleanupError, Provider, Unavailable
from runner.checks._types import SERVICE_KINDS

# imported on first need: a run without services loads none of them
_BACKENDS = {kind: f"runner.checks._{kind}" for kind in SERVICE_KINDS}


@dataclass
class Lease:
    """A check's services: its environment, and (after the lease ends) what cleanup left."""

    env: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # CleanupError messages


class Services:
    def __init__(self, env: Mapping[str, str], cache_dir: Path) -> None:
        self._env = dict(env)
        self._cache_dir = cache_dir
        self._found: dict[str, Provider | Unavailable] = {}
        self._locks = {kind: threading.Lock() for kind in _BACKENDS}

    def resolve(self, kind: str) -> Provider | Unavailable:
        with self._locks[kind]:  # one resolution per kind; other checks wait for it
            if kind not in self._found:
                backend = importlib.import_module(_BACKENDS[kind])
                self._found[kind] = backend.resolve(self._env, self._cache_dir)
            return self._found[kind]

    def unavailable(self, needs: Iterable[str]) -> Unavailable | None:
        """The first needed service that cannot be provided, if any."""
        for kind in sorted(set(needs)):
            found = self.resolve(kind)
            if isinstance(found, Unavailable):
                return found
        return None

    @contextmanager
    def lease(self, needs: Iterable[str]) -> Iterator[Lease]:
        """The services of a check needing ``needs`` (all available: see ``unavailable``).

        A failed cleanup after the body ended normally does not raise: it is recorded in
        ``Lease.problems`` (the check's verdict stands). Setup failures raise ServiceError.
        """
        lease = Lease()
        with ExitStack() as stack:
            for kind in sorted(set(needs)):
                provider = self.resolve(kind)
                if isinstance(provider, Unavailable):
                    raise RuntimeError(f"{kind} is unavailable: {provider.reason}")
                share = _noting_cleanup(provider.lease(), lease.problems)
                lease.env.update(stack.enter_context(share))
            yield lease

    def close(self) -> None:
        for found in self._found.values():
            if not isinstance(found, Unavailable):
                found.close()

    def __enter__(self) -> Services:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


@contextmanager
def _noting_cleanup(
    share: AbstractContextManager[dict[str, str]], problems: list[str]
) -> Iterator[dict[str, str]]:
    """Enter one provider's lease; a CleanupError after a normal end goes to ``problems``.

    After a body that raised (e.g. an interrupt), the error propagates: it is never
    swallowed along with the cleanup problem.
    """
    ended = False
    try:
        with share as env:
            yield env
            ended = True
    except CleanupError as exc:
        if not ended:
            raise
        problems.append(str(exc))
