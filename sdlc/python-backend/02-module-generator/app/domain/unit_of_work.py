"""The transaction port used by services.

    async with self._uow:          # begin
        ...                        # repository calls
                                   # commit on success, rollback on any exception

Nested `async with` blocks belong to the outer one: only the outermost block commits, so
a service can call another service without splitting the transaction. A database-backed
implementation makes each nested block a SAVEPOINT (`SQLAlchemyUnitOfWork`, step 03): a
nested block that fails rolls back only its own writes.
"""

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self


class UnitOfWork(ABC):
    def __init__(self) -> None:
        self._depth = 0

    async def __aenter__(self) -> Self:
        self._depth += 1
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._depth -= 1
        if self._depth:
            return
        if exc_type is not None:
            await self.rollback()
            return
        try:
            await self.commit()
        except BaseException:
            await self.rollback()
            raise

    @abstractmethod
    async def commit(self) -> None: ...

    @abstractmethod
    async def rollback(self) -> None: ...
