"""SupplierService unit tests with a mocked repository (generated, step 02)."""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from unittest.mock import AsyncMock
from uuid import UUID, uuid4

import pytest
from pydantic import ValidationError

from app.domain.exceptions import ConflictError, NotFoundError
from app.domain.models.supplier import Supplier
from app.domain.query import FilterOp, ListQuery, Page
from app.domain.repositories.supplier_repository import SupplierRepository
from app.domain.schemas.supplier import (
    SupplierCreate,
    SupplierListParams,
    SupplierUpdate,
)
from app.domain.unit_of_work import UnitOfWork
from app.service.supplier_service import SupplierService

CREATE_DATA: dict[str, Any] = {
    "name": "Sample name",
    "contact_email": "Sample contact email",
    "notes": "Sample notes",
    "lead_time_days": 10,
    "min_order_value": Decimal("19.99"),
    "is_preferred": True,
    "contract_start": date(2025, 1, 31),
    "last_audit_at": datetime(2025, 1, 31, 12, 0, tzinfo=UTC),
    "erp_id": UUID("00000000-0000-4000-8000-000000000001"),
    "terms": {"key": "value"},
    "rating": 1.5,
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
    repository = AsyncMock(spec=SupplierRepository)
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
) -> SupplierService:
    return SupplierService(repository, uow)


def make_supplier(**overrides: Any) -> Supplier:
    now = datetime.now(UTC)
    values = {"id": uuid4(), "created_at": now, "updated_at": now, **CREATE_DATA, **overrides}
    return Supplier(**values)


async def test_create_adds_entity_and_commits(
    service: SupplierService,
    repository: AsyncMock,
    uow: RecordingUnitOfWork,
) -> None:
    supplier = await service.create(SupplierCreate(**CREATE_DATA))

    repository.add.assert_awaited_once()
    for field, value in CREATE_DATA.items():
        assert getattr(supplier, field) == value
    assert (uow.commits, uow.rollbacks) == (1, 0)


async def test_get_returns_entity(
    service: SupplierService,
    repository: AsyncMock,
) -> None:
    supplier = make_supplier()
    repository.get.return_value = supplier

    assert await service.get(supplier.id) is supplier
    repository.get.assert_awaited_once_with(supplier.id)


async def test_get_missing_raises_not_found(
    service: SupplierService,
    repository: AsyncMock,
) -> None:
    repository.get.return_value = None
    with pytest.raises(NotFoundError):
        await service.get(uuid4())


async def test_find_delegates_to_repository(
    service: SupplierService,
    repository: AsyncMock,
) -> None:
    page = Page(items=[make_supplier()], total=1, page=1, size=20)
    repository.find.return_value = page
    query = ListQuery(page=1, size=20)

    assert await service.find(query) is page
    repository.find.assert_awaited_once_with(query)


async def test_update_applies_sent_fields_and_commits(
    service: SupplierService,
    repository: AsyncMock,
    uow: RecordingUnitOfWork,
) -> None:
    supplier = make_supplier()
    repository.get.return_value = supplier

    data = SupplierUpdate(**UPDATE_DATA)
    updated = await service.update(supplier.id, data)

    for field, value in UPDATE_DATA.items():
        assert getattr(updated, field) == value
    repository.update.assert_awaited_once_with(supplier)
    assert (uow.commits, uow.rollbacks) == (1, 0)


async def test_update_missing_rolls_back(
    service: SupplierService,
    repository: AsyncMock,
    uow: RecordingUnitOfWork,
) -> None:
    repository.get.return_value = None
    with pytest.raises(NotFoundError):
        await service.update(uuid4(), SupplierUpdate(**UPDATE_DATA))
    repository.update.assert_not_awaited()
    assert (uow.commits, uow.rollbacks) == (0, 1)


async def test_delete_removes_entity_and_commits(
    service: SupplierService,
    repository: AsyncMock,
    uow: RecordingUnitOfWork,
) -> None:
    supplier = make_supplier()
    repository.get.return_value = supplier

    await service.delete(supplier.id)

    repository.delete.assert_awaited_once_with(supplier)
    assert (uow.commits, uow.rollbacks) == (1, 0)


async def test_repository_error_rolls_back(
    service: SupplierService,
    repository: AsyncMock,
    uow: RecordingUnitOfWork,
) -> None:
    repository.add.side_effect = ConflictError("constraint violated")
    with pytest.raises(ConflictError):
        await service.create(SupplierCreate(**CREATE_DATA))
    assert (uow.commits, uow.rollbacks) == (0, 1)


async def test_create_rejects_duplicate_name(
    service: SupplierService,
    repository: AsyncMock,
    uow: RecordingUnitOfWork,
) -> None:
    repository.exists.return_value = True
    with pytest.raises(ConflictError, match="name"):
        await service.create(SupplierCreate(**CREATE_DATA))
    repository.add.assert_not_awaited()
    assert (uow.commits, uow.rollbacks) == (0, 1)


async def test_update_checks_name_against_other_rows(
    service: SupplierService,
    repository: AsyncMock,
) -> None:
    supplier = make_supplier()
    repository.get.return_value = supplier
    value = CREATE_DATA["name"]

    await service.update(supplier.id, SupplierUpdate(name=value))

    repository.exists.assert_awaited_once_with(
        exclude_id=supplier.id,
        name=value,
    )


def test_create_schema_rejects_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        SupplierCreate.model_validate({**CREATE_DATA, "unexpected": 1})


def test_update_schema_rejects_null_for_required_field() -> None:
    assert SupplierUpdate().changes() == {}
    with pytest.raises(ValidationError, match="may not be null"):
        SupplierUpdate(name=None)


def test_list_params_build_query() -> None:
    params = SupplierListParams(
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
        SupplierListParams(sort="no_such_field")
