"""Query builder: translate `ListQuery` filters/sorting/pagination into SQLAlchemy.

Only mapped columns of the model can be filtered or sorted on (anything else raises
`InvalidQueryError`), so user input never reaches `getattr` on arbitrary attributes.
"""

from collections.abc import Callable, Collection, Iterable
from typing import Any

from sqlalchemy import ColumnElement, Select, func, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.domain.exceptions import InvalidQueryError
from app.domain.query import Filter, FilterOp, Page, SortField


def _in(column: InstrumentedAttribute[Any], value: object) -> ColumnElement[bool]:
    if isinstance(value, str) or not isinstance(value, Collection):
        msg = "the 'in' filter needs a list of values"
        raise InvalidQueryError(msg)
    return column.in_(value)


def _contains(column: InstrumentedAttribute[Any], value: object) -> ColumnElement[bool]:
    return column.icontains(str(value), autoescape=True)  # % and _ match literally


def _is_null(column: InstrumentedAttribute[Any], value: object) -> ColumnElement[bool]:
    return column.is_(None) if value else column.is_not(None)


OPERATORS: dict[FilterOp, Callable[[InstrumentedAttribute[Any], object], ColumnElement[bool]]] = {
    FilterOp.EQ: lambda column, value: column == value,
    FilterOp.NE: lambda column, value: column != value,
    FilterOp.LT: lambda column, value: column < value,
    FilterOp.LE: lambda column, value: column <= value,
    FilterOp.GT: lambda column, value: column > value,
    FilterOp.GE: lambda column, value: column >= value,
    FilterOp.IN: _in,
    FilterOp.CONTAINS: _contains,
    FilterOp.IS_NULL: _is_null,
}


def column_for(model: type[Any], field: str) -> InstrumentedAttribute[Any]:
    """The mapped column attribute `model.<field>`, or `InvalidQueryError`."""
    if field not in inspect(model).column_attrs:
        msg = f"unknown field {field!r} for {model.__name__}"
        raise InvalidQueryError(msg)
    attribute: InstrumentedAttribute[Any] = getattr(model, field)
    return attribute


def apply_filters[S: Select[Any]](stmt: S, model: type[Any], filters: Iterable[Filter]) -> S:
    for item in filters:
        stmt = stmt.where(OPERATORS[item.op](column_for(model, item.field), item.value))
    return stmt


def apply_sorting[S: Select[Any]](stmt: S, model: type[Any], sort: Iterable[SortField]) -> S:
    """ORDER BY the requested fields, then the primary key: pages stay stable even when
    the sort key has duplicates."""
    order: list[ColumnElement[Any]] = []
    used: set[str] = set()
    for item in sort:
        column = column_for(model, item.field)
        order.append(column.desc() if item.descending else column.asc())
        used.add(item.field)
    for key in inspect(model).primary_key:
        if key.key not in used:
            order.append(key.asc())
    return stmt.order_by(*order)


async def paginate[T](session: AsyncSession, stmt: Select[Any], *, page: int, size: int) -> Page[T]:
    """Run one page of `stmt` plus a COUNT(*) of the whole (unordered) result."""
    offset = (page - 1) * size
    items = list((await session.scalars(stmt.limit(size).offset(offset))).all())
    if offset == 0 and len(items) < size:
        total = len(items)  # everything fits on the first page: no COUNT needed
    else:
        count = select(func.count()).select_from(stmt.order_by(None).subquery())
        total = (await session.scalar(count)) or 0
    return Page(items=items, total=total, page=page, size=size)
