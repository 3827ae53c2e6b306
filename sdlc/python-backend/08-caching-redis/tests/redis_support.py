"""Helpers for tests against Redis (step 08): the server under test, throwaway servers.

`REDIS_URL` names the server (wf's checks lend each check a database index of its own);
without it the tests fail instead of touching a developer's database 0. A test that
stops Redis starts its own `redis-server` on a free port and never touches that one.
"""

import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from app.cache.config import RedisSettings


def redis_url() -> str:
    url = os.environ.get("TEST_REDIS_URL") or os.environ.get("REDIS_URL")
    if not url:
        pytest.fail(
            "set REDIS_URL (or TEST_REDIS_URL) to a Redis database these tests may use, "
            "e.g. redis://127.0.0.1:6379/15",
            pytrace=False,
        )
    return url


def redis_settings(url: str, **overrides: Any) -> RedisSettings:
    """Test settings: cache on, keys under a prefix no other test uses, fast recovery."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    values: dict[str, Any] = {
        "redis_url": url,
        "redis_client_name": name,
        "cache_enabled": True,
        "cache_prefix": name,
        "cache_retry_after": 0.2,
        "redis_connect_timeout": 1.0,
        "redis_socket_timeout": 1.0,
        **overrides,
    }
    return RedisSettings(_env_file=None, **values)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RedisServer:
    """A `redis-server` of the test's own, which the test may stop and start again."""

    def __init__(self, folder: Path) -> None:
        binary = os.environ.get("REDIS_SERVER") or shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server not found: install it or set REDIS_SERVER", pytrace=False)
        self._binary = binary
        self._folder = folder
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [
            self._binary, "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", str(self._folder),
        ]  # fmt: skip
        self._process = subprocess.Popen(  # noqa: S603 - a fixed command line
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        self.stop()
        pytest.fail(f"redis-server did not start on port {self.port}", pytrace=False)

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None
