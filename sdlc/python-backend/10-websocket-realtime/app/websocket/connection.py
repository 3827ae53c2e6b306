"""One client connection: a bounded send queue drained by its own task.

Nothing ever awaits a client's socket except that connection's sender task. Fan-out
(`send`) only puts a frame on the queue, without waiting; when the queue is full the
client is not keeping up, and it is disconnected (1008 "send queue full") instead of
holding more and more memory or slowing everyone else in the room down.
"""

import asyncio
import time
import uuid
from typing import Protocol

from loguru import logger

from app.websocket.auth import Principal
from app.websocket.protocol import CloseCode, Member


class Socket(Protocol):
    """What a connection needs from the transport (Starlette's `WebSocket` has it)."""

    async def send_text(self, data: str) -> None: ...

    async def close(self, code: int = 1000, reason: str | None = None) -> None: ...


class TokenBucket:
    """`rate` tokens per second, at most `burst` saved up; one frame costs one token."""

    def __init__(self, rate: float, burst: int) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._tokens = float(burst)
        self._updated = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._updated) * self._rate)
        self._updated = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


class Connection:
    def __init__(self, socket: Socket, principal: Principal, *, queue_size: int) -> None:
        self.id = uuid.uuid4().hex
        self.socket = socket
        self.principal = principal
        self.rooms: set[str] = set()
        self.last_seen = time.monotonic()
        self.close_code = CloseCode.NORMAL
        self.close_reason = ""
        self.typing_sent: dict[str, float] = {}  # room -> monotonic time of the last relay
        self._queue: asyncio.Queue[str] = asyncio.Queue(maxsize=queue_size)
        self._closing = asyncio.Event()

    @property
    def member(self) -> Member:
        return self.principal.member

    @property
    def closing(self) -> bool:
        return self._closing.is_set()

    def touch(self) -> None:
        self.last_seen = time.monotonic()

    def send(self, data: str) -> bool:
        """Queue one frame; never waits. False when the connection is (now) closing."""
        if self.closing:
            return False
        try:
            self._queue.put_nowait(data)
        except asyncio.QueueFull:
            logger.warning(
                "dropping slow consumer {} (user {}): send queue full", self.id, self.member.id
            )
            self.request_close(CloseCode.POLICY_VIOLATION, "send queue full")
            return False
        return True

    def request_close(self, code: CloseCode, reason: str) -> None:
        """Ask the connection to end; the first reason wins."""
        if not self.closing:
            self.close_code, self.close_reason = code, reason
            self._closing.set()

    async def wait_closing(self) -> None:
        await self._closing.wait()

    @property
    def queued(self) -> int:
        return self._queue.qsize()

    async def run_sender(self) -> None:
        """Drain the queue into the socket until cancelled."""
        while True:
            data = await self._queue.get()
            await self.socket.send_text(data)
