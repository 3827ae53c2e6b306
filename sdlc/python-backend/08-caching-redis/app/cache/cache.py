"""A generic cache on Redis that the application never depends on.

- Keys: `{CACHE_PREFIX}:v{CACHE_VERSION}:{namespace}:g{generation}:{key}`. The version
  comes from settings (a deploy bumps it: every old entry is unreachable at once); the
  generation belongs to a namespace and `Namespace.bump()` increments it, which
  invalidates every key of that namespace in one command.
- Values: JSON from a Pydantic `TypeAdapter` (models, lists, pages); `None` is stored as
  a short-lived negative entry, so "no such product" does not reach the database each time.
- TTL with jitter (±`CACHE_TTL_JITTER`): entries written together do not expire together.
- Single-flight: concurrent misses of one key in a process wait for one load.
- Redis down: every operation is a miss, the load goes to the database, the error is
  logged once and counted; for `CACHE_RETRY_AFTER` seconds Redis is not even tried (no
  timeout per request), then it is tried again and caching resumes by itself.
"""

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, Self

from loguru import logger
from pydantic import ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.cache.config import RedisSettings

NEGATIVE = b"\x00"  # a cached "nothing there"; JSON never starts with NUL
CACHE_ERRORS = (RedisError, OSError)


class JsonAdapter[T](Protocol):
    """What the cache needs of a Pydantic `TypeAdapter[T]` (T only comes out: covariant,
    so `TypeAdapter[Item]` serves where `Item | None` is expected)."""

    def validate_json(self, data: bytes, /) -> T: ...

    def dump_json(self, instance: Any, /) -> bytes: ...  # noqa: ANN401 - any T


@dataclass
class CacheStats:
    """Counters of this process (step 09 exports them as metrics)."""

    hits: int = 0
    misses: int = 0
    errors: int = 0


@dataclass(frozen=True, slots=True)
class Cached[T]:
    """A cache hit. `value` is None for a negative entry (cached absence)."""

    value: T | None


