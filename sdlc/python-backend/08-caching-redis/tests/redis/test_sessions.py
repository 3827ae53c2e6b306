"""The session store against a real Redis: create, read, touch, expiry, destroy(-all)."""

import asyncio
import uuid

import pytest
from redis.asyncio import Redis

from app.cache.client import create_redis
from app.cache.config import RedisSettings
from app.session.store import SessionStore, SessionStoreUnavailableError
from tests.redis_support import free_port, redis_settings


def store(
    redis: Redis, config: RedisSettings, *, idle: int = 60, max_age: int = 3600
) -> SessionStore:
    return SessionStore(redis, prefix=config.cache_prefix, idle_ttl=idle, max_age=max_age)


async def test_create_then_read(redis: Redis, redis_config: RedisSettings) -> None:
    sessions = store(redis, redis_config)
    user = uuid.uuid4()
    created = await sessions.create(user, {"theme": "dark"})
    assert len(created.id) >= 43  # 32 random bytes, URL-safe base64
    read = await sessions.read(created.id)
    assert read is not None
    assert (read.user_id, read.data) == (user, {"theme": "dark"})
    assert 0 < read.expires_in <= 60

    # Redis holds a digest of the id, never the id itself.
    keys = [key async for key in redis.scan_iter(match=f"{redis_config.cache_prefix}:*")]
    assert keys
    assert not any(created.id.encode() in key for key in keys)
    values = [await redis.get(key) for key in keys if await redis.type(key) == b"string"]
    assert not any(value and created.id.encode() in value for value in values)


async def test_unknown_and_malformed_ids_are_no_session(
    redis: Redis, redis_config: RedisSettings
) -> None:
    sessions = store(redis, redis_config)
    assert await sessions.read("") is None
    assert await sessions.read("not-a-session") is None
    assert await sessions.read("x" * 10_000) is None
    assert await sessions.touch("not-a-session") is None
    assert await sessions.destroy("not-a-session") is False


async def test_touch_slides_the_expiry(redis: Redis, redis_config: RedisSettings) -> None:
    sessions = store(redis, redis_config, idle=2)
    created = await sessions.create(uuid.uuid4())
    await asyncio.sleep(1.2)
    touched = await sessions.touch(created.id)
    assert touched is not None
    assert touched.expires_in > 1.5  # back to the full idle TTL
    await asyncio.sleep(1.2)  # 2.4 s after creation: alive only because of the touch
    assert await sessions.read(created.id) is not None


async def test_an_idle_session_expires(redis: Redis, redis_config: RedisSettings) -> None:
    sessions = store(redis, redis_config, idle=1)
    created = await sessions.create(uuid.uuid4())
    await asyncio.sleep(1.3)
    assert await sessions.read(created.id) is None
    assert await sessions.touch(created.id) is None  # cannot be revived


async def test_touch_never_extends_past_the_maximum_age(
    redis: Redis, redis_config: RedisSettings
) -> None:
    sessions = store(redis, redis_config, idle=60, max_age=2)
    created = await sessions.create(uuid.uuid4())
    assert created.expires_in <= 2
    await asyncio.sleep(1.0)
    touched = await sessions.touch(created.id)
    assert touched is not None
    assert touched.expires_in <= 1.1
    await asyncio.sleep(1.2)
    assert await sessions.read(created.id) is None


async def test_destroy_and_destroy_all_for_one_user(
    redis: Redis, redis_config: RedisSettings
) -> None:
    sessions = store(redis, redis_config)
    alice, bob = uuid.uuid4(), uuid.uuid4()
    first, second, third = [await sessions.create(alice) for _ in range(3)]
    bobs = await sessions.create(bob)

    assert await sessions.destroy(first.id) is True
    assert await sessions.read(first.id) is None
    assert await sessions.destroy_all(alice) == 2
    assert await sessions.read(second.id) is None
    assert await sessions.read(third.id) is None
    assert await sessions.read(bobs.id) is not None  # another user's session stays
    assert await sessions.destroy_all(alice) == 0


async def test_without_redis_the_store_says_so() -> None:
    client = create_redis(redis_settings(f"redis://127.0.0.1:{free_port()}/0"))
    sessions = SessionStore(client, prefix="app", idle_ttl=60, max_age=3600)
    with pytest.raises(SessionStoreUnavailableError):
        await sessions.create(uuid.uuid4())
    with pytest.raises(SessionStoreUnavailableError):
        await sessions.read("a" * 43)
    await client.aclose()
