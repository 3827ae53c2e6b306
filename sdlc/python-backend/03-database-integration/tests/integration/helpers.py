"""Helpers for tests against a real PostgreSQL server.

The tests never use the configured database itself: they create a throwaway database
on the same server, migrate it with Alembic, and drop it at the end.
"""

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app.core.config import Settings, load_settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def server_url() -> URL:
    """TEST_DATABASE_URL, else the server the application is configured for
    (DATABASE_URL or POSTGRES_*, from the environment or `.env`)."""
    raw = os.environ.get("TEST_DATABASE_URL")
    settings = load_settings() if raw is None else Settings(_env_file=None, database_url=raw)
    return settings.database_dsn


@asynccontextmanager
async def temporary_database(server: URL) -> AsyncIterator[URL]:
    """CREATE a uniquely named database on `server`; DROP it on exit."""
    name = f"test_{secrets.token_hex(6)}"
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        try:
            async with admin.connect() as connection:
                await connection.execute(text(f'CREATE DATABASE "{name}"'))
        except (OSError, DBAPIError) as exc:
            pytest.fail(
                f"PostgreSQL at {server.render_as_string(hide_password=True)} is not usable "
                f"({exc.__class__.__name__}: {exc}). Start it with `make docker-up`, or set "
                "TEST_DATABASE_URL; `pytest -m 'not integration'` runs the unit tests only.",
                pytrace=False,
            )
        try:
            yield server.set(database=name)
        finally:
            async with admin.connect() as connection:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["connection"] = connection
    return config


def run_alembic(connection: Connection, revision: str, *, downgrade: bool = False) -> None:
    """Run `alembic upgrade/downgrade` on an open connection (inside `run_sync`)."""
    config = alembic_config(connection)
    if downgrade:
        command.downgrade(config, revision)
    else:
        command.upgrade(config, revision)
