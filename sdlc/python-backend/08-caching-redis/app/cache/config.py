"""Settings of the Redis step (`RedisSettings`), separate from the core `Settings`.

One Redis server serves several purposes here — cache, sessions, pub/sub, locks — and
each has its own knobs. They come from the same sources as the other settings classes
(environment, `.env`); nothing in this file is a secret with a default.
"""

from functools import lru_cache
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.core.config import Environment


class RedisSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # --- Client ---
    # redis://[:password@]host:port/db, rediss:// for TLS. repr=False: a password in the
    # URL never shows in repr() or logs; log `safe_url` instead.
    redis_url: str = Field(default="redis://127.0.0.1:6379/0", repr=False)
    redis_max_connections: int = Field(default=50, ge=1, le=10_000)  # pool size per process
    redis_socket_timeout: float = Field(default=2.0, gt=0, le=60)
    redis_connect_timeout: float = Field(default=2.0, gt=0, le=60)
    redis_health_check_interval: int = Field(default=30, ge=0)
    # Extra attempts of one command after a connection error (0: fail fast, so a dead
    # Redis costs each request one connect timeout at most).
    redis_retries: int = Field(default=1, ge=0, le=10)
    # CLIENT SETNAME of every connection: `redis-cli CLIENT LIST` shows whose it is.
    redis_client_name: str = Field(default="backend-service", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")

    # --- Cache ---
    # None: on, except when the app runs with APP_ENV=testing (other steps' tests empty
    # tables behind the cache's back; the cache's own tests turn it on explicitly).
    cache_enabled: bool | None = None
    cache_prefix: str = Field(default="app", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    # Part of every key: bump it (CACHE_VERSION=2) and every old entry is unreachable at
    # once, e.g. when a deploy changes what a cached value looks like.
    cache_version: str = Field(default="1", pattern=r"^[A-Za-z0-9_.-]{1,32}$")
    cache_default_ttl: int = Field(default=300, ge=1)
    cache_negative_ttl: int = Field(default=30, ge=1)  # "not found" is cached briefly
    cache_ttl_jitter: float = Field(default=0.1, ge=0, lt=1)  # ±10 % spreads expiries
    # After a Redis error the cache is bypassed for this long (no timeout per request
    # while Redis is down), then tried again.
    cache_retry_after: float = Field(default=5.0, gt=0, le=300)

    # --- Sessions (server-side, for browser clients) ---
    session_idle_ttl: int = Field(default=30 * 60, ge=60)  # sliding: each use extends it
    session_max_age: int = Field(default=7 * 24 * 3600, ge=60)  # absolute lifetime
    session_cookie_name: str = "session"
    session_cookie_secure: bool = True
    session_cookie_samesite: Literal["strict", "lax"] = "lax"

    def cache_active(self, environment: Environment) -> bool:
        """Whether the app of `environment` (the core settings' APP_ENV) caches."""
        if self.cache_enabled is None:
            return environment is not Environment.TESTING
        return self.cache_enabled

    @property
    def safe_url(self) -> str:
        """The URL with its password replaced by `***`, for logs."""
        parts = urlsplit(self.redis_url)
        if parts.password is None:
            return self.redis_url
        netloc = f"{parts.username or ''}:***@{parts.hostname}"
        if parts.port is not None:
            netloc += f":{parts.port}"
        return urlunsplit(parts._replace(netloc=netloc))


@lru_cache
def get_redis_settings() -> RedisSettings:
    return RedisSettings()
