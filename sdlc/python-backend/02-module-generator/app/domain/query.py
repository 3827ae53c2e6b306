"""Listing vocabulary shared by every module: filters, sorting, pages.

Plain dataclasses: the service and repository ports speak this language; the SQL
translation lives in `app.utils.query` (step 03).
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from app.domain.exceptions import InvalidQueryError

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class FilterOp(StrEnum):
    EQ = "eq"
    NE = "ne"
    LT = "lt"
    LE = "le"
    GT = "gt"
    GE = "ge"
    IN = "in"
    CONTAINS = "contains"  # case-insensitive substring
    IS_NULL = "is_null"  # value: True (IS NULL) or False (IS NOT NULL)


@dataclass(frozen=True, slots=True)
class Filter:
    field: str
    op: FilterOp
    value: object


@dataclass(frozen=True, slots=True)
class SortField:
    field: str
    descending: bool = False

    @classmethod
    def parse(cls, spec: str) -> tuple["SortField", ...]:
        """`"-price,name"` → price descending, then name ascending."""
        fields = []
        for raw in spec.split(","):
            item = raw.strip()
            if not item:
                continue
            descending = item.startswith("-")
            name = item.lstrip("+-").strip()
            if not name:
                msg = f"invalid sort field {raw!r}"
                raise InvalidQueryError(msg)
            fields.append(cls(name, descending))
        return tuple(fields)


@dataclass(frozen=True, slots=True)
class ListQuery:
    page: int = 1
    size: int = DEFAULT_PAGE_SIZE
    filters: tuple[Filter, ...] = ()
    sort: tuple[SortField, ...] = ()

    def __post_init__(self) -> None:
        if self.page < 1:
            msg = "page must be >= 1"
            raise InvalidQueryError(msg)
        if not 1 <= self.size <= MAX_PAGE_SIZE:
            msg = f"size must be between 1 and {MAX_PAGE_SIZE}"
            raise InvalidQueryError(msg)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size


@dataclass(frozen=True, slots=True)
class Page[T]:
    items: Sequence[T]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return math.ceil(self.total / self.size) if self.size else 0
