"""SQLAlchemyProductRepository + unit of work against a real PostgreSQL database."""

from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import Database, SQLAlchemyUnitOfWork, transaction
from app.domain.exceptions import ConflictError, InvalidQueryError, NotFoundError
from app.domain.models.product import Product
from app.domain.query import Filter, FilterOp, ListQuery, SortField
from app.repository.product_repository import SQLAlchemyProductRepository


def product(**overrides: Any) -> Product:
    values: dict[str, Any] = {
        "name": f"Product {uuid4().hex[:8]}",
        "description": None,
        "price": Decimal("10.00"),
        "stock": 5,
        "is_active": True,
    }
    return Product(**(values | overrides))


async def seed(database: Database, *products: Product) -> None:
    async with database.session() as session, transaction(session):
        session.add_all(products)


async def test_create_then_get_in_a_new_session(database: Database) -> None:
    async with database.session() as session:
        repository = SQLAlchemyProductRepository(session)
        async with SQLAlchemyUnitOfWork(session):
            created = await repository.add(product(name="Keyboard", price=Decimal("49.90")))
        # Server defaults were fetched with RETURNING: no lazy load needed after commit.
        assert created.created_at is not None
        assert created.updated_at == created.created_at

    async with database.session() as session:
        loaded = await SQLAlchemyProductRepository(session).get(created.id)
    assert loaded is not None
    assert (loaded.name, loaded.price, loaded.stock) == ("Keyboard", Decimal("49.90"), 5)
    assert loaded.created_at.tzinfo is not None


async def test_get_unknown_id_returns_none(session: AsyncSession) -> None:
    assert await SQLAlchemyProductRepository(session).get(uuid4()) is None


async def test_update_persists_changes_and_touches_updated_at(database: Database) -> None:
    item = product(name="Mouse")
    await seed(database, item)

    async with database.session() as session:
        repository = SQLAlchemyProductRepository(session)
        async with SQLAlchemyUnitOfWork(session):
            loaded = await repository.get(item.id)
            assert loaded is not None
            loaded.stock = 42
            updated = await repository.update(loaded)
        assert updated.updated_at > item.updated_at

    async with database.session() as session:
        reloaded = await SQLAlchemyProductRepository(session).get(item.id)
    assert reloaded is not None
    assert reloaded.stock == 42


async def test_delete_removes_row(database: Database) -> None:
    item = product()
    await seed(database, item)

    async with database.session() as session:
        repository = SQLAlchemyProductRepository(session)
        async with SQLAlchemyUnitOfWork(session):
            loaded = await repository.get(item.id)
            assert loaded is not None
            await repository.delete(loaded)

    async with database.session() as session:
        assert await SQLAlchemyProductRepository(session).get(item.id) is None


async def test_row_deleted_meanwhile_is_not_found(database: Database) -> None:
    """PATCH racing a DELETE: the row was read, then removed by another transaction; the
    UPDATE matches no row (StaleDataError), which is a 404, not a 500. (A DELETE racing a
    DELETE only warns in SQLAlchemy: the row is gone either way.)"""
    item = product()
    await seed(database, item)

    async with database.session() as session:
        repository = SQLAlchemyProductRepository(session)
        loaded = await repository.get(item.id)
        assert loaded is not None
        async with database.session() as racer, transaction(racer):
            await racer.delete(await racer.get(Product, item.id))

        async def patch() -> None:
            async with SQLAlchemyUnitOfWork(session):
                loaded.stock = 1
                await repository.update(loaded)

        with pytest.raises(NotFoundError, match="Product not found"):
            await patch()


