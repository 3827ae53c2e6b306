"""What every service backend shares: the provider shape, "unavailable", small helpers."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

INSTALL_HINT = "pip install 'wf-runner[services]'"


class ServiceError(Exception):
    """A reachable service failed while preparing or cleaning up a check's share of it."""


class CleanupError(ServiceError):
    """A check's share could not be cleaned up after the check ran to its end.

    The check's verdict stands (its command is over); the message names what is left
    behind and how it goes away, and becomes a warning on the check's result. A provider
    raises it only when the check's body ended normally.
    """


@dataclass(frozen=True)
class Unavailable:
    """No server for this kind of service; ``reason`` says how to provide one."""

    reason: str


class Provider(Protocol):
    """A reachable server; each lease is a check's private share (database, index, bucket)."""

    kind: str
    description: str

    def lease(self) -> AbstractContextManager[dict[str, str]]:
        """Environment variables for one check; cleaned up when the context exits."""
        ...

    def close(self) -> None:
        """Stop whatever this provider started itself."""
        ...


def redact(url: str) -> str:
    """The URL with its password replaced by ``***``, for messages."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        host = parts.netloc.rsplit("@", 1)[-1]
        user = parts.username or ""
        return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
    except ValueError:
        return "<unparsable URL>"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(ready: Callable[[], str | None], timeout: float) -> str | None:
    """Poll ``ready`` (None when ready, else the problem) until ready or ``timeout``."""
    deadline = time.monotonic() + timeout
    problem = ready()
    while problem is not None and time.monotonic() < deadline:
        time.sleep(0.1)
        problem = ready()
    return problem


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def iterate_once(items: Iterator[str]) -> list[str]:
    """Unique items in first-seen order."""
    seen: list[str] = []
    for item in items:
        if item and item not in seen:
            seen.append(item)
    return seen
