"""v2 representations. Unlike the catalog-documented models of earlier steps, these
describe themselves: `Field(description=..., examples=[...])` is the way for new code."""

from typing import Any, Self

from pydantic import BaseModel, Field

from app.domain.query import Page
from app.domain.schemas.product import ProductRead


class PageMeta(BaseModel):
    """Where this page is in the whole result."""

    total: int = Field(description="Records matching the filters, on all pages.", examples=[42])
    page: int = Field(description="This page's number, from 1.", examples=[2])
    size: int = Field(description="Records per page (at most 100).", examples=[20])
    pages: int = Field(description="Number of pages for `total` at this `size`.", examples=[3])


class PageLinks(BaseModel):
    """Relative URLs of the neighbouring pages, with the same filters and sort."""

    self: str = Field(description="This page.", examples=["/api/v2/products?page=2&size=20"])
    first: str = Field(description="The first page.", examples=["/api/v2/products?page=1&size=20"])
    last: str = Field(description="The last page.", examples=["/api/v2/products?page=3&size=20"])
    prev: str | None = Field(
        description="The previous page; `null` on the first.",
        examples=["/api/v2/products?page=1&size=20"],
    )
    next: str | None = Field(
        description="The next page; `null` on the last.",
        examples=["/api/v2/products?page=3&size=20"],
    )


class ProductCollection(BaseModel):
    """A page of products (v2): records in `data`, paging in `meta`, navigation in `links`.

    v1 answered `{items, total, page, size, pages}`; v2 moves the counts into `meta` and
    adds `links`, so a client follows `links.next` instead of computing page numbers.
    """

    data: list[ProductRead] = Field(description="The products on this page.")
    meta: PageMeta = Field(description="Counts for the whole result.")
    links: PageLinks = Field(description="Where the other pages are.")

    @classmethod
    def from_page(cls, page: Page[Any], links: PageLinks) -> Self:
        return cls.model_validate(
            {
                "data": page.items,
                "meta": {
                    "total": page.total,
                    "page": page.page,
                    "size": page.size,
                    "pages": page.pages,
                },
                "links": links,
            },
            from_attributes=True,
        )
