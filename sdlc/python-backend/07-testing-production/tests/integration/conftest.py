"""Fixtures for tests against a real PostgreSQL server (see `tests/services.py`).

Every test here is marked `integration`; the session runs on a throwaway database, so a
developer's data is never touched.

Step 07 adds the per-test transaction: `db_session` and `api_client` share one
connection whose outer transaction is rolled back after the test, so whatever a test
writes (commits included) never reaches another test.
"""

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from app.api.deps import get_session
from app.api.guards import require_writer
from app.auth.config import AuthSettings
from app.core.config import Environment, Settings
from app.core.database import Database
from app.domain.base import Base
from app.domain.models.user import Role
from tests.factories import UserFactory
from tests.integration.helpers import run_alembic, temporary_database
from tests.services import postgres_server, redis_server


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[URL]:
    """The PostgreSQL server: given, or a testcontainers one, or every test here skips."""
    with postgres_server() as url:
        yield make_url(url)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A Redis server for tests that need one (same rules as `postgres_url`)."""
    with redis_server() as url:
        yield url


@pytest.fixture(scope="session")
async def database_url(postgres_url: URL) -> AsyncIterator[URL]:
    """A fresh database migrated to `head` for the whole test session."""
    async with temporary_database(postgres_url) as url:
        engine = create_async_engine(url, poolclass=NullPool)
        try:
            async with engine.begin() as connection:
                await connection.run_sync(run_alembic, "head")
        finally:
            await engine.dispose()
        yield url


@pytest.fixture(scope="session")
def settings(database_url: URL) -> Settings:
    """Overrides the root `settings`: same test settings, pointed at the test database."""
    return Settings(
        _env_file=None,
        app_env=Environment.TESTING,
        log_level="WARNING",
        database_url=database_url.render_as_string(hide_password=False),
    )


@pytest.fixture(scope="session")
async def database(settings: Settings) -> AsyncIterator[Database]:
    database = Database.from_settings(settings)
    yield database
    await database.dispose()


@pytest.fixture
async def session(database: Database) -> AsyncIterator[AsyncSession]:
    async with database.session() as session:
        yield session


@pytest.fixture(autouse=True)
async def _empty_tables(database: Database) -> AsyncIterator[None]:
    """Every test starts from empty tables (committed data included)."""
    yield
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    if tables:
        async with database.engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


# --- Step 07: one transaction per test -------------------------------------------------


@pytest.fixture
async def db_connection(database: Database) -> AsyncIterator[AsyncConnection]:
    """A connection inside a transaction that is rolled back when the test ends."""
    async with database.engine.connect() as connection:
        transaction = await connection.begin()
        try:
            yield connection
        finally:
            await transaction.rollback()


def _joined_session(connection: AsyncConnection) -> AsyncSession:
    # "create_savepoint": the session's commit/rollback become RELEASE/ROLLBACK TO
    # SAVEPOINT inside the test's transaction, so code that commits runs unchanged.
    return AsyncSession(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
async def db_session(db_connection: AsyncConnection) -> AsyncIterator[AsyncSession]:
    """A session whose commits never outlive the test (see `db_connection`)."""
    session = _joined_session(db_connection)
    try:
        yield session
    finally:
        await session.close()


@pytest.fixture
async def api_client(app: FastAPI, db_connection: AsyncConnection) -> AsyncIterator[AsyncClient]:
    """`client`, but every request's session joins the test's transaction: the API sees
    what `db_session` wrote, the test sees what the API wrote, and all of it is rolled
    back afterwards."""

    async def joined_session() -> AsyncIterator[AsyncSession]:
        async with _joined_session(db_connection) as session:
            yield session

    app.dependency_overrides[get_session] = joined_session
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client,
    ):
        yield client


@pytest.fixture
def user_factory(db_session: AsyncSession, auth_config: AuthSettings) -> UserFactory:
    return UserFactory(db_session, auth_config)


ClientFor = Callable[..., Awaitable[AsyncClient]]


@pytest.fixture
async def client_as(
    app: FastAPI, api_client: AsyncClient, user_factory: UserFactory
) -> AsyncIterator[ClientFor]:
    """`await client_as(Role.EDITOR)`: a client logged in as a new user with those roles.

    Requesting it switches the test to the real write guard (no stand-in for
    `require_writer`): a role client exists to test who may do what.
    """
    app.dependency_overrides.pop(require_writer, None)
    clients: list[AsyncClient] = []

    async def make(*roles: Role, email: str | None = None) -> AsyncClient:
        user = await user_factory.create(*roles, email=email)
        token = app.state.auth.codec.issue_access(user.id, user.token_version, uuid.uuid4())
        client = AsyncClient(
            transport=ASGITransport(app=app),
            base_url="http://test",
            headers={"Authorization": f"Bearer {token.token}"},
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
async def admin_client(client_as: ClientFor) -> AsyncClient:
    return await client_as(Role.ADMIN)


@pytest.fixture
async def editor_client(client_as: ClientFor) -> AsyncClient:
    return await client_as(Role.EDITOR)


@pytest.fixture
async def user_client(client_as: ClientFor) -> AsyncClient:
    return await client_as(Role.USER)
