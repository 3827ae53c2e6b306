"""The distributed lock against a real Redis: exclusion, ownership, expiry, extension."""

import asyncio

import pytest
from redis.asyncio import Redis

from app.cache.client import create_redis
from app.cache.config import RedisSettings
from app.cache.lock import DistributedLock, LockNotAcquiredError


def lock(
    redis: Redis, config: RedisSettings, name: str = "job", **options: float
) -> DistributedLock:
    return DistributedLock(redis, name, prefix=config.cache_prefix, **options)


async def test_concurrent_holders_never_overlap(redis: Redis, redis_config: RedisSettings) -> None:
    other = create_redis(redis_config)  # a second pool: another process, for Redis
    inside, most, done = 0, 0, 0

    async def worker(client: Redis) -> None:
        nonlocal inside, most, done
        async with lock(client, redis_config, ttl=5, wait=20, retry_interval=0.01):
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.02)
            inside -= 1
            done += 1

    try:
        await asyncio.gather(*(worker(redis if n % 2 else other) for n in range(12)))
    finally:
        await other.aclose()
    assert (most, done) == (1, 12)


async def test_a_holder_cannot_release_or_extend_a_lock_it_lost(
    redis: Redis, redis_config: RedisSettings
) -> None:
    first = lock(redis, redis_config, ttl=0.3)
    assert await first.acquire(wait=0)
    await asyncio.sleep(0.5)  # first's lock expired (first does not know)

    second = lock(redis, redis_config, ttl=5)
    assert await second.acquire(wait=0)  # an expired lock can be taken
    assert await first.release() is False
    assert await first.extend() is False
    assert await second.still_held()
    assert await second.release() is True
    assert await redis.exists(second.key) == 0


async def test_a_held_lock_is_refused_until_it_expires(
    redis: Redis, redis_config: RedisSettings
) -> None:
    holder = lock(redis, redis_config, ttl=0.5)
    assert await holder.acquire(wait=0)
    waiter = lock(redis, redis_config, ttl=5, wait=0)
    assert await waiter.acquire(wait=0) is False
    with pytest.raises(LockNotAcquiredError):
        async with waiter:
            pass
    assert await waiter.acquire(wait=2) is True  # waited until the expiry
    assert (waiter.fencing_token or 0) > (holder.fencing_token or 0)
    await waiter.release()


async def test_extending_keeps_long_work_locked(redis: Redis, redis_config: RedisSettings) -> None:
    holder = lock(redis, redis_config, ttl=0.5)
    assert await holder.acquire(wait=0)
    await asyncio.sleep(0.3)
    assert await holder.extend(1.0)
    await asyncio.sleep(0.4)  # 0.7 s after acquiring: alive only because of extend()
    assert await holder.still_held()
    assert await lock(redis, redis_config).acquire(wait=0) is False
    assert await holder.release()


async def test_fencing_tokens_only_grow(redis: Redis, redis_config: RedisSettings) -> None:
    tokens: list[int] = []
    for _ in range(3):
        async with lock(redis, redis_config, "fenced") as held:
            assert held.fencing_token is not None
            tokens.append(held.fencing_token)
    assert tokens == sorted(tokens)
    assert len(set(tokens)) == 3
