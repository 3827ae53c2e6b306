"""Database extension (step 03): one connection pool per process.

The pool is created when the app starts and disposed after the last request drained.
Connections open lazily, so the app starts (and answers liveness) while PostgreSQL is
down. ORDER 10: infrastructure first, so extensions that need the database (ORDER > 10)
find it open and are closed before it.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from loguru import logger

from app.core.config import Settings
from app.core.database import Database

ORDER = 10


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    database = Database.from_settings(settings)
    app.state.database = database
    logger.info("Database pool for {}", database.safe_url)
    try:
        yield
    finally:
        await database.dispose()
        logger.info("Database pool closed")
