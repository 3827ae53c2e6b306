"""The cache layer against a real Redis: hits, misses, TTL, jitter, namespaces, versions,
negative entries, single-flight, and a Redis that stops and comes back."""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from pydantic import BaseModel, TypeAdapter
from redis.asyncio import Redis

from app.cache.cache import Cache, Cached
from app.cache.client import create_redis
from app.cache.config import RedisSettings
from tests.redis_support import RedisServer, redis_settings


class Item(BaseModel):
    name: str
    price: float


ITEM = TypeAdapter(Item)


@pytest.fixture
def cache(redis: Redis, redis_config: RedisSettings) -> Cache:
    return Cache.from_settings(redis, redis_config, enabled=True)


async def test_miss_then_hit_get_many_and_delete(cache: Cache) -> None:
    assert await cache.get("item:1", ITEM) is None
    assert await cache.set("item:1", Item(name="lamp", price=9.5), ITEM)
    assert await cache.get("item:1", ITEM) == Cached(Item(name="lamp", price=9.5))
    await cache.set("item:2", Item(name="desk", price=120), ITEM)

    found = await cache.get_many(["item:1", "item:2", "item:3"], ITEM)
    assert found == {
        "item:1": Cached(Item(name="lamp", price=9.5)),
        "item:2": Cached(Item(name="desk", price=120)),
    }
    assert await cache.delete("item:1", "item:3") == 1
    assert await cache.get("item:1", ITEM) is None
    assert cache.stats.hits == 3
    assert cache.stats.misses == 3
    assert cache.stats.errors == 0


async def test_keys_carry_prefix_and_version(
    cache: Cache, redis: Redis, redis_config: RedisSettings
) -> None:
    await cache.set("item:1", Item(name="lamp", price=1), ITEM)
    raw = await redis.get(f"{redis_config.cache_prefix}:v1:item:1")
    assert raw is not None
    assert Item.model_validate_json(raw).name == "lamp"


async def test_a_version_bump_makes_every_old_entry_unreachable(
    cache: Cache, redis: Redis, redis_config: RedisSettings
) -> None:
    await cache.set("item:1", Item(name="lamp", price=1), ITEM)
    deployed = Cache.from_settings(
        redis, redis_config.model_copy(update={"cache_version": "2"}), enabled=True
    )
    assert await deployed.get("item:1", ITEM) is None
    assert await cache.get("item:1", ITEM) is not None  # the old code still sees its own


async def test_entries_expire_after_their_ttl(redis: Redis, redis_config: RedisSettings) -> None:
    cache = Cache.from_settings(
        redis, redis_config.model_copy(update={"cache_ttl_jitter": 0.0}), enabled=True
    )
    await cache.set("short", Item(name="x", price=1), ITEM, ttl=1)
    assert await cache.get("short", ITEM) is not None
    await asyncio.sleep(1.3)
    assert await cache.get("short", ITEM) is None


async def test_ttl_jitter_spreads_expiries_within_bounds(cache: Cache, redis: Redis) -> None:
    for number in range(30):
        await cache.set(f"j:{number}", Item(name="x", price=1), ITEM, ttl=100)
    ttls = [await redis.pttl(cache.key(f"j:{number}")) for number in range(30)]
    assert all(89_000 <= ttl <= 110_000 for ttl in ttls), ttls  # ±10 %
    assert len(set(ttls)) > 10  # not one expiry for all of them


async def test_negative_entries_are_hits_with_a_short_ttl(cache: Cache, redis: Redis) -> None:
    calls = 0

    async def load() -> Item | None:
        nonlocal calls
        calls += 1
        return None

    assert await cache.get_or_load("missing", ITEM, load) is None
    assert await cache.get_or_load("missing", ITEM, load) is None
    assert calls == 1  # the second "not found" came from Redis
    assert await cache.get("missing", ITEM) == Cached(None)
    assert 0 < await redis.pttl(cache.key("missing")) <= 33_000  # CACHE_NEGATIVE_TTL 30 s ±10 %


async def test_an_entry_of_another_shape_is_a_miss(cache: Cache, redis: Redis) -> None:
    await redis.set(cache.key("item:old"), b'{"title": "from the previous release"}')
    assert await cache.get("item:old", ITEM) is None


