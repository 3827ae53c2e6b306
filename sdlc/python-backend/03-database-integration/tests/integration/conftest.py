"""Fixtures for tests against a real PostgreSQL server (see `helpers.server_url`).

Every test here is marked `integration`; the session runs on a throwaway database, so a
developer's data is never touched.
"""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from app.core.config import Environment, Settings
from app.core.database import Database
from app.domain.base import Base
from tests.integration.helpers import run_alembic, server_url, temporary_database


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[URL]:
    """A fresh database migrated to `head` for the whole test session."""
    async with temporary_database(server_url()) as url:
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
