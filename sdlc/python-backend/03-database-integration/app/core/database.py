"""Async SQLAlchemy engine, sessions and the unit of work.

- One `Database` per process, created by the database extension's lifespan
  (`app/extensions/database.py`) and disposed at shutdown.
- One `AsyncSession` per request (`app.api.deps.get_session`); it never commits.
- Services commit through `SQLAlchemyUnitOfWork` (`async with uow:`), so a response
  is only sent after its transaction has committed.
"""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any, Self

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    AsyncSessionTransaction,
    async_sessionmaker,
    create_async_engine,
)

from app.core.config import Settings
from app.domain.unit_of_work import UnitOfWork

# SQLAlchemy logs every statement on this logger at INFO.
SQL_LOGGER = "sqlalchemy.engine"


class Database:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        # expire_on_commit=False: entities stay readable after commit without a lazy
        # reload (which would need I/O outside of an await under asyncio).
        self.session_factory = async_sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> "Database":
        server_settings = {"application_name": settings.app_name}
        if settings.db_statement_timeout_ms:
            server_settings["statement_timeout"] = str(settings.db_statement_timeout_ms)
        connect_args: dict[str, Any] = {"server_settings": server_settings}
        # DB_ECHO sets the logger's level instead of `echo=True`: `echo` would also add
        # SQLAlchemy's own stdout handler, and every statement would be printed twice.
        level = logging.INFO if settings.db_echo else logging.WARNING
        logging.getLogger(SQL_LOGGER).setLevel(level)
        engine = create_async_engine(
            settings.database_dsn,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_timeout=settings.db_pool_timeout,
            pool_recycle=settings.db_pool_recycle,
            pool_pre_ping=settings.db_pool_pre_ping,
            connect_args=connect_args,
        )
        return cls(engine)

    @property
    def safe_url(self) -> str:
        url: URL = self.engine.url
        return url.render_as_string(hide_password=True)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session whose close (on exit) rolls back anything left uncommitted."""
        async with self.session_factory() as session:
            yield session

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        """Close every pooled connection (called once, at shutdown)."""
        await self.engine.dispose()


class SQLAlchemyUnitOfWork(UnitOfWork):
    """`UnitOfWork` over one `AsyncSession`.

    The outermost `async with uow:` commits on success and rolls back on error. A block
    nested inside it is a SAVEPOINT: when it fails, only its own writes are rolled back,
    and a caller that catches the error keeps the rest of the transaction.
    """

    def __init__(self, session: AsyncSession) -> None:
        super().__init__()
        self.session = session
        self._savepoints: list[AsyncSessionTransaction] = []

    async def __aenter__(self) -> Self:
        if self._depth:  # inside an open block of this unit of work
            self._savepoints.append(await self.session.begin_nested())
        return await super().__aenter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if not self._savepoints:  # the outermost block: commit or roll back everything
            await super().__aexit__(exc_type, exc, traceback)
            return
        savepoint = self._savepoints.pop()
        self._depth -= 1
        if exc_type is not None:
            await savepoint.rollback()  # ROLLBACK TO SAVEPOINT
            return
        try:
            await savepoint.commit()  # RELEASE SAVEPOINT (flushes first)
        except BaseException:
            await savepoint.rollback()
            raise

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()


@asynccontextmanager
async def transaction(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """`async with transaction(session):` for scripts and jobs outside a service."""
    async with SQLAlchemyUnitOfWork(session):
        yield session
