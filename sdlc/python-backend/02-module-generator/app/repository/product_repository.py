"""SQLAlchemy implementation of `ProductRepository` (generated, step 02)."""

from app.domain.models.product import Product
from app.domain.repositories.product_repository import ProductRepository
from app.repository.sqlalchemy import SQLAlchemyRepository


class SQLAlchemyProductRepository(
    SQLAlchemyRepository[Product],
    ProductRepository,
):
    model = Product