class Cache:
    def __init__(
        self,
        redis: "Redis",
        *,
        prefix: str = "app",
        version: str = "1",
        default_ttl: int = 300,
        negative_ttl: int = 30,
        jitter: float = 0.1,
        retry_after: float = 5.0,
        enabled: bool = True,
    ) -> None:
        self._redis = redis
        self._root = f"{prefix}:v{version}"
        self._default_ttl = default_ttl
        self._negative_ttl = negative_ttl
        self._jitter = jitter
        self._retry_after = retry_after
        self.enabled = enabled
        self.stats = CacheStats()
        self._down_until = 0.0
        self._down = False
        self._inflight: dict[str, asyncio.Future[object]] = {}
        self._random = random.Random()  # noqa: S311 - spreads expiries, not a secret

    @classmethod
    def from_settings(cls, redis: "Redis", settings: RedisSettings, *, enabled: bool) -> Self:
        return cls(
            redis,
            prefix=settings.cache_prefix,
            version=settings.cache_version,
            default_ttl=settings.cache_default_ttl,
            negative_ttl=settings.cache_negative_ttl,
            jitter=settings.cache_ttl_jitter,
            retry_after=settings.cache_retry_after,
            enabled=enabled,
        )

    def key(self, key: str) -> str:
        """The Redis key of a logical key: prefix and version in front."""
        return f"{self._root}:{key}"

    def namespace(self, name: str) -> "Namespace":
        return Namespace(self, name)

    # --- the four basic operations ----------------------------------------------------
    async def get[T](self, key: str, adapter: JsonAdapter[T]) -> Cached[T] | None:
        """The entry, or None on a miss (also when Redis is down or the value is stale)."""
        if not self._usable():
            self.stats.misses += 1
            return None
        try:
            raw = await self._redis.get(self.key(key))
        except CACHE_ERRORS as exc:
            self._failed(exc)
            self.stats.misses += 1
            return None
        self._recovered()
        return self._decode(key, raw, adapter)

    async def get_many[T](
        self, keys: Sequence[str], adapter: JsonAdapter[T]
    ) -> dict[str, Cached[T]]:
        """The hits among `keys` (one MGET round trip)."""
        if not keys:
            return {}
        if not self._usable():
            self.stats.misses += len(keys)
            return {}
        try:
            values = await self._redis.mget([self.key(key) for key in keys])
        except CACHE_ERRORS as exc:
            self._failed(exc)
            self.stats.misses += len(keys)
            return {}
        self._recovered()
        found = {}
        for key, raw in zip(keys, values, strict=True):
            entry = self._decode(key, raw, adapter)
            if entry is not None:
                found[key] = entry
        return found

    async def set[T](
        self, key: str, value: T | None, adapter: JsonAdapter[T], ttl: int | None = None
    ) -> bool:
        """Store `value` (None: a negative entry, `CACHE_NEGATIVE_TTL`). False if not stored."""
        if not self._usable():
            return False
        if value is None:
            data, seconds = NEGATIVE, self._negative_ttl
        else:
            data, seconds = adapter.dump_json(value), ttl or self._default_ttl
        try:
            await self._redis.set(self.key(key), data, px=self._jittered_ms(seconds))
        except CACHE_ERRORS as exc:
            self._failed(exc)
            return False
        self._recovered()
        return True

    async def delete(self, *keys: str) -> int:
        if not keys or not self._usable():
            return 0
        try:
            removed: int = await self._redis.delete(*(self.key(key) for key in keys))
        except CACHE_ERRORS as exc:
            self._failed(exc)
            return 0
        self._recovered()
        return removed

    # --- cache-aside with single-flight -------------------------------------------------
    async def get_or_load[T](
        self,
        key: str,
        adapter: JsonAdapter[T],
        load: Callable[[], Awaitable[T | None]],
        ttl: int | None = None,
    ) -> T | None:
        """The cached value, or `load()`'s — stored for the next caller.

        While one caller of this process loads `key`, the others wait for its result
        instead of loading too (50 concurrent misses: one database read). A loader that
        fails passes its exception to the waiters; one that is cancelled lets them retry.
        """
        while True:
            cached = await self.get(key, adapter)
            if cached is not None:
                return cached.value
            pending = self._inflight.get(key)
            if pending is None:
                break
            await asyncio.wait([pending])
            if not pending.cancelled():
                error = pending.exception()
                if error is not None:
                    raise error
                return pending.result()  # type: ignore[return-value]  # T, set below
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            value = await load()
            await self.set(key, value, adapter, ttl)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning without waiters
            raise
        else:
            future.set_result(value)
            return value
        finally:
            del self._inflight[key]

    # --- counters (namespace generations) ------------------------------------------------
    async def counter(self, key: str) -> int | None:
        """An integer kept by `increment` (0 when absent); None when Redis is unusable."""
        if not self._usable():
            return None
        try:
            raw = await self._redis.get(self.key(key))
        except CACHE_ERRORS as exc:
            self._failed(exc)
            return None
        self._recovered()
        return int(raw or 0)

    async def increment(self, key: str) -> bool:
        """INCR `key` (no TTL). Tried even while Redis counts as down: a lost
        invalidation is worse than one more timeout. False when it failed."""
        if not self.enabled:
            return True
        try:
            await self._redis.incr(self.key(key))
        except CACHE_ERRORS as exc:
            self._failed(exc)
            return False
        self._recovered()
        return True

    # --- Redis down / back ----------------------------------------------------------------
    def _usable(self) -> bool:
        return self.enabled and time.monotonic() >= self._down_until

    def _failed(self, exc: Exception) -> None:
        self.stats.errors += 1
        self._down_until = time.monotonic() + self._retry_after
        if not self._down:
            self._down = True
            logger.warning(
                "cache: Redis unavailable ({!r}); serving from the database, retrying in {}s",
                exc,
                self._retry_after,
            )

    def _recovered(self) -> None:
        if self._down:
            self._down = False
            logger.info("cache: Redis is back; caching again")

    def _decode[T](
        self, key: str, raw: bytes | str | None, adapter: JsonAdapter[T]
    ) -> Cached[T] | None:
        if raw is None:
            self.stats.misses += 1
            return None
        if isinstance(raw, str):  # only with decode_responses=True
            raw = raw.encode()
        if raw == NEGATIVE:
            self.stats.hits += 1
            return Cached(None)
        try:
            value = adapter.validate_json(raw)
        except ValidationError:
            # Written by another version of the code: a miss, and the entry is replaced.
            logger.warning("cache: entry {} does not match its type; ignoring it", key)
            self.stats.misses += 1
            return None
        self.stats.hits += 1
        return Cached(value)

    def _jittered_ms(self, seconds: int) -> int:
        spread = self._random.uniform(1 - self._jitter, 1 + self._jitter)
        return max(1, round(seconds * 1000 * spread))


class Namespace:
    """A group of keys invalidated together: `bump()` moves them all to a new generation.

    Why a generation instead of deleting keys: a reader that missed, read the database and
    writes its (old) result *after* a writer invalidated writes it under the old
    generation, which nobody reads any more. Deleting keys cannot prevent that race.
    """

    def __init__(self, cache: Cache, name: str) -> None:
        self._cache = cache
        self.name = name
        self._generation_key = f"{name}:generation"

    async def generation(self) -> int | None:
        """The current generation, or None when the cache cannot be used right now."""
        return await self._cache.counter(self._generation_key)

    async def bump(self) -> None:
        """Invalidate every key of the namespace (one INCR)."""
        if not await self._cache.increment(self._generation_key):
            logger.error("cache: could not invalidate {}; its TTL bounds the staleness", self.name)

    async def get_or_load[T](
        self,
        key: str,
        adapter: JsonAdapter[T],
        load: Callable[[], Awaitable[T | None]],
        ttl: int | None = None,
    ) -> T | None:
        generation = await self.generation()
        if generation is None:
            self._cache.stats.misses += 1
            return await load()
        return await self._cache.get_or_load(f"{self.name}:g{generation}:{key}", adapter, load, ttl)
