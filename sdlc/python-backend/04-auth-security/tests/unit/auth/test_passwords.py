"""Password hashing: Argon2id, legacy bcrypt, rehash, bounded concurrency off the loop."""

import asyncio
import threading
import time
from collections.abc import Iterator

import bcrypt
import pytest

from app.auth.passwords import PasswordHasher
from tests.auth_support import auth_settings


@pytest.fixture
def hasher() -> Iterator[PasswordHasher]:
    hasher = PasswordHasher(auth_settings())
    yield hasher
    hasher.close()


async def test_hash_is_argon2id_and_verifies(hasher: PasswordHasher) -> None:
    stored = await hasher.hash("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert "correct horse" not in stored
    result = await hasher.verify("correct horse battery", stored)
    assert result.valid
    assert result.new_hash is None


async def test_wrong_password_fails(hasher: PasswordHasher) -> None:
    stored = await hasher.hash("correct horse battery")
    result = await hasher.verify("correct horse batterY", stored)
    assert not result.valid
    assert result.new_hash is None


async def test_same_password_hashes_differently(hasher: PasswordHasher) -> None:
    assert await hasher.hash("same password!") != await hasher.hash("same password!")


async def test_rehash_when_parameters_change() -> None:
    old = PasswordHasher(auth_settings(argon2_time_cost=1))
    new = PasswordHasher(auth_settings(argon2_time_cost=2))
    try:
        stored = await old.hash("correct horse battery")
        result = await new.verify("correct horse battery", stored)
        assert result.valid
        assert result.new_hash is not None
        assert "t=2" in result.new_hash
        again = await new.verify("correct horse battery", result.new_hash)
        assert again.valid
        assert again.new_hash is None
    finally:
        old.close()
        new.close()


async def test_legacy_bcrypt_hash_is_accepted_and_upgraded(hasher: PasswordHasher) -> None:
    legacy = bcrypt.hashpw(b"migrated password", bcrypt.gensalt(rounds=4)).decode()
    result = await hasher.verify("migrated password", legacy)
    assert result.valid
    assert result.new_hash is not None
    assert result.new_hash.startswith("$argon2id$")
    assert not (await hasher.verify("wrong password", legacy)).valid


async def test_unknown_hash_format_and_overlong_bcrypt_input_fail_closed(
    hasher: PasswordHasher,
) -> None:
    assert not (await hasher.verify("anything", "plaintext-password")).valid
    legacy = bcrypt.hashpw(b"x" * 50, bcrypt.gensalt(rounds=4)).decode()
    assert not (await hasher.verify("x" * 100, legacy)).valid


async def test_unknown_account_still_pays_for_a_full_verification(
    hasher: PasswordHasher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dummy path runs the same Argon2 verification, with the current parameters."""
    verified: list[str] = []
    original = hasher._hash.verify_and_update

    def spy(password: str | bytes, stored_hash: str | bytes) -> tuple[bool, str | None]:
        verified.append(str(stored_hash))
        return original(password, stored_hash)

    monkeypatch.setattr(hasher._hash, "verify_and_update", spy)
    await hasher.verify_dummy("first guess")
    await hasher.verify_dummy("second guess")
    assert len(verified) == 2
    assert all(item.startswith("$argon2id$v=19$m=1024,t=1,p=1$") for item in verified)


async def test_hashing_runs_off_the_event_loop_with_bounded_concurrency(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hasher = PasswordHasher(auth_settings(password_hash_concurrency=2))
    loop_thread = threading.get_ident()
    running = 0
    peak = 0
    threads: set[int] = set()
    lock = threading.Lock()
    original = hasher._hash.hash

    def tracked(password: str | bytes, *, salt: bytes | None = None) -> str:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
            threads.add(threading.get_ident())
        try:
            time.sleep(0.05)
            return original(password, salt=salt)
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(hasher._hash, "hash", tracked)
    try:
        await asyncio.gather(*(hasher.hash(f"password {i}") for i in range(8)))
    finally:
        hasher.close()
    assert peak == 2
    assert loop_thread not in threads