async def test_find_filters_sorts_and_paginates(database: Database) -> None:
    await seed(
        database,
        *(
            product(
                name=f"Cable {i:02d}",
                price=Decimal(i),
                stock=i % 3,
                is_active=i % 2 == 0,
            )
            for i in range(1, 26)
        ),
        product(name="Monitor 100%", price=Decimal(300)),
    )

    async with database.session() as session:
        repository = SQLAlchemyProductRepository(session)

        page = await repository.find(
            ListQuery(
                page=2,
                size=5,
                filters=(Filter("name", FilterOp.CONTAINS, "cable"),),
                sort=(SortField("price", descending=True),),
            )
        )
        assert (page.total, page.pages, page.page, page.size) == (25, 5, 2, 5)
        assert [p.name for p in page.items] == [f"Cable {i:02d}" for i in range(20, 15, -1)]

        active_cheap = await repository.find(
            ListQuery(
                size=100,
                filters=(
                    Filter("is_active", FilterOp.EQ, True),
                    Filter("price", FilterOp.LE, Decimal(10)),
                    Filter("stock", FilterOp.IN, [0, 1]),
                ),
                sort=(SortField("price"),),
            )
        )
        assert [p.price for p in active_cheap.items] == [Decimal(4), Decimal(6), Decimal(10)]
        assert active_cheap.total == 3

        # `%` in user input is matched literally, not as a wildcard.
        literal = await repository.find(
            ListQuery(filters=(Filter("name", FilterOp.CONTAINS, "100%"),))
        )
        assert [p.name for p in literal.items] == ["Monitor 100%"]

        beyond = await repository.find(ListQuery(page=10, size=10))
        assert (beyond.items, beyond.total) == ([], 26)

        no_description = await repository.find(
            ListQuery(filters=(Filter("description", FilterOp.IS_NULL, True),), size=1)
        )
        assert no_description.total == 26


async def test_find_defaults_to_newest_first(database: Database) -> None:
    first, second = product(name="First"), product(name="Second")
    await seed(database, first)
    await seed(database, second)

    async with database.session() as session:
        page = await SQLAlchemyProductRepository(session).find(ListQuery())
    assert [p.name for p in page.items] == ["Second", "First"]


async def test_find_rejects_unknown_fields(session: AsyncSession) -> None:
    repository = SQLAlchemyProductRepository(session)
    with pytest.raises(InvalidQueryError):
        await repository.find(ListQuery(filters=(Filter("password", FilterOp.EQ, "x"),)))
    with pytest.raises(InvalidQueryError):
        await repository.find(ListQuery(sort=(SortField("__class__"),)))


async def test_exists_with_exclusion(database: Database) -> None:
    item = product(name="Unique")
    await seed(database, item)

    async with database.session() as session:
        repository = SQLAlchemyProductRepository(session)
        assert await repository.exists(name="Unique")
        assert not await repository.exists(name="Unique", exclude_id=item.id)
        assert not await repository.exists(name="Other")


async def test_error_inside_unit_of_work_rolls_back(database: Database) -> None:
    async def add_then_fail(session: AsyncSession) -> None:
        async with SQLAlchemyUnitOfWork(session):
            await SQLAlchemyProductRepository(session).add(product(name="Ghost"))
            raise RuntimeError("boom")

    async with database.session() as session:
        with pytest.raises(RuntimeError):
            await add_then_fail(session)

    async with database.session() as session:
        repository = SQLAlchemyProductRepository(session)
        assert not await repository.exists(name="Ghost")


async def test_unique_violation_is_a_conflict_and_rolls_back(database: Database) -> None:
    await seed(database, product(name="Taken"))

    async def add_two(session: AsyncSession) -> None:
        repository = SQLAlchemyProductRepository(session)
        async with SQLAlchemyUnitOfWork(session):
            await repository.add(product(name="Other"))
            await repository.add(product(name="Taken"))

    async with database.session() as session:
        with pytest.raises(ConflictError, match="uq_products_name"):
            await add_two(session)
        # The session is usable again after the rollback, and nothing was written.
        page = await SQLAlchemyProductRepository(session).find(ListQuery())
    assert [p.name for p in page.items] == ["Taken"]


async def test_session_close_discards_uncommitted_work(database: Database) -> None:
    async with database.session() as session:
        await SQLAlchemyProductRepository(session).add(product(name="Never committed"))

    async with database.session() as session:
        assert not await SQLAlchemyProductRepository(session).exists(name="Never committed")


async def test_ping(database: Database) -> None:
    await database.ping()
    assert database.safe_url.startswith("postgresql+asyncpg://")
