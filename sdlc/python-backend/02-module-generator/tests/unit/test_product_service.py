"""ProductService unit tests with a mocked repository (generated, step 02)."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from unittest.mock import AsyncMock
from uuid import uuid4

import pytest
from pydantic import ValidationError

from app.domain.exceptions import ConflictError, NotFoundError
from app.domain.models.product import Product
from app.domain.query import FilterOp, ListQuery, Page
from app.domain.repositories.product_repository import ProductRepository
from app.domain.schemas.product import (
    ProductCreate,
    ProductListParams,
    ProductUpdate,
)
from app.domain.unit_of_work import UnitOfWork
from app.service.product_service import ProductService

CREATE_DATA: dict[str, Any] = {
    "name": "Sample name",
    "description": "Sample description",
    "price": Decimal("19.99"),
    "stock": 10,
    "is_active": True,
}

UPDATE_DATA: dict[str, Any] = {
    "name": "Updated name",
}


class RecordingUnitOfWork(UnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.commits = 0
        self.rollbacks = 0

    async def commit(self) -> None:
        self.commits += 1

    async def rollback(self) -> None:
        self.rollbacks += 1


@pytest.fixture
def repository() -> AsyncMock:
    repository = AsyncMock(spec=ProductRepository)
    repository.exists.return_value = False
    repository.add.side_effect = lambda entity: entity
    repository.update.side_effect = lambda entity: entity
    return repository


@pytest.fixture
def uow() -> RecordingUnitOfWork:
    return RecordingUnitOfWork()


@pytest.fixture
def service(
    repository: AsyncMock,
    uow: RecordingUnitOfWork,
) -> ProductService:
    return ProductService(repository, uow)


def make_product(**overrides: Any) -> Product:
    now = datetime.now(UTC)
    values = {"id": uuid4(), "created_at": now, "updated_at": now, **CREATE_DATA, **overrides}
    return Product(**values)


async def test_create_adds_entity_and_commits(
    service: ProductService,
    repository: AsyncMock,
    uow: RecordingUnitOfWork,
) -> None:
    product = await service.create(ProductCreate(**CREATE_DATA))

    repository.add.assert_awaited_once()
    for field, value in CREATE_DATA.items():
        assert getattr(product, field) == value
    assert (uow.commits, uow.rollbacks) == (1, 0)


async def test_get_returns_entity(
    service: ProductService,
    repository: AsyncMock,
) -> None:
    product = make_product()
    repository.get.return_value = product

    assert await service.get(product.id) is product
    repository.get.assert_awaited_once_with(product.id)


async def test_get_missing_raises_not_found(
    service: ProductService,
    repository: AsyncMock,
) -> None:
    repository.get.return_value = None
    with pytest.raises(NotFoundError):
        await service.get(uuid4())


async def test_find_delegates_to_repository(
    service: ProductService,
    repository: AsyncMock,
) -> None:
    page = Page(items=[make_product()], total=1, page=1, size=20)
    repository.find.return_value = page
    query = ListQuery(page=1, size=20)

    assert await service.find(query) is page
    repository.find.assert_awaited_once_with(query)


async def test_update_applies_sent_fields_and_commits(
    service: ProductService,
    repository: AsyncMock,
    uow: RecordingUnitOfWork,
) -> None:
    product = make_product()
    repository.get.return_value = product

    data = ProductUpdate(**UPDATE_DATA)
    updated = await service.update(product.id, data)

    for field, value in UPDATE_DATA.items():
        assert getattr(updated, field) == value
    repository.update.assert_awaited_once_with(product)
    assert (uow.commits, uow.rollbacks) == (1, 0)


async def test_update_missing_rolls_back(
    service: ProductService,
    repository: AsyncMock,
    uow: RecordingUnitOfWork,
) -> None:
    repository.get.return_value = None
    with pytest.raises(NotFoundError):
        await service.update(uuid4(), ProductUpdate(**UPDATE_DATA))
    repository.update.assert_not_awaited()
    assert (uow.commits, uow.rollbacks) == (0, 1)


async def test_delete_removes_entity_and_commits(
    service: ProductService,
    repository: AsyncMock,
    uow: RecordingUnitOfWork,
) -> None:
    product = make_product()
    repository.get.return_value = product

    await service.delete(product.id)

    repository.delete.assert_awaited_once_with(product)
    assert (uow.commits, uow.rollbacks) == (1, 0)


async def test_repository_error_rolls_back(
    service: ProductService,
    repository: AsyncMock,
    uow: RecordingUnitOfWork,
) -> None:
    repository.add.side_effect = ConflictError("constraint violated")
    with pytest.raises(ConflictError):
        await service.create(ProductCreate(**CREATE_DATA))
    assert (uow.commits, uow.rollbacks) == (0, 1)


async def test_create_rejects_duplicate_name(
    service: ProductService,
    repository: AsyncMock,
    uow: RecordingUnitOfWork,
) -> None:
    repository.exists.return_value = True
    with pytest.raises(ConflictError, match="name"):
        await service.create(ProductCreate(**CREATE_DATA))
    repository.add.assert_not_awaited()
    assert (uow.commits, uow.rollbacks) == (0, 1)


async def test_update_checks_name_against_other_rows(
    service: ProductService,
    repository: AsyncMock,
) -> None:
    product = make_product()
    repository.get.return_value = product
    value = CREATE_DATA["name"]

    await service.update(product.id, ProductUpdate(name=value))

    repository.exists.assert_awaited_once_with(
        exclude_id=product.id,
        name=value,
    )


def test_create_schema_rejects_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        ProductCreate.model_validate({**CREATE_DATA, "unexpected": 1})


def test_update_schema_rejects_null_for_required_field() -> None:
    assert ProductUpdate().changes() == {}
    with pytest.raises(ValidationError, match="may not be null"):
        ProductUpdate(name=None)


def test_list_params_build_query() -> None:
    params = ProductListParams(
        page=2,
        size=5,
        sort="-created_at",
        name="x",
    )
    query = params.to_query()

    assert (query.page, query.size, query.offset) == (2, 5, 5)
    assert [(s.field, s.descending) for s in query.sort] == [("created_at", True)]
    assert [(f.field, f.op) for f in query.filters] == [("name", FilterOp.CONTAINS)]


def test_list_params_reject_unknown_sort_field() -> None:
    with pytest.raises(ValidationError, match="cannot sort by"):
        ProductListParams(sort="no_such_field")
