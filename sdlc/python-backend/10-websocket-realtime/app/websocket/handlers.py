"""What the server does with each client frame (one function per `type`)."""

import time
from datetime import UTC, datetime

from loguru import logger
from redis.exceptions import RedisError

from app.auth.errors import InvalidTokenError
from app.auth.tokens import TokenCodec
from app.core.database import Database
from app.websocket.auth import authenticate
from app.websocket.config import WebSocketSettings
from app.websocket.connection import Connection
from app.websocket.hub import ConnectionManager
from app.websocket.presence import MessageLog
from app.websocket.protocol import (
    Ack,
    Authenticate,
    Authenticated,
    ClientFrame,
    ClientPing,
    ClientPong,
    Error,
    Join,
    Joined,
    Leave,
    Left,
    Message,
    SendMessage,
    ServerPong,
    Typing,
    TypingEvent,
    encode,
)
from app.websocket.rooms import can_join


class Handlers:
    def __init__(
        self,
        hub: ConnectionManager,
        messages: MessageLog,
        codec: TokenCodec,
        database: Database,
        settings: WebSocketSettings,
    ) -> None:
        self._hub = hub
        self._messages = messages
        self._codec = codec
        self._database = database
        self._settings = settings

    async def dispatch(self, connection: Connection, frame: ClientFrame) -> None:
        try:
            match frame:
                case Join():
                    await self.join(connection, frame)
                case Leave():
                    await self.leave(connection, frame)
                case SendMessage():
                    await self.message(connection, frame)
                case Typing():
                    await self.typing(connection, frame)
                case ClientPing():
                    connection.send(encode(ServerPong(ts=frame.ts)))
                case ClientPong():
                    pass  # receiving it already counted as activity
                case Authenticate():
                    await self.reauthenticate(connection, frame)
        except RedisError as exc:
            # The relay is unavailable: no ack, so the client keeps the message and
            # sends it again (the broker reconnects by itself).
            logger.warning("relay unavailable: {!r}", exc)
            message_id = frame.id if isinstance(frame, SendMessage) else None
            error = Error(code="relay_unavailable", detail="try again", id=message_id)
            connection.send(encode(error))

    async def join(self, connection: Connection, frame: Join) -> None:
        if not can_join(connection.principal, frame.room):
            error = Error(code="forbidden", detail="you may not join this room", room=frame.room)
            connection.send(encode(error))
            return
        if (
            frame.room not in connection.rooms
            and len(connection.rooms) >= self._settings.ws_max_rooms
        ):
            error = Error(code="too_many_rooms", detail="leave a room first", room=frame.room)
            connection.send(encode(error))
            return
        members = await self._hub.join(connection, frame.room)
        connection.send(encode(Joined(room=frame.room, members=members)))

    async def leave(self, connection: Connection, frame: Leave) -> None:
        await self._hub.leave(connection, frame.room)
        connection.send(encode(Left(room=frame.room)))

    async def message(self, connection: Connection, frame: SendMessage) -> None:
        if frame.room not in connection.rooms:
            error = Error(
                code="not_joined", detail="join the room first", id=frame.id, room=frame.room
            )
            connection.send(encode(error))
            return
        sender = connection.member
        if not await self._messages.claim(sender.id, frame.id):
            # A retry of a message already relayed (its ack was lost): ack, don't relay.
            connection.send(encode(Ack(id=frame.id, duplicate=True)))
            return
        message = Message(
            id=frame.id, room=frame.room, body=frame.body, sender=sender, ts=datetime.now(UTC)
        )
        try:
            await self._hub.publish(frame.room, message, exclude_connection=connection.id)
        except RedisError:
            await self._messages.release(sender.id, frame.id)
            raise
        connection.send(encode(Ack(id=frame.id)))

    async def typing(self, connection: Connection, frame: Typing) -> None:
        if frame.room not in connection.rooms:
            return  # typing is best-effort: no error chatter
        now = time.monotonic()
        if frame.active:
            last = connection.typing_sent.get(frame.room)
            if last is not None and now - last < self._settings.ws_typing_throttle_seconds:
                return  # throttled: the indicator shown by the others is still fresh
            connection.typing_sent[frame.room] = now
        else:
            connection.typing_sent.pop(frame.room, None)
        event = TypingEvent(
            room=frame.room,
            user=connection.member,
            active=frame.active,
            ttl_ms=int(self._settings.ws_typing_ttl_seconds * 1000),
        )
        await self._hub.publish(frame.room, event, exclude_user=connection.member.id)

    async def reauthenticate(self, connection: Connection, frame: Authenticate) -> None:
        """Extend the connection with a fresh token of the same user (re-checked in full)."""
        try:
            principal = await authenticate(frame.token, self._codec, self._database)
        except InvalidTokenError as exc:
            connection.send(encode(Error(code="invalid_token", detail=str(exc))))
            return
        if principal.user_id != connection.principal.user_id:
            connection.send(encode(Error(code="invalid_token", detail="a token of another user")))
            return
        connection.principal = principal
        connection.send(encode(Authenticated(expires_at=principal.expires_at)))
