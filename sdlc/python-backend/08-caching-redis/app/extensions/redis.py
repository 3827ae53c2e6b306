"""Step 08's extension: the Redis client, the pub/sub broker, readiness.

ORDER 15: after the database (10), before auth (20) and every later extension, so they
find `app.state.redis` open in their lifespan and it is closed after theirs.

- `app.state.redis`: `redis.asyncio.Redis` (bytes in, bytes out), pooled.
- `app.state.broker`: `app.cache.pubsub.Broker` over that client.
- `readiness(app)`: PING, for the readiness endpoint of step 09 (found by discovery).

The app starts while Redis is down: the client connects lazily, and everything built on
it degrades instead of failing (see `app/cache/cache.py`).
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from loguru import logger
from redis.exceptions import RedisError

from app.cache.client import create_redis
from app.cache.config import get_redis_settings
from app.cache.pubsub import Broker

ORDER = 15


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    config = get_redis_settings()
    app.state.redis_settings = config
    redis = create_redis(config)
    broker = Broker(redis)
    app.state.redis = redis
    app.state.broker = broker
    try:
        await redis.ping()
        logger.info("Redis at {}", config.safe_url)
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
