"""SQLAlchemyUnitOfWork against real PostgreSQL: nested blocks are SAVEPOINTs."""

from decimal import Decimal
from uuid import uuid4

import pytest

from app.core.database import Database, SQLAlchemyUnitOfWork, transaction
from app.domain.exceptions import ConflictError
from app.domain.models.product import Product
from app.domain.query import ListQuery, SortField
from app.repository.product_repository import SQLAlchemyProductRepository


def product(name: str | None = None) -> Product:
    return Product(
        name=name or f"Product {uuid4().hex[:8]}",
        description=None,
        price=Decimal("10.00"),
        stock=5,
        is_active=True,
    )


async def seed(database: Database, *products: Product) -> None:
    async with database.session() as session, transaction(session):
        session.add_all(products)


async def add_then_fail(
    uow: SQLAlchemyUnitOfWork, repository: SQLAlchemyProductRepository, name: str
) -> None:
    async with uow:  # inside the caller's open block: a SAVEPOINT
        await repository.add(product(name=name))
        raise ValueError("inner")


async def names(database: Database) -> list[str]:
    async with database.session() as session:
        page = await SQLAlchemyProductRepository(session).find(ListQuery(sort=(SortField("name"),)))
    return [p.name for p in page.items]


async def test_failed_nested_block_rolls_back_only_its_own_writes(database: Database) -> None:
    async with database.session() as session:
        repository = SQLAlchemyProductRepository(session)
        uow = SQLAlchemyUnitOfWork(session)
        async with uow:
            await repository.add(product(name="Outer"))
            with pytest.raises(ValueError, match="inner"):
                await add_then_fail(uow, repository, "Inner")
            await repository.add(product(name="After"))

    assert await names(database) == ["After", "Outer"]


async def test_nested_conflict_caught_by_the_caller_keeps_the_outer_work(
    database: Database,
) -> None:
    await seed(database, product(name="Taken"))
    async with database.session() as session:
        repository = SQLAlchemyProductRepository(session)
        uow = SQLAlchemyUnitOfWork(session)
        async with uow:
            await repository.add(product(name="Outer"))
            with pytest.raises(ConflictError):
                async with uow:  # the INSERT fails inside the SAVEPOINT
                    await repository.add(product(name="Taken"))
            await repository.add(product(name="After"))

    assert await names(database) == ["After", "Outer", "Taken"]


async def test_nested_block_commits_with_the_outer_block(database: Database) -> None:
    async with database.session() as session:
        repository = SQLAlchemyProductRepository(session)
        uow = SQLAlchemyUnitOfWork(session)

        async def inner_then_fail() -> None:
            async with uow:
                async with uow:
                    await repository.add(product(name="Inner"))
                raise RuntimeError("outer")  # the released SAVEPOINT is rolled back too

        with pytest.raises(RuntimeError, match="outer"):
            await inner_then_fail()

        async with uow, uow:
            await repository.add(product(name="Kept"))

    assert await names(database) == ["Kept"]
