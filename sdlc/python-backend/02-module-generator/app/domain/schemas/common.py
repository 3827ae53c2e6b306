"""Schemas shared by every module: list query parameters, page envelope, PATCH base."""

from collections.abc import Mapping
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.domain.exceptions import InvalidQueryError
from app.domain.query import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    Filter,
    FilterOp,
    ListQuery,
    Page,
    SortField,
)


class ListParams(BaseModel):
    """Query string of a list endpoint: `?page=2&size=20&sort=-created_at,name&<filters>`.

    Subclasses declare their filter parameters as optional fields and map each one to
    `(entity field, operator)` in `filter_map`; `sortable` lists the sort keys allowed.
    """

    model_config = ConfigDict(extra="forbid")

    sortable: ClassVar[tuple[str, ...]] = ("created_at", "updated_at")
    filter_map: ClassVar[Mapping[str, tuple[str, FilterOp]]] = {}

    page: int = Field(default=1, ge=1)
    size: int = Field(default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    sort: str | None = Field(
        default=None,
        description="Comma-separated fields; prefix with '-' for descending.",
        examples=["-created_at"],
    )

    @field_validator("sort")
    @classmethod
    def _check_sort(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            fields = SortField.parse(value)
        except InvalidQueryError as exc:
            raise ValueError(exc.message) from exc
        unknown = sorted({item.field for item in fields}.difference(cls.sortable))
        if unknown:
            allowed = ", ".join(sorted(cls.sortable))
            msg = f"cannot sort by {', '.join(unknown)}; allowed: {allowed}"
            raise ValueError(msg)
        return value

    def to_query(self) -> ListQuery:
        filters = tuple(
            Filter(field, op, value)
            for param, (field, op) in self.filter_map.items()
            if (value := getattr(self, param)) is not None
        )
        sort = SortField.parse(self.sort) if self.sort else ()
        return ListQuery(page=self.page, size=self.size, filters=filters, sort=sort)


class PageResponse[ItemT: BaseModel](BaseModel):
    items: list[ItemT]
    total: int
    page: int
    size: int
    pages: int

    @classmethod
    def from_page(cls, page: Page[Any]) -> Self:
        """Build the response from a domain page of entities (read via attributes)."""
        return cls.model_validate(
            {
                "items": page.items,
                "total": page.total,
                "page": page.page,
                "size": page.size,
                "pages": page.pages,
            },
            from_attributes=True,
        )


class UpdateSchema(BaseModel):
    """Base for PATCH bodies: every field optional, only the fields sent are applied.

    `not_nullable` names the fields that may be omitted but not set to `null`.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    not_nullable: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _reject_null_for_required(self) -> Self:
        nulls = [
            name
            for name in self.not_nullable
            if name in self.model_fields_set and getattr(self, name) is None
        ]
        if nulls:
            msg = f"may not be null: {', '.join(nulls)}"
            raise ValueError(msg)
        return self

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, with their validated values."""
        return self.model_dump(exclude_unset=True)
