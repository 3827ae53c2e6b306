"""The database extension, request dependencies and `DB_ECHO` against real PostgreSQL."""

import json
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import uuid4

import anyio.to_thread
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
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


async def test_requests_make_no_threadpool_hops(
    client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FastAPI runs every plain `def` dependency in a worker thread; ours are all async."""
    hops: list[str] = []
    run_sync: Callable[..., Awaitable[Any]] = anyio.to_thread.run_sync

    async def spy(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        hops.append(getattr(func, "__qualname__", repr(func)))
        return await run_sync(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", spy)
    body = {"name": "Lamp", "description": None, "price": "1.00", "stock": 1, "is_active": True}
    created = await client.post("/api/v1/products", json=body)
    assert created.status_code == 201, created.text
    assert (await client.get("/api/v1/products")).status_code == 200
    assert (await client.get(f"/api/v1/products/{uuid4()}")).status_code == 404
    assert hops == []


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
    # The logger SQLAlchemy documents for statements, and the code that ran the
    # statement, not SQLAlchemy's logging wrapper (`_log_info` in `sqlalchemy.engine.base`).
    assert record["logger"] == "sqlalchemy.engine.Engine"
    assert not record["function"].startswith("_log")
