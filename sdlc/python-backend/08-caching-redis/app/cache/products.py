"""Cache-aside for the product module, without editing a generated file.

The generated router builds its service in `get_product_service` (its composition
root) from parts it passes through the composition seam (`app/api/composition.py`).
The Redis extension registers `cached_product_parts` there for "product", so every
product route's service reads through a cached repository and commits through an
after-commit unit of work. Not a dependency override: tests that clear
`app.dependency_overrides` leave the cache on. Another module: a subclass like
`CachedProductRepository`, a decorator like `cached_product_parts`, one `decorate` call.
"""

from typing import cast

from fastapi import Request

from app.api import composition
from app.cache.cache import Cache
from app.cache.repository import AfterCommitUnitOfWork, CachedRepository
from app.domain.models.product import Product
from app.domain.repositories.product_repository import ProductRepository
from app.domain.schemas.product import ProductPage, ProductRead

MODULE = "product"  # the generated module whose service this decorates
NAMESPACE = "product"

ProductParts = composition.Parts[ProductRepository]


class CachedProductRepository(CachedRepository[Product, ProductRead], ProductRepository):
    """The product port, cached (the port's own queries would be delegated here too)."""


def cached_product_parts(request: Request, parts: ProductParts) -> ProductParts:
    """The product service's parts, cached (unchanged while the cache is off)."""
    cache = cast(Cache | None, getattr(request.app.state, "cache", None))
    if cache is None or not cache.enabled:
        return parts
    transaction = AfterCommitUnitOfWork(parts.uow)
    cached = CachedProductRepository(
        parts.repository,
        namespace=cache.namespace(NAMESPACE),
        uow=transaction,
        entity_type=Product,
        read_schema=ProductRead,
        page_schema=ProductPage,
    )
    return composition.Parts(cached, transaction)
