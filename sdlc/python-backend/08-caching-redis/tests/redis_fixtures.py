"""Fixtures of step 08's tests, imported by the conftest of each folder that uses them
(`tests/redis/`, `tests/integration/cache/`)."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from app.cache.client import create_redis
from app.cache.config import RedisSettings
from app.extensions import redis as redis_extension
from tests.redis_support import RedisServer, redis_settings, redis_url


@pytest.fixture(autouse=True)
def redis_config(monkeypatch: pytest.MonkeyPatch) -> RedisSettings:
    """Every app of the test uses the test Redis with a key prefix of its own (autouse:
    in place before any app of the test starts its lifespan)."""
    config = redis_settings(redis_url())
    monkeypatch.setattr(redis_extension, "get_redis_settings", lambda: config)
    return config


@pytest.fixture
async def redis(redis_config: RedisSettings) -> AsyncIterator[Redis]:
    """A client of the test itself (its connections have a name of their own)."""
    name = f"{redis_config.redis_client_name}-probe"
    client = create_redis(redis_config.model_copy(update={"redis_client_name": name}))
    yield client
    await client.aclose()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A throwaway redis-server the test may stop and restart (not the shared one)."""
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


def mark_redis(items: list[pytest.Item], folder: Path) -> None:
    for item in items:
        if folder in Path(item.path).parents:
            item.add_marker(pytest.mark.redis)
