"""Rate limiting with the `limits` library's asyncio API.

Every check awaits the storage (memory now; `async+redis://` in step 08), so it never
blocks the event loop. A request is counted against each key it names — the client IP
and the account — and refused with 429, `Retry-After` and `RateLimit-*` headers as soon
as one of them is exhausted.
"""

import hashlib
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem
from limits.aio.strategies import (
    FixedWindowRateLimiter,
    MovingWindowRateLimiter,
    RateLimiter,
    SlidingWindowCounterRateLimiter,
)
from limits.storage import StorageTypes, storage_from_string

from app.auth.config import AuthSettings, RateLimitStrategy
from app.auth.errors import RateLimitExceededError


@dataclass(frozen=True, slots=True)
class Budget:
    """What is left of one limit after a hit."""

    item: RateLimitItem
    remaining: int
    reset_in: int  # seconds until the window frees capacity again

    def headers(self) -> dict[str, str]:
        window = self.item.get_expiry()
        return {
            "RateLimit-Limit": str(self.item.amount),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_in),
            "RateLimit-Policy": f"{self.item.amount};w={window}",
        }


def async_storage_uri(uri: str) -> str:
    """`memory://` → `async+memory://`: always the asyncio implementation."""
    return uri if uri.startswith("async+") else f"async+{uri}"


def _strategy(strategy: RateLimitStrategy, storage: StorageTypes) -> RateLimiter:
    match strategy:
        case RateLimitStrategy.MOVING_WINDOW:
            return MovingWindowRateLimiter(storage)
        case RateLimitStrategy.FIXED_WINDOW:
            return FixedWindowRateLimiter(storage)
        case RateLimitStrategy.SLIDING_WINDOW_COUNTER:
            return SlidingWindowCounterRateLimiter(storage)


def account_key(value: str) -> str:
    """Account identifiers (e-mails) are hashed, so the storage holds no personal data."""
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]


class RequestLimiter:
    def __init__(self, settings: AuthSettings) -> None:
        self._settings = settings
        storage = storage_from_string(async_storage_uri(settings.rate_limit_storage_uri))
        self._limiter = _strategy(settings.rate_limit_strategy, storage)

    async def hit(self, action: str, *, ip: str, account: str | None) -> dict[str, str]:
        """Count one `action` (login, register, refresh) for `ip` and `account`.

        Returns the `RateLimit-*` headers of the tightest limit; raises
        `RateLimitExceededError` when a limit is exhausted. The account is only counted
        when the IP was allowed, so one noisy address cannot lock a user out alone.
        """
        if not self._settings.rate_limit_enabled:
            return {}
        budgets = [await self._hit(self._settings.limit(f"{action}_ip"), action, "ip", ip)]
        if account is not None:
            item = self._settings.limit(f"{action}_account")
            budgets.append(await self._hit(item, action, "account", account_key(account)))
        tightest = min(budgets, key=lambda budget: (budget.remaining, -budget.reset_in))
        return tightest.headers()

    async def _hit(self, item: RateLimitItem, *identifiers: str) -> Budget:
        allowed = await self._limiter.hit(item, *identifiers)
        stats = await self._limiter.get_window_stats(item, *identifiers)
        reset_in = max(1, math.ceil(stats.reset_time - time.time()))
        budget = Budget(item=item, remaining=max(0, stats.remaining), reset_in=reset_in)
        if not allowed:
            raise RateLimitExceededError(reset_in, budget.headers())
        return budget
