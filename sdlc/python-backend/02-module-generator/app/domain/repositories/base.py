"""The generic repository port. Each module's port extends it (`ProductRepository`)."""

from abc import ABC, abstractmethod
from uuid import UUID

from app.domain.query import ListQuery, Page


class Repository[EntityT](ABC):
    """Collection-like access to one entity type. Implementations never commit:
    the service's unit of work decides when a transaction ends."""

    @abstractmethod
    async def get(self, entity_id: UUID) -> EntityT | None: ...

    @abstractmethod
    async def find(self, query: ListQuery) -> Page[EntityT]:
        """Filtered, sorted page of entities plus the total count."""

    @abstractmethod
    async def add(self, entity: EntityT) -> EntityT:
        """Stage a new entity (flushed: constraint violations surface here)."""

    @abstractmethod
    async def update(self, entity: EntityT) -> EntityT:
        """Flush changes made to a loaded entity."""

    @abstractmethod
    async def delete(self, entity: EntityT) -> None: ...

    @abstractmethod
    async def exists(self, *, exclude_id: UUID | None = None, **criteria: object) -> bool:
        """Whether an entity matches every `field=value` in `criteria` (except `exclude_id`)."""
