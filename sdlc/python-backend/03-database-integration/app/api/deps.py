"""Request-scoped dependencies: database session and unit of work.

Every dependency here is `async def`: FastAPI runs a plain `def` dependency in a worker
thread, which costs a thread hop per request for functions that do no blocking work.
"""

from collections.abc import AsyncIterator
from typing import Annotated, cast

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import Database, SQLAlchemyUnitOfWork
from app.domain.unit_of_work import UnitOfWork


async def get_database(request: Request) -> Database:
    return cast(Database, request.app.state.database)


async def get_session(
    database: Annotated[Database, Depends(get_database)],
) -> AsyncIterator[AsyncSession]:
    """One session per request. The teardown only closes it (rolling back anything
    uncommitted); committing is the service's job, inside its unit of work."""
    async with database.session() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def get_unit_of_work(session: SessionDep) -> UnitOfWork:
    return SQLAlchemyUnitOfWork(session)


UnitOfWorkDep = Annotated[UnitOfWork, Depends(get_unit_of_work)]
