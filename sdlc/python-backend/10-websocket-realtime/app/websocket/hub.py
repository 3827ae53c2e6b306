"""The connection manager: local connections and rooms, relayed through Redis Pub/Sub.

Every frame for a room goes through the broker, also when all its members are on this
instance: one path, one order, and a second instance needs nothing special. An instance
subscribes to a room's channel while at least one of its own connections is in the
room, and delivers what arrives to those connections only.

    client --frame--> handler --publish--> Redis channel <room> --> every subscribed
                                                                     instance --> its
                                                                     members' queues
"""

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Protocol

from loguru import logger

from app.websocket.connection import Connection
from app.websocket.presence import PresenceStore
from app.websocket.protocol import CloseCode, Frame, Member, Presence, encode


class PubSub(Protocol):
    """The part of step 08's `app.cache.pubsub.Broker` this step uses."""

    async def publish(self, channel: str, data: bytes) -> int: ...

    async def subscribe(self, *channels: str) -> None: ...

    async def unsubscribe(self, *channels: str) -> None: ...

    def messages(self) -> AsyncIterator[tuple[str, bytes]]: ...


class ConnectionManager:
    def __init__(self, broker: PubSub, presence: PresenceStore, *, prefix: str) -> None:
        self.instance_id = uuid.uuid4().hex
        self._broker = broker
        self._presence = presence
        self._channel_prefix = f"{prefix}:room:"
        self._connections: dict[str, Connection] = {}
        self._rooms: dict[str, set[Connection]] = {}
        self._room_locks: dict[str, asyncio.Lock] = {}
        self._empty = asyncio.Event()
        self._empty.set()

    # --- bookkeeping ---------------------------------------------------------------

    def channel(self, room: str) -> str:
        return self._channel_prefix + room

    @property
    def connections(self) -> int:
        return len(self._connections)

    def all(self) -> list[Connection]:
        return list(self._connections.values())

    def add(self, connection: Connection) -> None:
        self._connections[connection.id] = connection
        self._empty.clear()

    async def remove(self, connection: Connection) -> None:
        """Forget a connection (any reason it ended): leave every room, tell the others."""
        for room in list(connection.rooms):
            with contextlib.suppress(Exception):  # Redis down: presence expires by itself
                await self.leave(connection, room)
        self._connections.pop(connection.id, None)
        if not self._connections:
            self._empty.set()

    def local_members(self, room: str) -> int:
        return len(self._rooms.get(room, ()))

    # --- rooms ---------------------------------------------------------------------

    async def join(self, connection: Connection, room: str) -> list[Member]:
        """Join `room` and return who is in it (on every instance)."""
        if room in connection.rooms:
            return await self._presence.members(room)
        async with self._room_locks.setdefault(room, asyncio.Lock()):
            members = self._rooms.setdefault(room, set())
            if not members:
                await self._broker.subscribe(self.channel(room))
            members.add(connection)
            connection.rooms.add(room)
        await self._presence.add(room, connection.id, connection.member)
        present = await self._presence.members(room)
        event = Presence(room=room, event="join", user=connection.member, members=present)
        await self.publish(room, event, exclude_connection=connection.id)
        return present

    async def leave(self, connection: Connection, room: str) -> None:
        if room not in connection.rooms:
            return
        connection.rooms.discard(room)
        connection.typing_sent.pop(room, None)
        async with self._room_locks.setdefault(room, asyncio.Lock()):
            members = self._rooms.get(room, set())
            members.discard(connection)
            if not members:
                self._rooms.pop(room, None)
                self._room_locks.pop(room, None)
                await self._broker.unsubscribe(self.channel(room))
        await self._presence.remove(room, connection.id, connection.member)
        present = await self._presence.members(room)
        event = Presence(room=room, event="leave", user=connection.member, members=present)
        await self.publish(room, event)

    async def refresh_presence(self) -> None:
        entries = [
            (room, connection.id, connection.member)
            for connection in list(self._connections.values())
            for room in connection.rooms
        ]
        if entries:
            await self._presence.refresh(entries)

    # --- relay ---------------------------------------------------------------------

    async def publish(
        self,
        room: str,
        frame: Frame,
        *,
        exclude_connection: str | None = None,
        exclude_user: str | None = None,
    ) -> None:
        envelope = {"f": encode(frame), "xc": exclude_connection, "xu": exclude_user}
        await self._broker.publish(self.channel(room), json.dumps(envelope).encode())

    def deliver(self, channel: str, data: bytes) -> int:
        """Hand one relayed frame to this instance's members of its room."""
        if not channel.startswith(self._channel_prefix):
            return 0
        room = channel[len(self._channel_prefix) :]
        try:
            envelope = json.loads(data)
            text: str = envelope["f"]
        except (ValueError, KeyError, TypeError):
            logger.warning("dropping a malformed relay envelope on {}", channel)
            return 0
        delivered = 0
        for connection in list(self._rooms.get(room, ())):
            if connection.id == envelope.get("xc"):
                continue
            if envelope.get("xu") and connection.member.id == envelope["xu"]:
                continue
            delivered += connection.send(text)
        return delivered

    async def run_relay(self) -> None:
        """Deliver what the broker receives until cancelled or the broker is closed.

        The broker reconnects and re-subscribes by itself after a connection loss; an
        unexpected error here is logged and the loop starts over instead of dying.
        """
        while True:
            try:
                async for channel, data in self._broker.messages():
                    self.deliver(channel, data)
            except Exception as exc:  # noqa: BLE001 - the relay must outlive one bad read
                logger.warning("relay failed, restarting: {!r}", exc)
                await asyncio.sleep(1.0)
            else:
                return

    async def run_presence_refresh(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.refresh_presence()
            except Exception as exc:  # noqa: BLE001 - keep refreshing after a Redis outage
                logger.warning("presence refresh failed: {!r}", exc)

    # --- shutdown ------------------------------------------------------------------

    def close_all(self, code: CloseCode, reason: str) -> None:
        for connection in list(self._connections.values()):
            connection.request_close(code, reason)

    async def drain(self) -> None:
        """Wait until every connection is gone (callers bound it with a timeout)."""
        await self._empty.wait()
