"""Cleanup: orphaned objects, rows whose objects vanished, abandoned uploads.

Safe to run while uploads are in flight, because of the upload protocol (see
`app.storage.service`): a row exists (committed) *before* the first byte is stored, and
a delete removes the row *before* the objects. So:

- an object is an orphan only if no row of any status names its id — listed first,
  looked up after, so a row committed before the object existed is always seen; and
  objects younger than `CLEANUP_GRACE_SECONDS` are left alone on top of that;
- a `ready` row whose original is missing lost it for good (a row turns ready only
  after its objects were stored and verified);
- a `pending` row older than `UPLOAD_PENDING_TTL_SECONDS` belongs to an upload that
  died (process killed mid-upload): its objects and the row go, and so do incomplete
  multipart uploads (S3) or `.incoming/` files (local) older than that.
"""

import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

from loguru import logger

from app.core.database import Database, transaction
from app.domain.models.stored_file import FileStatus
from app.domain.storage import ObjectStorage
from app.storage.config import StorageSettings
from app.storage.repository import StoredFileRepository
from app.storage.service import KEY_PREFIX, parse_key

BATCH = 500


@dataclass
class CleanupReport:
    dry_run: bool
    orphaned_objects: list[str] = field(default_factory=list)
    vanished_rows: list[str] = field(default_factory=list)
    expired_uploads: list[str] = field(default_factory=list)
    aborted_parts: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class Cleaner:
    def __init__(
        self,
        database: Database,
        backend: ObjectStorage,
        settings: StorageSettings,
        *,
        dry_run: bool,
        now: datetime | None = None,
    ) -> None:
        self._database = database
        self._backend = backend
        self._dry_run = dry_run
        self._now = now or datetime.now(UTC)
        self._pending_cutoff = self._now - timedelta(seconds=settings.upload_pending_ttl_seconds)
        self._grace_cutoff = self._now - timedelta(seconds=settings.cleanup_grace_seconds)
        self.report = CleanupReport(dry_run=dry_run)

    async def run(self) -> CleanupReport:
        await self._expired_pending()
        await self._orphans()
        await self._vanished()
        await self._incomplete()
        logger.info("Storage cleanup{}: {}", " (dry run)" if self._dry_run else "", self.report)
        return self.report

    async def _delete_objects(self, keys: list[str]) -> None:
        if self._dry_run:
            return
        for key in keys:
            await self._backend.delete(key)

    async def _keys_of(self, file_id: uuid.UUID) -> list[str]:
        prefix = f"{KEY_PREFIX}{file_id.hex}/"
        return [info.key async for info in self._backend.list_objects(prefix)]

    async def _expired_pending(self) -> None:
        async with self._database.session() as session:
            stale = await StoredFileRepository(session).stale_pending(before=self._pending_cutoff)
            for stored in stale:
                await self._delete_objects(await self._keys_of(stored.id))
                self.report.expired_uploads.append(str(stored.id))
                if not self._dry_run:
                    async with transaction(session):
                        await StoredFileRepository(session).remove(stored)

    async def _orphans(self) -> None:
        by_id: dict[uuid.UUID, list[str]] = {}
        async for info in self._backend.list_objects(KEY_PREFIX):
            parsed = parse_key(info.key)
            if parsed is None or info.modified_at > self._grace_cutoff:
                continue  # not ours, or too young to judge
            by_id.setdefault(parsed[0], []).append(info.key)
        ids = list(by_id)
        async with self._database.session() as session:
            repository = StoredFileRepository(session)
            for start in range(0, len(ids), BATCH):
                batch = ids[start : start + BATCH]
                known = await repository.existing_ids(batch)
                for file_id in batch:
                    if file_id not in known:
                        self.report.orphaned_objects.extend(by_id[file_id])
                        await self._delete_objects(by_id[file_id])

    async def _vanished(self) -> None:
        after: uuid.UUID | None = None
        async with self._database.session() as session:
            repository = StoredFileRepository(session)
            while rows := await repository.ready(after=after, limit=BATCH):
                after = rows[-1].id
                for stored in rows:
                    if await self._backend.exists(stored.key):
                        continue
                    self.report.vanished_rows.append(str(stored.id))
                    if not self._dry_run:
                        await self._delete_objects(await self._keys_of(stored.id))
                        async with transaction(session):
                            await repository.remove(stored)

    async def _incomplete(self) -> None:
        uploads = await self._backend.incomplete_uploads(KEY_PREFIX)
        async with self._database.session() as session:
            repository = StoredFileRepository(session)
            for upload in uploads:
                if upload.started_at > self._pending_cutoff:
                    continue
                parsed = parse_key(upload.key)
                stored = await repository.get(parsed[0]) if parsed else None
                # Some servers report no real start time: a young pending row wins.
                if (
                    stored is not None
                    and stored.status == FileStatus.PENDING.value
                    and stored.created_at > self._pending_cutoff
                ):
                    continue
                self.report.aborted_parts.append(upload.key)
                if not self._dry_run:
                    await self._backend.abort_upload(upload)


async def cleanup(
    database: Database,
    backend: ObjectStorage,
    settings: StorageSettings,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
) -> CleanupReport:
    return await Cleaner(database, backend, settings, dry_run=dry_run, now=now).run()
