"""AuthService with mocked ports (step 07): `AsyncMock(spec=...)` fakes only what the
real class has, so a renamed or removed repository method fails these tests instead of
being silently faked."""

import uuid
from unittest.mock import AsyncMock, MagicMock

import pytest

from app.auth.errors import InvalidCredentialsError
from app.auth.passwords import PasswordHasher, Verification
from app.auth.rate_limit import RequestLimiter
from app.auth.repository import RefreshTokenRepository, UserRepository
from app.auth.service import AuthComponents, AuthService
from app.auth.tokens import TokenCodec, TokenType
from app.domain.models.user import RefreshToken, Role, User
from app.domain.unit_of_work import UnitOfWork
from tests.auth_support import auth_settings


class RecordingUnitOfWork(UnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.commits = 0
        self.rollbacks = 0

    async def commit(self) -> None:
        self.commits += 1

    async def rollback(self) -> None:
        self.rollbacks += 1


@pytest.fixture
def users() -> AsyncMock:
    return AsyncMock(spec=UserRepository)


@pytest.fixture
def tokens() -> AsyncMock:
    return AsyncMock(spec=RefreshTokenRepository)


@pytest.fixture
def hasher() -> AsyncMock:
    return AsyncMock(spec=PasswordHasher)


@pytest.fixture
def uow() -> RecordingUnitOfWork:
    return RecordingUnitOfWork()


@pytest.fixture
def codec() -> TokenCodec:
    return TokenCodec(auth_settings())


@pytest.fixture
def service(
    users: AsyncMock,
    tokens: AsyncMock,
    hasher: AsyncMock,
    uow: RecordingUnitOfWork,
    codec: TokenCodec,
) -> AuthService:
    components = AuthComponents(
        settings=auth_settings(),
        hasher=hasher,
        codec=codec,
        limiter=MagicMock(spec=RequestLimiter),
        refresh_cookie_path="/api/v1/auth",
    )
    return AuthService(users, tokens, uow, components)


def user(**fields: object) -> User:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "email": "ana@example.com",
        "password_hash": "$argon2id$stored",
        "roles": [Role.USER.value],
        "is_active": True,
        "token_version": 0,
        **fields,
    }
    return User(**values)


async def test_unknown_email_costs_a_dummy_verification_and_writes_nothing(
    service: AuthService,
    users: AsyncMock,
    hasher: AsyncMock,
    tokens: AsyncMock,
    uow: RecordingUnitOfWork,
) -> None:
    users.get_by_email.return_value = None
    with pytest.raises(InvalidCredentialsError):
        await service.login("nobody@example.com", "whatever password")
    hasher.verify_dummy.assert_awaited_once_with("whatever password")
    hasher.verify.assert_not_awaited()
    tokens.add.assert_not_awaited()
    assert uow.commits == 0


async def test_wrong_password_and_inactive_user_are_the_same_refusal(
    service: AuthService, users: AsyncMock, hasher: AsyncMock, tokens: AsyncMock
) -> None:
    users.get_by_email.return_value = user()
    hasher.verify.return_value = Verification(valid=False, new_hash=None)
    with pytest.raises(InvalidCredentialsError):
        await service.login("ana@example.com", "wrong password")
    users.get_by_email.return_value = user(is_active=False)
    hasher.verify.return_value = Verification(valid=True, new_hash=None)
    with pytest.raises(InvalidCredentialsError):
        await service.login("ana@example.com", "right password")
    tokens.add.assert_not_awaited()


async def test_login_stores_the_refresh_token_hash_and_commits_once(
    service: AuthService,
    users: AsyncMock,
    hasher: AsyncMock,
    tokens: AsyncMock,
    uow: RecordingUnitOfWork,
    codec: TokenCodec,
) -> None:
    account = user()
    users.get_by_email.return_value = account
    hasher.verify.return_value = Verification(valid=True, new_hash="$argon2id$rehashed")

    pair = await service.login("ana@example.com", "right password")

    assert uow.commits == 1
    assert account.password_hash == "$argon2id$rehashed"  # upgraded on login
    tokens.prune_expired.assert_awaited_once_with(account.id)
    (stored,), _ = tokens.add.await_args
    assert isinstance(stored, RefreshToken)
    assert stored.token_hash != pair.refresh_token  # a hash, never the token itself
    claims = codec.decode(pair.access_token, TokenType.ACCESS)
    assert claims.user_id == account.id
    assert stored.family_id == claims.family_id


async def test_register_hashes_off_the_event_loop_and_adds_once(
    service: AuthService, users: AsyncMock, hasher: AsyncMock, uow: RecordingUnitOfWork
) -> None:
    hasher.hash.return_value = "$argon2id$new"
    users.add_if_absent.return_value = True
    await service.register("New@Example.com", "a long enough password", None)
    (added,), _ = users.add_if_absent.await_args
    assert (added.email, added.password_hash, added.roles) == (
        "new@example.com",
        "$argon2id$new",
        ["user"],
    )
    assert uow.commits == 1


def test_a_spec_mock_refuses_methods_the_port_does_not_have(users: AsyncMock) -> None:
    # What protects the tests above from drifting away from the real repository.
    with pytest.raises(AttributeError):
        users.find_by_email  # noqa: B018 (the attribute access is the test)
    with pytest.raises(AttributeError):
        AsyncMock(spec=UserRepository).get_by_mail.assert_not_awaited()
