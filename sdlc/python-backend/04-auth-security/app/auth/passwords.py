"""Password hashing: Argon2id for new hashes, bcrypt accepted for migrated users.

Hashing is deliberately slow, so it never runs on the event loop: every hash or verify
goes to a dedicated thread pool of `PASSWORD_HASH_CONCURRENCY` workers, so at most that
many run at once. A login flood then waits in line instead of starving every other
request of CPU and of the event loop.
"""

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

from pwdlib import PasswordHash
from pwdlib.exceptions import UnknownHashError
from pwdlib.hashers.argon2 import Argon2Hasher
from pwdlib.hashers.bcrypt import BcryptHasher

from app.auth.config import AuthSettings


@dataclass(frozen=True, slots=True)
class Verification:
    valid: bool
    new_hash: str | None  # set when the stored hash should be replaced (rehash)


def build_password_hash(settings: AuthSettings) -> PasswordHash:
    """The first hasher makes new hashes; the others are only recognised and verified."""
    return PasswordHash(
        (
            Argon2Hasher(
                time_cost=settings.argon2_time_cost,
                memory_cost=settings.argon2_memory_cost_kib,
                parallelism=settings.argon2_parallelism,
            ),
            BcryptHasher(),
        )
    )


class PasswordHasher:
    def __init__(self, settings: AuthSettings) -> None:
        self._hash = build_password_hash(settings)
        self._executor = ThreadPoolExecutor(
            max_workers=settings.password_hash_concurrency, thread_name_prefix="password-hash"
        )
        self._dummy_hash: str | None = None

    async def hash(self, password: str) -> str:
        return await self._run(partial(self._hash.hash, password))

    async def verify(self, password: str, stored_hash: str) -> Verification:
        return await self._run(partial(self._verify_sync, password, stored_hash))

    async def verify_dummy(self, password: str) -> None:
        """Spend the same work as a real verification, for an account that does not exist.

        Without it an unknown e-mail answers in microseconds and a known one in tens of
        milliseconds: the response time alone would tell which accounts exist.
        """
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash("dummy password, never matches")
        await self.verify(password, self._dummy_hash)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _verify_sync(self, password: str, stored_hash: str) -> Verification:
        try:
            valid, new_hash = self._hash.verify_and_update(password, stored_hash)
        except (UnknownHashError, ValueError):  # unknown format, or bcrypt's 72-byte limit
            return Verification(valid=False, new_hash=None)
        return Verification(valid=valid, new_hash=new_hash)

    async def _run[T](self, work: "partial[T]") -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, work)
