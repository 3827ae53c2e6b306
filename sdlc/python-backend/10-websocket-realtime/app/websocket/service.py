"""One socket from handshake to close: authenticate, accept, then three tasks.

- the **receiver** reads frames: size limit (1009), rate limit (1008), JSON validation
  (an `error` frame, the connection stays), then the handler of the frame's type;
- the **sender** drains the connection's bounded queue into the socket;
- the **watchdog** sends heartbeats, and closes idle connections (4000) and
  connections whose token expired (4001).

Whichever ends first ends the connection; the connection is then removed from every
room (presence `leave` for the others) whatever the reason - a clean close, a network
drop, an error, a slow consumer or server shutdown.
"""

import asyncio
import contextlib
import time
from datetime import UTC, datetime

from fastapi import WebSocket
from loguru import logger
from pydantic import ValidationError
from starlette.websockets import WebSocketDisconnect

from app.auth.errors import InvalidTokenError
from app.auth.tokens import TokenCodec
from app.core.database import Database
from app.websocket.auth import authenticate, credentials
from app.websocket.config import WebSocketSettings
from app.websocket.connection import Connection, TokenBucket
from app.websocket.handlers import Handlers
from app.websocket.hub import ConnectionManager
from app.websocket.protocol import CloseCode, Error, ServerPing, Welcome, client_frame, encode

CLOSE_TIMEOUT_SECONDS = 2.0


class RealtimeService:
    def __init__(
        self,
        hub: ConnectionManager,
        handlers: Handlers,
        codec: TokenCodec,
        database: Database,
        settings: WebSocketSettings,
    ) -> None:
        self.hub = hub
        self._handlers = handlers
        self._codec = codec
        self._database = database
        self._settings = settings

    async def serve(self, websocket: WebSocket) -> None:
        offered = list(websocket.scope.get("subprotocols", []))
        found = credentials(websocket.query_params.get("token"), offered)
        try:
            principal = await authenticate(found.token, self._codec, self._database)
        except InvalidTokenError as exc:
            # Refused before the connection exists: no room, no hub entry, nothing read.
            # The handshake is completed only to deliver 1008 and the reason; rejecting
            # it (HTTP 403) would reach a browser as a bare 1006, the same as a network
            # error, and the client could not tell that retrying is pointless.
            await websocket.accept(subprotocol=found.subprotocol)
            await websocket.close(CloseCode.POLICY_VIOLATION, reason=str(exc)[:120])
            return
        await websocket.accept(subprotocol=found.subprotocol)
        connection = Connection(websocket, principal, queue_size=self._settings.ws_send_queue_size)
        self.hub.add(connection)
        settings = self._settings
        connection.send(
            encode(
                Welcome(
                    connection_id=connection.id,
                    user=principal.member,
                    expires_at=principal.expires_at,
                    heartbeat_ms=int(settings.ws_heartbeat_seconds * 1000),
                    max_message_bytes=settings.ws_max_message_bytes,
                )
            )
        )
        tasks = [
            asyncio.create_task(connection.run_sender()),
            asyncio.create_task(self._receive(websocket, connection)),
            asyncio.create_task(self._watch(connection)),
            asyncio.create_task(connection.wait_closing()),
        ]
        disconnected = False
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                error = task.exception()
                sender_failed = task is tasks[0] and error is not None
                receiver_ended = task is tasks[1] and error is None and not connection.closing
                if sender_failed or receiver_ended or isinstance(error, WebSocketDisconnect):
                    disconnected = True  # the client is gone; nothing left to close
                elif error is not None:
                    logger.opt(exception=error).error("websocket connection failed")
                    connection.request_close(CloseCode.INTERNAL_ERROR, "internal error")
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.hub.remove(connection)
        if not disconnected:
            # A slow consumer's socket is not writable: don't wait for it forever. The
            # server closes the transport once the handler returns.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(
                    websocket.close(connection.close_code, connection.close_reason),
                    CLOSE_TIMEOUT_SECONDS,
                )

    async def _receive(self, websocket: WebSocket, connection: Connection) -> None:
        settings = self._settings
        limit = settings.ws_max_message_bytes
        bucket = TokenBucket(settings.ws_rate_per_second, settings.ws_rate_burst)
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            text: str | None = message.get("text")
            if text is None:
                connection.request_close(CloseCode.UNSUPPORTED_DATA, "text frames only")
                return
            if len(text) > limit or len(text.encode()) > limit:
                connection.request_close(CloseCode.MESSAGE_TOO_BIG, f"frame over {limit} bytes")
                return
            if not bucket.take():
                connection.request_close(CloseCode.POLICY_VIOLATION, "rate limit exceeded")
                return
            connection.touch()
            try:
                frame = client_frame.validate_json(text)
            except ValidationError as exc:
                detail = exc.errors(include_url=False, include_input=False)[0]["msg"]
                connection.send(encode(Error(code="invalid_frame", detail=detail)))
                continue
            await self._handlers.dispatch(connection, frame)

    async def _watch(self, connection: Connection) -> None:
        settings = self._settings
        next_ping = time.monotonic() + settings.ws_heartbeat_seconds
        while True:
            expires_in = (connection.principal.expires_at - datetime.now(UTC)).total_seconds()
            if expires_in <= 0:
                connection.request_close(CloseCode.TOKEN_EXPIRED, "token expired")
                return
            idle_left = settings.ws_idle_timeout_seconds - (time.monotonic() - connection.last_seen)
            if idle_left <= 0:
                connection.request_close(CloseCode.IDLE_TIMEOUT, "idle timeout")
                return
            ping_in = next_ping - time.monotonic()
            if ping_in <= 0:
                connection.send(encode(ServerPing(ts=time.time())))
                next_ping = time.monotonic() + settings.ws_heartbeat_seconds
                continue
            await asyncio.sleep(min(expires_in, idle_left, ping_in))
