"""Cache-aside around any repository port, invalidated after the transaction commits.

`CachedRepository` wraps the port a service already uses; the service does not change.

- Reads outside a transaction (`get`, `find`) go through the cache: the stored form is
  the module's read schema (`ProductRead`, `ProductPage`), and each caller gets a fresh,
  *transient* entity built from it — never an object of another request's session.
- Reads inside a transaction (`async with uow:` — an update loads the entity it changes)
  go to the database: the write needs the session's own, current row.
- Every write registers an invalidation (`Namespace.bump`) that runs only **after** the
  outermost transaction commits. A rolled-back write invalidates nothing; a reader
  between commit and invalidation can see the old value for that moment, never longer.
"""

import hashlib
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Self
from uuid import UUID

from pydantic import BaseModel, TypeAdapter

from app.cache.cache import Namespace
from app.domain.base import Base
from app.domain.query import ListQuery, Page
from app.domain.repositories.base import Repository
from app.domain.schemas.common import PageResponse
from app.domain.unit_of_work import UnitOfWork

AfterCommit = Callable[[], Awaitable[None]]


class AfterCommitUnitOfWork(UnitOfWork):
    """A unit of work around another that runs callbacks once the outermost block commits."""

    def __init__(self, inner: UnitOfWork) -> None:
        super().__init__()
        self._inner = inner
        self._after_commit: list[AfterCommit] = []

    @property
    def active(self) -> bool:
        """Inside `async with` (a transaction is open)."""
        return self._depth > 0

    def after_commit(self, callback: AfterCommit) -> None:
        if callback not in self._after_commit:
            self._after_commit.append(callback)

    async def __aenter__(self) -> Self:
        await self._inner.__aenter__()
        self._depth += 1
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._depth -= 1
        outermost = self._depth == 0
        try:
            await self._inner.__aexit__(exc_type, exc, traceback)  # commits or rolls back
        except BaseException:
            if outermost:
                self._after_commit.clear()  # the commit failed: nothing was written
            raise
        if not outermost:
            return
        callbacks, self._after_commit = self._after_commit, []
        if exc_type is None:  # committed
            for callback in callbacks:
                await callback()

    async def commit(self) -> None:
        await self._inner.commit()

    async def rollback(self) -> None:
        await self._inner.rollback()


def query_digest(query: ListQuery) -> str:
    """A stable key for one list request (filters, sort, page, size)."""
    return hashlib.sha256(repr(query).encode()).hexdigest()[:32]


class CachedRepository[EntityT: Base, ReadT: BaseModel](Repository[EntityT]):
    def __init__(
        self,
        inner: Repository[EntityT],
        *,
        namespace: Namespace,
        uow: AfterCommitUnitOfWork,
        entity_type: type[EntityT],
        read_schema: type[ReadT],
        page_schema: type[PageResponse[ReadT]],
    ) -> None:
        self._inner = inner
        self._namespace = namespace
        self._uow = uow
        self._entity_type = entity_type
        self._read_schema = read_schema
        self._item = TypeAdapter(read_schema)
        self._page = TypeAdapter(page_schema)
        self._page_schema = page_schema

    async def get(self, entity_id: UUID) -> EntityT | None:
        if self._uow.active:
            return await self._inner.get(entity_id)

        async def load() -> ReadT | None:
            entity = await self._inner.get(entity_id)
            return None if entity is None else self._read_schema.model_validate(entity)

        data = await self._namespace.get_or_load(f"id:{entity_id}", self._item, load)
        return None if data is None else self._entity(data)

    async def find(self, query: ListQuery) -> Page[EntityT]:
        if self._uow.active:
            return await self._inner.find(query)

        async def load() -> PageResponse[ReadT]:
            return self._page_schema.from_page(await self._inner.find(query))

        data = await self._namespace.get_or_load(f"list:{query_digest(query)}", self._page, load)
        if data is None:  # pragma: no cover - load never returns None
            return await self._inner.find(query)
        items = [self._entity(item) for item in data.items]
        return Page(items=items, total=data.total, page=data.page, size=data.size)

    # Writes: the invalidation is registered first, so it runs after a commit even when
    # the flush happens later; a rollback drops it.
    async def add(self, entity: EntityT) -> EntityT:
        self._uow.after_commit(self._namespace.bump)
        return await self._inner.add(entity)

    async def update(self, entity: EntityT) -> EntityT:
        self._uow.after_commit(self._namespace.bump)
        return await self._inner.update(entity)

    async def delete(self, entity: EntityT) -> None:
        self._uow.after_commit(self._namespace.bump)
        await self._inner.delete(entity)

    async def exists(self, *, exclude_id: UUID | None = None, **criteria: object) -> bool:
        return await self._inner.exists(exclude_id=exclude_id, **criteria)

    def _entity(self, data: ReadT) -> EntityT:
        """A transient entity (in no session) with the cached column values."""
        entity = self._entity_type()
        for name, value in data.model_dump().items():
            setattr(entity, name, value)
        return entity
