"""Step 10's extension: the WebSocket endpoint, its hub and the Redis relay.

ORDER 30: after Redis (15, step 08: `app.state.redis`, `app.state.broker`) and auth
(20, step 04: `app.state.auth.codec`), so both exist when this lifespan starts and are
still open while it closes every socket.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from loguru import logger

from app.auth.service import AuthComponents
from app.core.config import Settings
from app.websocket.config import WebSocketSettings, get_websocket_settings
from app.websocket.handlers import Handlers
from app.websocket.hub import ConnectionManager
from app.websocket.presence import MessageLog, PresenceStore
from app.websocket.protocol import CloseCode
from app.websocket.router import demo_router, router
from app.websocket.service import RealtimeService
from app.websocket.sessions import SessionWatch
from app.websocket.shutdown import ShutdownHook

ORDER = 30


def install(app: FastAPI, settings: Settings) -> None:
    config = get_websocket_settings()
    app.state.websocket_settings = config
    app.include_router(router, prefix=config.ws_path)
    if config.demo:
        app.include_router(demo_router, prefix=config.ws_path)


def _prefix(app: FastAPI, config: WebSocketSettings) -> str:
    # Pub/Sub channels ignore the database number; keys don't. Both get it, so two
    # deployments on one Redis server (db 0 and db 1) never hear each other.
    db = app.state.redis.connection_pool.connection_kwargs.get("db", 0)
    return f"{config.ws_channel_prefix}:{db}"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    config: WebSocketSettings = app.state.websocket_settings
    auth: AuthComponents = app.state.auth
    prefix = _prefix(app, config)
    presence = PresenceStore(
        app.state.redis, prefix=prefix, ttl_seconds=config.ws_presence_ttl_seconds
    )
    hub = ConnectionManager(app.state.broker, presence, prefix=prefix)
    messages = MessageLog(app.state.redis, prefix=prefix, ttl_seconds=config.ws_dedupe_ttl_seconds)
    handlers = Handlers(hub, messages, auth.codec, app.state.database, config)
    app.state.realtime = RealtimeService(hub, handlers, auth.codec, app.state.database, config)

    async def going_away() -> None:
        hub.close_all(CloseCode.GOING_AWAY, "server shutting down")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(config.ws_shutdown_timeout_seconds):
                await hub.drain()

    hook = ShutdownHook(going_away, config.ws_shutdown_timeout_seconds)
    hook.install()
    background = [
        asyncio.create_task(hub.run_relay(), name="ws-relay"),
        asyncio.create_task(
            hub.run_presence_refresh(config.ws_presence_ttl_seconds / 3), name="ws-presence"
        ),
        asyncio.create_task(
            SessionWatch(hub, app.state.database).run(config.ws_session_check_seconds),
            name="ws-sessions",
        ),
    ]
    try:
        yield
    finally:
        hook.uninstall()
        await going_away()  # servers whose lifespan ends first (tests, other ASGI servers)
        for task in background:
            task.cancel()
        for task in background:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if hub.connections:
            logger.warning("{} websocket(s) still open at shutdown", hub.connections)
