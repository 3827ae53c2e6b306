"""The database extension and `DB_ECHO` against a real PostgreSQL server."""

import json

import pytest
from fastapi import FastAPI
from loguru import logger
from sqlalchemy import text

from app.core.config import Settings
from app.core.database import Database
from app.core.logging import setup_logging


async def test_extension_opens_the_pool_at_startup_and_closes_it_at_shutdown(
    app: FastAPI,
) -> None:
    messages: list[str] = []
    logger.add(lambda message: messages.append(message.record["message"]), level="INFO")
    async with app.router.lifespan_context(app):
        database = app.state.database
        assert isinstance(database, Database)
        await database.ping()
        assert "Database pool closed" not in messages
    assert messages.index("Database pool closed") < messages.index("Shutdown complete")


async def test_db_echo_logs_each_statement_once_through_loguru(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    echo = settings.model_copy(update={"db_echo": True, "log_json": True, "log_level": "INFO"})
    setup_logging(echo)
    database = Database.from_settings(echo)
    try:
        async with database.session() as session:
            await session.execute(text("SELECT 4242"))
    finally:
        await database.dispose()

    output = capsys.readouterr()
    lines = [line for line in (output.out + output.err).splitlines() if "SELECT 4242" in line]
    assert len(lines) == 1, lines  # not a second, plain copy from SQLAlchemy's own handler
    record = json.loads(lines[0])
    assert record["logger"].startswith("sqlalchemy.engine")
    # The statement's real origin in SQLAlchemy, not its logging wrapper.
    assert record["function"] not in {"log", "info", "emit", "_log"}
