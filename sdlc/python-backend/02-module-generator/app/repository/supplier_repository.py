"""SQLAlchemy implementation of `SupplierRepository` (generated, step 02)."""

from app.domain.models.supplier import Supplier
from app.domain.repositories.supplier_repository import SupplierRepository
from app.repository.sqlalchemy import SQLAlchemyRepository


class SQLAlchemySupplierRepository(
    SQLAlchemyRepository[Supplier],
    SupplierRepository,
):
    model = Supplier
