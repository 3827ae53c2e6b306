"""Migrations: full upgrade/downgrade round trip, and no drift from the models."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app.domain.base import Base
from tests.integration.helpers import run_alembic, server_url, temporary_database


def tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names()) - {"alembic_version"}


def drift(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, Base.metadata))


async def test_upgrade_downgrade_round_trip_without_drift() -> None:
    server: URL = server_url()
    async with temporary_database(server) as url:
        engine = create_async_engine(url, poolclass=NullPool)
        try:
            async with engine.begin() as connection:
                await connection.run_sync(run_alembic, "head")
                assert await connection.run_sync(tables) == set(Base.metadata.tables)
                assert await connection.run_sync(drift) == []

                await connection.run_sync(run_alembic, "base", downgrade=True)
                assert await connection.run_sync(tables) == set()

                await connection.run_sync(run_alembic, "head")
                assert await connection.run_sync(drift) == []
        finally:
            await engine.dispose()