async def test_namespace_bump_invalidates_all_its_keys(cache: Cache) -> None:
    products, others = cache.namespace("product"), cache.namespace("supplier")
    loads: list[str] = []

    def loader(key: str) -> Callable[[], Awaitable[Item]]:
        async def load() -> Item:
            loads.append(key)
            return Item(name=key, price=1)

        return load

    for key in ("a", "b", "a", "b"):
        await products.get_or_load(key, ITEM, loader(key))
    await others.get_or_load("a", ITEM, loader("other"))
    assert loads == ["a", "b", "other"]

    await products.bump()
    for key in ("a", "b", "a", "b"):
        await products.get_or_load(key, ITEM, loader(key))
    await others.get_or_load("a", ITEM, loader("other"))
    assert loads == ["a", "b", "other", "a", "b"]  # the other namespace kept its entry


async def test_a_slow_reader_cannot_store_a_stale_value_after_an_invalidation(
    cache: Cache,
) -> None:
    products = cache.namespace("product")
    reading, written = asyncio.Event(), asyncio.Event()

    async def read_old_row() -> Item:
        reading.set()
        await written.wait()  # meanwhile a writer commits and invalidates
        return Item(name="old", price=1)

    reader = asyncio.create_task(products.get_or_load("k", ITEM, read_old_row))
    await reading.wait()
    await products.bump()  # the writer's after-commit invalidation
    written.set()
    assert await reader == Item(name="old", price=1)  # what that reader saw in the database

    async def read_new_row() -> Item:
        return Item(name="new", price=2)

    # The old value was stored under the old generation: nobody reads it.
    fresh = await products.get_or_load("k", ITEM, read_new_row)
    assert fresh == Item(name="new", price=2)


async def test_fifty_concurrent_misses_load_once(cache: Cache) -> None:
    calls = 0

    async def slow_load() -> Item:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.2)
        return Item(name="hot", price=1)

    async def read() -> Item:
        value = await cache.get_or_load("hot", ITEM, slow_load)
        assert value is not None
        return value

    misses = [read() for _ in range(50)]
    results = await asyncio.gather(*misses)
    assert calls == 1
    assert {result.name for result in results} == {"hot"}
    assert len(results) == 50


async def test_a_failed_load_reaches_every_waiter_and_caches_nothing(cache: Cache) -> None:
    async def failing() -> Item:
        await asyncio.sleep(0.1)
        raise RuntimeError("database down")

    async def read() -> Item:
        value = await cache.get_or_load("fails", ITEM, failing)
        assert value is not None
        return value

    misses = [read() for _ in range(5)]
    results = await asyncio.gather(*misses, return_exceptions=True)
    assert all(isinstance(result, RuntimeError) for result in results)
    assert await cache.get("fails", ITEM) is None


@pytest.fixture
async def throwaway_cache(redis_server: RedisServer) -> AsyncIterator[Cache]:
    config = redis_settings(redis_server.url, cache_retry_after=0.3)
    client = create_redis(config)
    yield Cache.from_settings(client, config, enabled=True)
    await client.aclose()


async def test_redis_down_is_a_miss_and_caching_resumes_when_it_returns(
    throwaway_cache: Cache, redis_server: RedisServer
) -> None:
    cache = throwaway_cache
    calls = 0

    async def load() -> Item:
        nonlocal calls
        calls += 1
        return Item(name="db", price=1)

    await cache.get_or_load("k", ITEM, load)
    await cache.get_or_load("k", ITEM, load)
    assert calls == 1

    redis_server.stop()
    started = time.monotonic()
    for _ in range(20):  # every call is answered (from the loader), none raises
        assert await cache.get_or_load("k", ITEM, load) == Item(name="db", price=1)
    assert calls == 21
    assert time.monotonic() - started < 5  # no timeout per call while Redis is down
    assert cache.stats.errors == 1  # tried once, then skipped for CACHE_RETRY_AFTER

    redis_server.start()
    await asyncio.sleep(0.4)  # past CACHE_RETRY_AFTER
    await cache.get_or_load("k", ITEM, load)  # miss (the new server is empty): stored
    await cache.get_or_load("k", ITEM, load)  # hit
    assert calls == 22
