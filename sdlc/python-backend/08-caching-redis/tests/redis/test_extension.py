"""The Redis extension: discovered, opens and closes the client, readiness, degraded start."""

import asyncio
import sys

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from app.cache.config import RedisSettings
from app.core.config import Environment, Settings
from app.extensions import redis as redis_extension
from app.main import create_app
from tests.redis_support import free_port, redis_settings


async def connections_named(redis: Redis, name: str) -> int:
    clients = await redis.client_list()
    return sum(1 for client in clients if client.get("name") == name)


def test_discovered_between_database_and_auth(app: FastAPI) -> None:
    order = {extension.name: extension.order for extension in app.state.extensions}
    assert order["app.extensions.database"] < order["app.extensions.redis"]
    assert order["app.extensions.redis"] < order["app.extensions.auth"]


async def test_lifespan_opens_and_closes_the_client_and_readiness_pings(
    app: FastAPI, redis: Redis, redis_config: RedisSettings
) -> None:
    name = redis_config.redis_client_name
    async with app.router.lifespan_context(app):
        await redis_extension.readiness(app)
        assert await app.state.redis.set(f"{name}:k", b"\x00v", ex=60)
        assert await app.state.redis.get(f"{name}:k") == b"\x00v"  # bytes, not str
        assert await connections_named(redis, name) >= 1
        stats = app.state.cache.stats  # what step 09 exports as metrics
        assert (stats.hits, stats.misses, stats.errors) == (0, 0, 0)
        assert app.state.cache.enabled
        assert app.state.broker is not None
        assert app.state.sessions is not None
        # Step 09 finds the probe the way it finds every extension's: by module name.
        module = sys.modules["app.extensions.redis"]
        assert module.readiness is redis_extension.readiness
    for _ in range(250):  # the server notices closed sockets asynchronously
        if await connections_named(redis, name) == 0:
            break
        await asyncio.sleep(0.02)
    else:
        pytest.fail("the app's connections are still open after shutdown")


async def test_app_starts_while_redis_is_down(monkeypatch: pytest.MonkeyPatch) -> None:
    dead = redis_settings(f"redis://127.0.0.1:{free_port()}/0")
    monkeypatch.setattr(redis_extension, "get_redis_settings", lambda: dead)
    app = create_app(Settings(_env_file=None, app_env=Environment.TESTING, log_level="WARNING"))
    async with app.router.lifespan_context(app):
        transport = ASGITransport(app=app)
        async with AsyncClient(transport=transport, base_url="http://test") as http:
            assert (await http.get("/health/live")).status_code == 200
        with pytest.raises(RedisConnectionError):
            await redis_extension.readiness(app)
