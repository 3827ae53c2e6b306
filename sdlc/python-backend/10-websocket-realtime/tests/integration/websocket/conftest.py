"""Fixtures for step 10: app servers on loopback ports, users and their tokens."""

import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.config import AuthSettings
from app.domain.models.user import User
from tests.integration.auth.helpers import create_user
from tests.integration.websocket.support import AppServer, access_token

# Small limits, so the tests reach them quickly; the same for every server.
TEST_LIMITS = {
    "WS_HEARTBEAT_SECONDS": "1",
    "WS_IDLE_TIMEOUT_SECONDS": "3",
    "WS_SEND_QUEUE_SIZE": "16",
    "WS_MAX_MESSAGE_BYTES": "20000",
    "WS_RATE_PER_SECOND": "500",
    "WS_RATE_BURST": "1000",
    "WS_TYPING_THROTTLE_SECONDS": "3",
    "WS_TYPING_TTL_SECONDS": "2",
    "WS_PRESENCE_TTL_SECONDS": "3",
    "WS_MAX_ROOMS": "3",
}

UserFactory = Callable[..., Awaitable[tuple[User, str]]]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "websocket: step 10, app servers on loopback ports")
    config.addinivalue_line("markers", "browser: step 10, needs Chromium (CHROMIUM_PATH)")


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


@pytest.fixture
def make_user(session: AsyncSession, auth_config: AuthSettings) -> UserFactory:
    async def factory(name: str, *roles: str, ttl: float = 600) -> tuple[User, str]:
        user = await create_user(
            session, auth_config, f"{name}.{uuid.uuid4().hex[:8]}@example.com", *roles
        )
        user.full_name = name
        await session.commit()
        return user, access_token(user.id, ttl=ttl)

    return factory
