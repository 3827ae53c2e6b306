"""Generic SQLAlchemy implementation of the `Repository` port."""

from typing import Any, ClassVar
from uuid import UUID

from sqlalchemy import exists, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from app.domain.base import Base
from app.domain.exceptions import ConflictError, NotFoundError
from app.domain.query import ListQuery, Page, SortField
from app.domain.repositories.base import Repository
from app.utils.query import apply_filters, apply_sorting, column_for, paginate


class SQLAlchemyRepository[EntityT: Base](Repository[EntityT]):
    """Subclasses set `model`. Writes are flushed, never committed."""

    model: type[EntityT]
    default_sort: ClassVar[tuple[SortField, ...]] = (SortField("created_at", descending=True),)

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, entity_id: UUID) -> EntityT | None:
        return await self.session.get(self.model, entity_id)

    async def find(self, query: ListQuery) -> Page[EntityT]:
        stmt = apply_filters(select(self.model), self.model, query.filters)
        sort = query.sort or self._default_sort()
        stmt = apply_sorting(stmt, self.model, sort)
        return await paginate(self.session, stmt, page=query.page, size=query.size)

    async def add(self, entity: EntityT) -> EntityT:
        self.session.add(entity)
        await self._flush()
        return entity

    async def update(self, entity: EntityT) -> EntityT:
        await self._flush()
        return entity

    async def delete(self, entity: EntityT) -> None:
        await self.session.delete(entity)
        await self._flush()

    async def exists(self, *, exclude_id: UUID | None = None, **criteria: object) -> bool:
        conditions = [column_for(self.model, field) == value for field, value in criteria.items()]
        if exclude_id is not None:
            [primary_key] = inspect(self.model).primary_key
            conditions.append(primary_key != exclude_id)
        return bool(await self.session.scalar(select(exists().where(*conditions))))

    def _default_sort(self) -> tuple[SortField, ...]:
        columns = inspect(self.model).column_attrs
        return tuple(item for item in self.default_sort if item.field in columns)

    async def _flush(self) -> None:
        """Flush now, so constraint violations surface as domain errors here."""
        try:
            await self.session.flush()
        except IntegrityError as exc:
            constraint = _constraint_name(exc)
            detail = f" ({constraint})" if constraint else ""
            msg = f"{self.model.__name__} conflicts with existing data{detail}"
            raise ConflictError(msg) from exc
        except StaleDataError as exc:
            # The UPDATE matched no row: another request deleted it after we read it.
            msg = f"{self.model.__name__} not found"
            raise NotFoundError(msg) from exc


def _constraint_name(exc: IntegrityError) -> str | None:
    # asyncpg's exception (the DBAPI error's cause) names the violated constraint.
    cause: Any = getattr(exc.orig, "__cause__", None)
    name = getattr(cause, "constraint_name", None)
    return name if isinstance(name, str) else None
