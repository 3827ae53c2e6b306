"""Real servers and real WebSocket clients for step 10's tests.

`AppServer` runs `python -m app` (the production entry point) on a free loopback port,
with the test database, the real Redis and the settings a test asks for. `WsClient`
is a protocol-aware client on `websockets`: it answers heartbeats, collects frames and
waits for the one a test expects.
"""

import asyncio
import base64
import contextlib
import json
import os
import signal
import socket
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.auth_support import TEST_SECRET, auth_settings

PROJECT_ROOT = Path(__file__).resolve().parents[3]
Frame = dict[str, Any]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def redis_url() -> str:
    return os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def access_token(
    user_id: uuid.UUID,
    *,
    version: int = 0,
    ttl: float = 600,
    session_id: uuid.UUID | None = None,
) -> str:
    """An access token as step 04 issues it (same claims, same key), with any lifetime.

    Its `sid` names a session (refresh-token family); without `session_id` a random one,
    which no database row backs: such a token is refused like a logged-out session's.
    """
    config = auth_settings()
    now = datetime.now(UTC)
    claims = {
        "iss": config.jwt_issuer,
        "aud": config.jwt_audience,
        "sub": str(user_id),
        "type": "access",
        "jti": str(uuid.uuid4()),
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(seconds=ttl),
        "ver": version,
        "sid": str(session_id or uuid.uuid4()),
    }
    return jwt.encode(claims, TEST_SECRET, algorithm=config.jwt_algorithm)


def session_of(token: str) -> uuid.UUID:
    """The session (`sid`) a token belongs to (read, not verified: the test made it)."""
    return uuid.UUID(jwt.decode(token, options={"verify_signature": False})["sid"])


START_SECONDS = 120  # a loaded CI machine starts a Python app slowly; a hung one fails
BIND_ATTEMPTS = 5


class AppServer:
    """`python -m app` in a subprocess; `stop()` sends SIGTERM and returns the exit code.

    A free port is only free until someone binds it: between `free_port()` and the
    server's bind, another process on the machine may take it. Then the server exits
    with "address already in use" and `start()` tries a new port (unless the test fixed
    the port); and it never reports ready until *its own* process listens on the port,
    so a test never talks to someone else's server that answered on that port.
    """

    def __init__(
        self,
        database_url: str,
        env: dict[str, str],
        *,
        port: int | None = None,
        python: Path | str = sys.executable,
        cwd: Path = PROJECT_ROOT,
    ) -> None:
        self.python = python  # another venv's interpreter: an installed app (test_wheel)
        self.cwd = cwd
        self.fixed_port = port is not None
        self.port = port or free_port()
        self.env = {
            **os.environ,
            "APP_ENV": "testing",
            "LOG_LEVEL": "WARNING",
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url(),
            "JWT_SECRET_KEY": TEST_SECRET,
            "RATE_LIMIT_ENABLED": "false",
            "SHUTDOWN_TIMEOUT": "5",
            **env,
        }
        self.process: asyncio.subprocess.Process | None = None
        name = f"ws-server-{self.port}-{uuid.uuid4().hex[:6]}.log"
        self.log = Path(tempfile.gettempdir()) / name

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/v1"

    async def start(self) -> "AppServer":
        for _ in range(BIND_ATTEMPTS):
            logged = len(self.output())
            if await self._start_once():
                return self
            if self.fixed_port or "address already in use" not in self.output()[logged:]:
                break
            self.port = free_port()  # someone took the port meanwhile: another one
            self.env["PORT"] = str(self.port)
        assert self.process is not None
        raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.output()}")

    async def _start_once(self) -> bool:
        """True once this process serves /health/live; False when it exited."""
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                self.python, "-m", "app", cwd=self.cwd, env=self.env, stdout=log, stderr=log
            )
        deadline = time.monotonic() + START_SECONDS
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                if self.process.returncode is not None:
                    return False
                if self.port in local_ports(self.process.pid):  # ours, not a stranger's
                    with contextlib.suppress(httpx.HTTPError):
                        live = await client.get(f"{self.http}/health/live", timeout=5)
                        if live.status_code == 200:
                            return True
                await asyncio.sleep(0.1)
        self.process.kill()
        await self.process.wait()
        raise RuntimeError(f"server did not start in {START_SECONDS} s:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    async def stop(self, grace: float = 30) -> int | None:
        """SIGTERM, wait up to `grace` seconds (then SIGKILL); the exit code."""
        if self.process is None:
            return None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), grace)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        return self.process.returncode


