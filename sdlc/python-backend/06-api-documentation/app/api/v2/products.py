"""`GET /api/v2/products`: the v1 list with a new envelope (see `ProductCollection`).

Same service, same filters, same sort as v1: only the representation is new, so both
versions read one implementation and cannot drift apart in behaviour.
"""

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request

from app.api.v1.endpoints.product import ServiceDep
from app.api.v2.schemas import PageLinks, ProductCollection
from app.domain.schemas import common
from app.domain.schemas.product import ProductListParams

router = APIRouter(prefix="/products", tags=["products"])


def _link(request: Request, page: int) -> str:
    """This request's URL (path and query) for another page; other parameters kept."""
    kept = [(key, value) for key, value in request.query_params.multi_items() if key != "page"]
    return f"{request.url.path}?{urlencode([('page', str(page)), *kept])}"


@router.get("", summary="List products (v2)")
async def list_products(
    params: Annotated[ProductListParams, Query()],
    service: ServiceDep,
    request: Request,
) -> ProductCollection:
    """Products, filtered and sorted as in v1, with `meta` counts and `links`."""
    page = await service.find(common.list_query(params))
    last = max(page.pages, 1)
    links = PageLinks(
        self=_link(request, page.page),
        first=_link(request, 1),
        last=_link(request, last),
        prev=_link(request, page.page - 1) if page.page > 1 else None,
        next=_link(request, page.page + 1) if page.page < last else None,
    )
    return ProductCollection.from_page(page, links)
