"""Data access for `stored_files` (SQLAlchemy, flush-only: the service commits)."""

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.models.stored_file import FileStatus, StoredFile


class StoredFileRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, stored: StoredFile) -> StoredFile:
        self.session.add(stored)
        await self.session.flush()
        return stored

    async def get(self, file_id: uuid.UUID) -> StoredFile | None:
        return await self.session.get(StoredFile, file_id)

    async def page(
        self, *, owner_id: uuid.UUID | None, limit: int, offset: int
    ) -> tuple[Sequence[StoredFile], int]:
        """Ready files, newest first; `owner_id=None` means every owner's."""
        query = select(StoredFile).where(StoredFile.status == FileStatus.READY.value)
        if owner_id is not None:
            query = query.where(StoredFile.owner_id == owner_id)
        total = await self.session.scalar(select(func.count()).select_from(query.subquery()))
        rows = await self.session.scalars(
            query.order_by(StoredFile.created_at.desc(), StoredFile.id).limit(limit).offset(offset)
        )
        return rows.all(), total or 0

    async def remove(self, stored: StoredFile) -> None:
        await self.session.execute(delete(StoredFile).where(StoredFile.id == stored.id))

    async def existing_ids(self, ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        """Which of `ids` have a row (any status): the orphan test of cleanup."""
        if not ids:
            return set()
        found = await self.session.scalars(select(StoredFile.id).where(StoredFile.id.in_(ids)))
        return set(found)

    async def ready(self, *, after: uuid.UUID | None, limit: int) -> Sequence[StoredFile]:
        """Ready rows in id order, one batch after `after` (keyset pagination)."""
        query = select(StoredFile).where(StoredFile.status == FileStatus.READY.value)
        if after is not None:
            query = query.where(StoredFile.id > after)
        rows = await self.session.scalars(query.order_by(StoredFile.id).limit(limit))
        return rows.all()

    async def stale_pending(self, *, before: datetime) -> Sequence[StoredFile]:
        rows = await self.session.scalars(
            select(StoredFile)
            .where(StoredFile.status == FileStatus.PENDING.value, StoredFile.created_at < before)
            .order_by(StoredFile.created_at)
        )
        return rows.all()
