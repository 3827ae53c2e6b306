"""Session store on Redis: create, read, touch (sliding expiry), destroy, destroy-all.

- The session id is 32 random bytes (`secrets.token_urlsafe`), given to the client only
  in an HttpOnly cookie. Redis keeps its SHA-256, never the id: whoever can read Redis
  (a dump, a replica, `MONITOR`) cannot take over a session with what they see.
- Two limits: the idle TTL (each use moves the expiry forward: sliding) and the absolute
  `max_age` from creation, which no amount of use extends.
- `destroy_all(user_id)`: every session of a user (a set per user lists them), e.g.
  after a password change or "log out everywhere".
- Unlike the cache, sessions *are* the data: without Redis there is no session, and the
  store raises `SessionStoreUnavailableError` (503) instead of pretending.
- Keys are not under `CACHE_VERSION`: a deploy that bumps the cache logs nobody out.
"""

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from http import HTTPStatus

from pydantic import BaseModel
from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.domain.exceptions import DomainError

ID_BYTES = 32
MAX_ID_LENGTH = 64  # token_urlsafe(32) is 43 characters; longer input is not a session id


class SessionStoreUnavailableError(DomainError):
    code = "session_store_unavailable"
    status = HTTPStatus.SERVICE_UNAVAILABLE


class _Stored(BaseModel):
    user_id: uuid.UUID
    created_at: float  # epoch seconds
    data: dict[str, str] = {}


@dataclass(frozen=True, slots=True)
class Session:
    id: str
    user_id: uuid.UUID
    created_at: float
    data: dict[str, str]
    expires_in: float  # seconds until it ends unless touched


class SessionStore:
    def __init__(self, redis: "Redis", *, prefix: str, idle_ttl: int, max_age: int) -> None:
        self._redis = redis
        self._prefix = f"{prefix}:session"
        self._idle_ttl = idle_ttl
        self._max_age = max_age

    async def create(self, user_id: uuid.UUID, data: dict[str, str] | None = None) -> Session:
        session_id = secrets.token_urlsafe(ID_BYTES)
        now = time.time()
        stored = _Stored(user_id=user_id, created_at=now, data=data or {})
        key, index = self._key(session_id), self._user_key(user_id)
        ttl_ms = self._ttl_ms(now, now)
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.set(key, stored.model_dump_json(), px=ttl_ms)
                pipe.sadd(index, self._digest(session_id))
                pipe.expire(index, self._max_age)  # the index outlives every member
                await pipe.execute()
        except (RedisError, OSError) as exc:
            raise SessionStoreUnavailableError("session store unavailable") from exc
        return Session(session_id, user_id, now, stored.data, ttl_ms / 1000)

    async def read(self, session_id: str) -> Session | None:
        """The session, or None when unknown, expired, or not a session id at all."""
        if not session_id or len(session_id) > MAX_ID_LENGTH:
            return None
        key = self._key(session_id)
        try:
            raw, ttl_ms = await self._redis.get(key), await self._redis.pttl(key)
        except (RedisError, OSError) as exc:
            raise SessionStoreUnavailableError("session store unavailable") from exc
        if raw is None or ttl_ms <= 0:
            return None
        stored = _Stored.model_validate_json(raw)
        return Session(session_id, stored.user_id, stored.created_at, stored.data, ttl_ms / 1000)

    async def touch(self, session_id: str) -> Session | None:
        """Read and extend by the idle TTL (never past `max_age`); None when gone."""
        session = await self.read(session_id)
        if session is None:
            return None
        ttl_ms = self._ttl_ms(session.created_at, time.time())
        try:
            extended = await self._redis.pexpire(self._key(session_id), ttl_ms, xx=True)
        except (RedisError, OSError) as exc:
            raise SessionStoreUnavailableError("session store unavailable") from exc
        if not extended:
            return None
        return Session(session.id, session.user_id, session.created_at, session.data, ttl_ms / 1000)

    async def destroy(self, session_id: str) -> bool:
        session = await self.read(session_id)
        if session is None:
            return False
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.delete(self._key(session_id))
                pipe.srem(self._user_key(session.user_id), self._digest(session_id))
                removed, _ = await pipe.execute()
        except (RedisError, OSError) as exc:
            raise SessionStoreUnavailableError("session store unavailable") from exc
        return bool(removed)

    async def destroy_all(self, user_id: uuid.UUID) -> int:
        """End every session of `user_id`; the number that were still alive."""
        index = self._user_key(user_id)
        try:
            digests = await self._redis.smembers(index)
            keys = [self._key_of(_text(digest)) for digest in digests]
            async with self._redis.pipeline(transaction=True) as pipe:
                if keys:
                    pipe.delete(*keys)
                pipe.delete(index)
                results = await pipe.execute()
        except (RedisError, OSError) as exc:
            raise SessionStoreUnavailableError("session store unavailable") from exc
        return int(results[0]) if keys else 0

    def _ttl_ms(self, created_at: float, now: float) -> int:
        left = created_at + self._max_age - now
        return max(1, round(min(self._idle_ttl, left) * 1000))

    @staticmethod
    def _digest(session_id: str) -> str:
        return hashlib.sha256(session_id.encode()).hexdigest()

    def _key(self, session_id: str) -> str:
        return self._key_of(self._digest(session_id))

    def _key_of(self, digest: str) -> str:
        return f"{self._prefix}:{digest}"

    def _user_key(self, user_id: uuid.UUID) -> str:
        return f"{self._prefix}:user:{user_id}"


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
