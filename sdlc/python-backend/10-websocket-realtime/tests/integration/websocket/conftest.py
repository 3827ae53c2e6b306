"""Fixtures for step 10: app servers on loopback ports, users and their tokens."""

import hashlib
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.config import AuthSettings
from app.domain.models.user import RefreshToken, User
from tests.integration.auth.helpers import create_user
from tests.integration.websocket.support import AppServer, access_token

# Small limits, so the tests reach them quickly; the same for every server. Each limit
# leaves seconds of slack to what the tests do meanwhile, so a loaded machine (load
# average above 10 on two cores) that stalls a process for a second or two does not
# make a test see a timeout that the code did not cause: heartbeats every second
# against an idle timeout of 5, presence refreshed every 2 s against a TTL of 6, and a
# typing throttle far longer than any test's burst of typing frames.
TEST_LIMITS = {
    "WS_HEARTBEAT_SECONDS": "1",
    "WS_IDLE_TIMEOUT_SECONDS": "5",
    "WS_SEND_QUEUE_SIZE": "16",
    "WS_MAX_MESSAGE_BYTES": "20000",
    "WS_RATE_PER_SECOND": "500",
    "WS_RATE_BURST": "1000",
    "WS_TYPING_THROTTLE_SECONDS": "60",
    "WS_TYPING_TTL_SECONDS": "2",
    "WS_PRESENCE_TTL_SECONDS": "6",
    "WS_MAX_ROOMS": "3",
    "WS_SESSION_CHECK_SECONDS": "1",
    "WS_SHUTDOWN_TIMEOUT_SECONDS": "10",
    # Logins through the API (session tests) hash like the tests' own users: cheaply.
    "ARGON2_TIME_COST": "1",
    "ARGON2_MEMORY_COST_KIB": "1024",
    "ARGON2_PARALLELISM": "1",
}

UserFactory = Callable[..., Awaitable[tuple[User, str]]]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "websocket: step 10, app servers on loopback ports")
    config.addinivalue_line("markers", "browser: step 10, needs Chromium (CHROMIUM_PATH)")
    config.addinivalue_line("markers", "wheel: step 10, builds and installs the wheel (uv)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.redis)  # registered by step 08
            item.add_marker(pytest.mark.websocket)


@pytest.fixture(scope="session")
def server_env() -> dict[str, str]:
    # Pub/Sub channels are global to the Redis server: a prefix per session keeps
    # parallel runs (and other checks) out of each other's rooms.
    return {**TEST_LIMITS, "WS_CHANNEL_PREFIX": f"t{secrets.token_hex(4)}"}


@pytest.fixture(scope="session")
async def server(database_url: URL, server_env: dict[str, str]) -> AsyncIterator[AppServer]:
    app_server = AppServer(database_url.render_as_string(hide_password=False), server_env)
    await app_server.start()
    yield app_server
    await app_server.stop()


@pytest.fixture(scope="session")
async def second_server(database_url: URL, server_env: dict[str, str]) -> AsyncIterator[AppServer]:
    app_server = AppServer(database_url.render_as_string(hide_password=False), server_env)
    await app_server.start()
    yield app_server
    await app_server.stop()


@pytest.fixture
def room() -> str:
    return f"room:t{secrets.token_hex(6)}"


async def create_session(session: AsyncSession, user: User) -> uuid.UUID:
    """A live session of `user`, stored as step 04 stores a login: a refresh-token row."""
    family_id = uuid.uuid4()
    session.add(
        RefreshToken(
            id=uuid.uuid4(),
            user_id=user.id,
            family_id=family_id,
            token_hash=hashlib.sha256(secrets.token_bytes(32)).hexdigest(),
            expires_at=datetime.now(UTC) + timedelta(days=1),
        )
    )
    await session.commit()
    return family_id


@pytest.fixture
def make_user(session: AsyncSession, auth_config: AuthSettings) -> UserFactory:
    """A user and an access token of a live session of theirs (any lifetime)."""

    async def factory(name: str, *roles: str, ttl: float = 600) -> tuple[User, str]:
        user = await create_user(
            session, auth_config, f"{name}.{uuid.uuid4().hex[:8]}@example.com", *roles
        )
        user.full_name = name
        await session.commit()
        session_id = await create_session(session, user)
        return user, access_token(user.id, ttl=ttl, session_id=session_id)

    return factory
