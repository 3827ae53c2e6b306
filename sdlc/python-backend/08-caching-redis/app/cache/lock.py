"""A distributed lock on one Redis server: SET NX PX, released and extended by Lua.

- The token is 16 random bytes; only the holder knows it. Release and extension run as
  Lua scripts that compare the token first, so a holder whose lock expired cannot delete
  or prolong the lock somebody else took meanwhile.
- Every acquisition also gets a **fencing token**: a number from INCR that only grows.
  Pass it to the resource you protect and let the resource refuse a number smaller
  than one it has already seen; that is what makes the lock safe when a holder pauses.
- Limits, honestly: the lock expires after `ttl` whether the work is done or not. A GC
  pause, a stalled VM or a slow network can make a holder believe it still holds a lock
  that expired (Redis counts expiry with its own clock; the holder with its own). Extend
  (`extend()`) long work well before the expiry, and use fencing tokens where a double
  holder would corrupt data. With Redis replication, a failover can lose a lock that was
  written to the old primary only. For correctness across failures, use the database
  (`SELECT … FOR UPDATE`, advisory locks) or a consensus system; use this lock for
  efficiency (do not do the same job twice) — as most applications do.
"""

import asyncio
import secrets
import time
from types import TracebackType
from typing import Self

from redis.asyncio import Redis

# SET NX and the fencing counter in one step: a later holder always gets a larger number.
ACQUIRE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
    return redis.call('INCR', KEYS[2])
end
return 0
"""

RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""

EXTEND = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""


class LockNotAcquiredError(Exception):
    """The lock stayed taken for the whole `wait`."""


class DistributedLock:
    """`async with DistributedLock(redis, "report:42", ttl=30):` runs the block alone.

    Or explicitly: `await lock.acquire(wait=...)`, `await lock.extend()`,
    `await lock.release()`. One object is one attempt to hold one lock.
    """

    def __init__(
        self,
        redis: "Redis",
        name: str,
        *,
        ttl: float = 30.0,
        wait: float = 10.0,
        retry_interval: float = 0.05,
        prefix: str = "app",
    ) -> None:
        if ttl <= 0:
            msg = "ttl must be positive"
            raise ValueError(msg)
        self._redis = redis
        self.key = f"{prefix}:lock:{name}"
        self._fence_key = f"{prefix}:lock-fence:{name}"
        self._ttl_ms = max(1, round(ttl * 1000))
        self._wait = wait
        self._retry_interval = retry_interval
        self._token: bytes | None = None
        self.fencing_token: int | None = None

    @property
    def held(self) -> bool:
        """Whether this object acquired the lock and has not released it (it may still
        have expired in Redis meanwhile: ask `still_held()`)."""
        return self._token is not None

    async def acquire(self, *, wait: float | None = None) -> bool:
        """Try for up to `wait` seconds (0: once). True when acquired."""
        if self._token is not None:
            msg = "this lock object already holds the lock"
            raise RuntimeError(msg)
        token = secrets.token_hex(16).encode()
        deadline = time.monotonic() + (self._wait if wait is None else wait)
        while True:
            fence = await self._redis.eval(
                ACQUIRE, 2, self.key, self._fence_key, token, self._ttl_ms
            )
            if fence:
                self._token = token
                self.fencing_token = int(fence)
                return True
            if time.monotonic() >= deadline:
                return False
            # Jitter, so waiting holders do not retry in lockstep.
            await asyncio.sleep(self._retry_interval * (0.5 + secrets.randbelow(1000) / 1000))

    async def release(self) -> bool:
        """Delete the lock if it is still ours; False when it expired (maybe taken)."""
        token, self._token = self._token, None
        if token is None:
            return False
        return bool(await self._redis.eval(RELEASE, 1, self.key, token))

    async def extend(self, ttl: float | None = None) -> bool:
        """Reset the expiry to `ttl` (default: the initial ttl) if the lock is still ours."""
        if self._token is None:
            return False
        ttl_ms = self._ttl_ms if ttl is None else max(1, round(ttl * 1000))
        result = await self._redis.eval(EXTEND, 1, self.key, self._token, ttl_ms)
        return bool(result)

    async def still_held(self) -> bool:
        return self._token is not None and await self._redis.get(self.key) == self._token

    async def __aenter__(self) -> Self:
        if not await self.acquire():
            msg = f"lock {self.key} not acquired within {self._wait}s"
            raise LockNotAcquiredError(msg)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.release()
