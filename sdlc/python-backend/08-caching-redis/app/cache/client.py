"""The one `redis.asyncio.Redis` client of a process, built from `RedisSettings`."""

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.cache.config import RedisSettings


def create_redis(settings: RedisSettings) -> "Redis":
    """A pooled client; it connects lazily, so creating it never waits for the server.

    `decode_responses=False`: values are bytes (cached JSON, pub/sub payloads); callers
    decode what they know to be text.
    """
    return Redis.from_url(
        settings.redis_url,
        decode_responses=False,
        client_name=settings.redis_client_name,
        max_connections=settings.redis_max_connections,
        socket_timeout=settings.redis_socket_timeout,
        socket_connect_timeout=settings.redis_connect_timeout,
        health_check_interval=settings.redis_health_check_interval,
        retry=Retry(
            ExponentialWithJitterBackoff(base=0.05, cap=0.5),
            settings.redis_retries,
            supported_errors=(RedisConnectionError, RedisTimeoutError),
        ),
    )
