"""Publish/subscribe over Redis that survives a lost connection.

Redis Pub/Sub delivers a message to the subscribers connected *at that moment* and keeps
nothing: a subscriber that is reconnecting misses what was published meanwhile
(at-most-once). `Broker` hides the reconnecting — backoff, then SUBSCRIBE again to every
channel still wanted — but cannot bring those messages back; use a Redis Stream or the
database when every message must arrive.

One `Broker` per process (`app.state.broker`), one consumer of `messages()`: it reads one
connection and hands out `(channel, data)` pairs; fan-out to local clients (WebSockets,
step 10) is the consumer's job.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator

from loguru import logger
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

RECONNECT_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)


class Broker:
    def __init__(
        self,
        redis: "Redis",
        *,
        poll_interval: float = 0.5,
        min_backoff: float = 0.1,
        max_backoff: float = 5.0,
    ) -> None:
        self._redis = redis
        self._poll = poll_interval
        self._min_backoff = min_backoff
        self._max_backoff = max_backoff
        self._channels: set[str] = set()
        self._pubsub: PubSub | None = None
        self._closed = asyncio.Event()
        self._changed = asyncio.Event()  # channels added: wake a consumer with none
        self._connecting = asyncio.Lock()  # one connection, even when two callers race
        self._had_connection = False
        self.reconnects = 0  # connections opened again after a lost one

    @property
    def channels(self) -> frozenset[str]:
        return frozenset(self._channels)

    async def publish(self, channel: str, data: bytes) -> int:
        """Send `data` to `channel`; the number of subscribers (all processes) it reached."""
        receivers: int = await self._redis.publish(channel, data)
        return receivers

    async def subscribe(self, *channels: str) -> None:
        """Start receiving `channels`. Kept across reconnects until `unsubscribe`."""
        new = [channel for channel in channels if channel not in self._channels]
        if not new or self._closed.is_set():
            return
        self._channels.update(new)
        self._changed.set()
        try:
            pubsub = await self._connection()
            await pubsub.subscribe(*new)  # again if just connected: SUBSCRIBE is idempotent
        except RECONNECT_ERRORS as exc:
            # Not fatal: the consumer reconnects and subscribes to every wanted channel.
            logger.warning("pub/sub: subscribe {} failed ({!r}); will retry", new, exc)
            await self._drop()

    async def unsubscribe(self, *channels: str) -> None:
        gone = [channel for channel in channels if channel in self._channels]
        if not gone:
            return
        self._channels.difference_update(gone)
        if self._pubsub is not None:
            try:
                await self._pubsub.unsubscribe(*gone)
            except RECONNECT_ERRORS:
                await self._drop()  # the next connection subscribes without them

    async def messages(self) -> AsyncIterator[tuple[str, bytes]]:
        """Yield `(channel, data)` until `aclose()`; reconnects with backoff on errors."""
        backoff = self._min_backoff
        while not self._closed.is_set():
            if not self._channels:
                self._changed.clear()
                await self._wait(self._changed, self._poll)
                continue
            try:
                pubsub = await self._connection()
                message = await pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=self._poll
                )
            except RECONNECT_ERRORS as exc:
                if self._closed.is_set():
                    break
                logger.warning("pub/sub: connection lost ({!r}); retrying in {:.1f}s", exc, backoff)
                await self._drop()
                await self._wait(self._closed, backoff)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            backoff = self._min_backoff
            if message is None or message.get("type") != "message":
                continue
            channel = message["channel"]
            name = channel.decode() if isinstance(channel, bytes) else str(channel)
            if name in self._channels:  # not a late message of an unsubscribed channel
                yield name, message["data"]

    async def aclose(self) -> None:
        """End `messages()` and drop the connection; publishing still works afterwards."""
        self._closed.set()
        self._changed.set()
        self._channels.clear()
        await self._drop()

    async def _connection(self) -> PubSub:
        """The subscribed connection, opened (and every channel subscribed) when needed."""
        async with self._connecting:
            if self._pubsub is not None:
                return self._pubsub
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(*sorted(self._channels))
            except BaseException:
                await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py: untyped
                raise
            self._pubsub = pubsub
            if self._had_connection:
                self.reconnects += 1
                logger.info("pub/sub: reconnected, {} channel(s) subscribed", len(self._channels))
            self._had_connection = True
            return pubsub

    async def _drop(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(*RECONNECT_ERRORS):
                await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py: untyped

    @staticmethod
    async def _wait(event: asyncio.Event, seconds: float) -> None:
        """Sleep `seconds`, or less when `event` is set meanwhile."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await event.wait()