class WsClient:
    """A test client: collects every frame, answers server pings (unless told not to)."""

    def __init__(self, connection: ClientConnection, *, answer_pings: bool = True) -> None:
        self.connection = connection
        self.frames: list[Frame] = []
        self.answer_pings = answer_pings
        self._arrived = asyncio.Condition()
        self._reader = asyncio.create_task(self._read())
        self.welcome: Frame | None = None

    @classmethod
    async def open(cls, url: str, token: str | None, **options: Any) -> "WsClient":
        answer_pings = options.pop("answer_pings", True)
        target = f"{url}?token={token}" if token else url
        connection = await connect(target, open_timeout=20, **options)
        client = cls(connection, answer_pings=answer_pings)
        client.welcome = await client.expect("welcome")
        return client

    async def _read(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in self.connection:
                frame: Frame = json.loads(raw)
                if frame["type"] == "ping" and self.answer_pings:
                    await self.connection.send(json.dumps({"type": "pong", "ts": frame["ts"]}))
                async with self._arrived:
                    self.frames.append(frame)
                    self._arrived.notify_all()
        async with self._arrived:
            self._arrived.notify_all()

    async def send(self, frame: Frame) -> None:
        await self.connection.send(json.dumps(frame, ensure_ascii=False))

    async def expect(self, kind: str, within: float = 10, **fields: Any) -> Frame:
        """The first frame of `kind` with these fields (consumed, so it is found once)."""

        def match() -> Frame | None:
            for frame in self.frames:
                if frame["type"] == kind and all(frame.get(k) == v for k, v in fields.items()):
                    self.frames.remove(frame)
                    return frame
            return None

        async with asyncio.timeout(within), self._arrived:
            while (found := match()) is None:
                if self._reader.done():
                    raise AssertionError(
                        f"closed ({self.close_code}) before {kind} {fields}: {self.frames}"
                    )
                await self._arrived.wait()
            return found

    async def no_frame(self, kind: str, wait: float = 1.0, **fields: Any) -> None:
        await asyncio.sleep(wait)
        unexpected = [
            frame
            for frame in self.frames
            if frame["type"] == kind and all(frame.get(k) == v for k, v in fields.items())
        ]
        assert not unexpected, unexpected

    async def join(self, room: str) -> Frame:
        await self.send({"type": "join", "room": room})
        return await self.expect("joined", room=room)

    async def closed(self, within: float = 15) -> tuple[int | None, str | None]:
        async with asyncio.timeout(within):
            await self.connection.wait_closed()
        return self.close_code, self.connection.close_reason

    @property
    def close_code(self) -> int | None:
        return self.connection.close_code

    async def close(self) -> None:
        await self.connection.close()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


async def refused(
    url: str, token: str | None, **options: Any
) -> tuple[int | None, str | None, list[str]]:
    """Connect and read until the server closes: (code, reason, frames received)."""
    target = f"{url}?token={token}" if token else url
    async with connect(target, open_timeout=20, **options) as connection:
        frames = []
        with contextlib.suppress(ConnectionClosed):
            async with asyncio.timeout(20):
                async for raw in connection:
                    frames.append(str(raw))
        return connection.close_code, connection.close_reason, frames


def masked_text_frame(text: str) -> bytes:
    """One client-to-server text frame (clients must mask), built by hand."""
    payload = text.encode()
    mask = os.urandom(4)
    size = len(payload)
    if size < 126:
        header = bytes([0x81, 0x80 | size])
    else:
        header = bytes([0x81, 0x80 | 126]) + size.to_bytes(2, "big")
    return header + mask + bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))


class StalledClient:
    """A client that completes the handshake and then (almost) never reads.

    Its receive buffer is made tiny before connecting, so the kernel stops accepting
    data for it almost at once: exactly what a client on a dead mobile link looks like.
    """

    def __init__(self, port: int, token: str) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.settimeout(10)
        self.sock.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET /ws/v1?token={token} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        response = b""
        while b"\r\n\r\n" not in response:
            response += self.sock.recv(1)
        assert response.startswith(b"HTTP/1.1 101"), response

    def send(self, frame: Frame) -> None:
        self.sock.sendall(masked_text_frame(json.dumps(frame)))

    def drain_until_closed(self, within: float) -> bool:
        """Read everything; True when the server closed the connection in time."""
        deadline = time.monotonic() + within
        self.sock.settimeout(1)
        while time.monotonic() < deadline:
            try:
                if not self.sock.recv(65536):
                    return True
            except TimeoutError:
                continue
            except ConnectionResetError:
                return True
        return False

    def close(self) -> None:
        self.sock.close()


def local_ports(pid: int) -> set[int]:
    """Local TCP ports of the sockets process `pid` holds (from /proc, Linux)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = str(fd.readlink())
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[9] in inodes:
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


async def kill_subscriber_connections(pid: int) -> int:
    """CLIENT KILL the Pub/Sub connections of server `pid` (and no one else's)."""
    from redis.asyncio import Redis

    redis = Redis.from_url(redis_url())
    try:
        ports = local_ports(pid)
        killed = 0
        for client in await redis.client_list():
            port = int(client["addr"].rsplit(":", 1)[1])
            if port in ports and (int(client.get("sub", 0)) or int(client.get("psub", 0))):
                await redis.client_kill_filter(_id=client["id"])
                killed += 1
        return killed
    finally:
        await redis.aclose()
