"""Step 08's extension: Redis client, pub/sub broker, cache, sessions, readiness.

ORDER 15: after the database (10), before auth (20) and every later extension, so they
find `app.state.redis` open in their lifespan and it is closed after theirs.

- `app.state.redis`: `redis.asyncio.Redis` (bytes in, bytes out), pooled.
- `app.state.broker`: `app.cache.pubsub.Broker` over that client.
- `app.state.cache`: `app.cache.cache.Cache` (`.stats`: hits, misses, errors).
- `app.state.sessions`: `app.session.store.SessionStore`; routes under `/sessions`.
- The product routes' service is built over a cached repository (the composition seam,
  `app/api/composition.py`: no dependency override, so tests that clear them keep it).
- `readiness(app)`: PING, for the readiness endpoint of step 09 (found by discovery).

The app starts while Redis is down: the client connects lazily, and the cache degrades
to the database instead of failing (see `app/cache/cache.py`).
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from loguru import logger
from redis.exceptions import RedisError

from app.api import composition
from app.cache import products as cached_products
from app.cache.cache import Cache
from app.cache.client import create_redis
from app.cache.config import get_redis_settings
from app.cache.pubsub import Broker
from app.core.config import Settings
from app.session.router import router as session_router
from app.session.store import SessionStore

ORDER = 15


def install(app: FastAPI, settings: Settings) -> None:
    app.include_router(session_router, prefix=settings.api_v1_prefix)
    # Every product route builds its service through the composition seam: decorating
    # its parts caches them all, and no generated file changes.
    composition.decorate(app, cached_products.MODULE, cached_products.cached_product_parts)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Read here, not in install(): tests replace get_redis_settings after create_app().
    config = get_redis_settings()
    settings: Settings = app.state.settings
    redis = create_redis(config)
    broker = Broker(redis)
    app.state.redis_settings = config
    app.state.redis = redis
    app.state.broker = broker
    app.state.cache = Cache.from_settings(
        redis, config, enabled=config.cache_active(settings.app_env)
    )
    app.state.sessions = SessionStore(
        redis,
        prefix=config.cache_prefix,
        idle_ttl=config.session_idle_ttl,
        max_age=config.session_max_age,
    )
    try:
        await redis.ping()
        logger.info(
            "Redis at {} (cache {})", config.safe_url, "on" if app.state.cache.enabled else "off"
        )
    except (RedisError, OSError) as exc:
        logger.warning("Redis at {} is not reachable yet ({!r}); degrading", config.safe_url, exc)
    try:
        yield
    finally:
        await broker.aclose()
        await redis.aclose()
        logger.info("Redis client closed")


async def readiness(app: FastAPI) -> None:
    """Raise when Redis does not answer PING (step 09's /health/ready calls this)."""
    redis = app.state.redis
    if not await redis.ping():
        msg = "Redis did not answer PING"
        raise RuntimeError(msg)
