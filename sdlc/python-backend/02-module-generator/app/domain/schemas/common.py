"""Schemas shared by every module: field types, list query parameters, page envelope,
PATCH base.

The field types say what the database can store, so bad client input is a 422 instead
of a database error (500): integers within the column's range, finite numbers, no NUL
characters (PostgreSQL text cannot hold them), timezone-aware datetimes stored in UTC,
decimals returned with the column's scale (`"7"` is stored and answered as `"7.00"`).
"""

import datetime
import decimal
import math
from typing import Annotated, Any, ClassVar, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    field_validator,
    model_validator,
)

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

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
MAX_PAGE = INT32_MAX  # keeps OFFSET (page - 1) * size far inside PostgreSQL's BIGINT
MAX_JSON_DEPTH = 32

FilterMap = dict[str, tuple[str, FilterOp]]


def storable_text(value: str) -> str:
    """`value`, if PostgreSQL can store it as text: no NUL, and valid UTF-8 (a lone
    surrogate such as JSON's `"\\ud800"` has no UTF-8 form)."""
    if "\x00" in value:
        msg = "must not contain NUL characters"
        raise ValueError(msg)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        msg = "must be valid Unicode (no unpaired surrogates)"
        raise ValueError(msg) from None
    return value


def _to_utc(value: datetime.datetime) -> datetime.datetime:
    try:
        return value.astimezone(datetime.UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is a moment before year 1 in UTC
        msg = "is outside the range of datetimes (years 1 to 9999 in UTC)"
        raise ValueError(msg) from None


def _check_json(value: object, depth: int = 0) -> None:
    if depth > MAX_JSON_DEPTH:
        msg = f"is nested deeper than {MAX_JSON_DEPTH} levels"
        raise ValueError(msg)
    if isinstance(value, str):
        storable_text(value)
    elif isinstance(value, float) and not math.isfinite(value):
        msg = "must not contain NaN or Infinity"
        raise ValueError(msg)
    elif isinstance(value, dict):
        for key, item in value.items():
            storable_text(key)
            _check_json(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_json(item, depth + 1)


def _valid_json(value: dict[str, Any]) -> dict[str, Any]:
    _check_json(value)
    return value


# Every string that reaches PostgreSQL (bodies and filters, of any step) is `Text`.
Text = Annotated[str, AfterValidator(storable_text)]
Email = Annotated[EmailStr, AfterValidator(storable_text)]
Int32 = Annotated[int, Field(ge=-INT32_MAX - 1, le=INT32_MAX)]
Int64 = Annotated[int, Field(ge=-INT64_MAX - 1, le=INT64_MAX)]
Float = Annotated[float, Field(allow_inf_nan=False)]
Numeric = Annotated[decimal.Decimal, Field(allow_inf_nan=False)]
# Naive datetimes are rejected (422): the server cannot guess the client's zone.
Timestamp = Annotated[AwareDatetime, AfterValidator(_to_utc)]
JsonObject = Annotated[dict[str, Any], AfterValidator(_valid_json)]


class ListParams(BaseModel):
    """Query string of a list endpoint: `?page=2&size=20&sort=-created_at,name&<filters>`.

    Subclasses declare their filter parameters as optional fields and map each one to
    `(entity field, operator)` in `FILTERS`; `SORTABLE` lists the sort keys allowed.
    Class-level settings are UPPER_CASE, so no (snake_case) field can replace them.
    """

    model_config = ConfigDict(extra="forbid")

    SORTABLE: ClassVar[tuple[str, ...]] = ("created_at",)
    FILTERS: ClassVar[FilterMap] = {}

    page: int = Field(default=1, ge=1, le=MAX_PAGE)
    size: int = Field(default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    sort: str | None = Field(
        default=None,
        max_length=500,
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
        unknown = sorted({item.field for item in fields}.difference(cls.SORTABLE))
        if unknown:
            allowed = ", ".join(sorted(cls.SORTABLE))
            msg = f"cannot sort by {', '.join(unknown)}; allowed: {allowed}"
            raise ValueError(msg)
        return value


def list_query(params: ListParams) -> ListQuery:
    """The domain query for validated list parameters."""
    filters = tuple(
        Filter(name, op, value)
        for param, (name, op) in params.FILTERS.items()
        if (value := getattr(params, param)) is not None
    )
    sort = SortField.parse(params.sort) if params.sort else ()
    return ListQuery(page=params.page, size=params.size, filters=filters, sort=sort)


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


class InputSchema(BaseModel):
    """Base for request bodies: unknown fields are refused, text is stripped, and each
    decimal is padded to its field's `decimal_places`, as the database will store it
    (`"7"` becomes `7.00`), so the response equals what a later GET reads."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="after")
    def _pad_decimals(self) -> Self:
        for name, info in type(self).model_fields.items():
            value = getattr(self, name)
            places = [
                item.decimal_places
                for item in info.metadata
                if getattr(item, "decimal_places", None) is not None
            ]
            if isinstance(value, decimal.Decimal) and places:
                setattr(self, name, value.quantize(decimal.Decimal(1).scaleb(-places[0])))
        return self


class UpdateSchema(InputSchema):
    """Base for PATCH bodies: every field optional, only the fields sent are applied
    (`model_dump(exclude_unset=True)`).

    `NOT_NULLABLE` names the fields that may be omitted but not set to `null`.
    """

    NOT_NULLABLE: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _reject_null_for_required(self) -> Self:
        nulls = [
            name
            for name in self.NOT_NULLABLE
            if name in self.model_fields_set and getattr(self, name) is None
        ]
        if nulls:
            msg = f"may not be null: {', '.join(nulls)}"
            raise ValueError(msg)
        return self
