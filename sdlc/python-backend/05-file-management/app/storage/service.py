"""File use cases: upload, list, download links, delete. No HTTP in here.

Upload protocol (what makes cleanup safe to run at any time):

1. validate the bytes (type, structure) and, for images, re-encode them — all in worker
   threads, before anything is stored;
2. commit a `pending` row: from now on the objects have an owner;
3. store the objects (original, thumbnails), each verified by the storage;
4. commit the row as `ready` with size and checksum. A failure in 3 or 4 deletes the
   objects stored so far and the row.
"""

import io
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import BinaryIO

from anyio import to_thread
from loguru import logger

from app.domain.models.stored_file import FileStatus, StoredFile
from app.domain.models.user import Role, User
from app.domain.storage import ChecksumMismatchError, ObjectStorage
from app.domain.unit_of_work import UnitOfWork
from app.storage.config import StorageSettings
from app.storage.detection import Purpose, inspect
from app.storage.errors import (
    StorageIntegrityError,
    StoredFileNotFoundError,
    UploadTooLargeError,
)
from app.storage.filenames import sanitize_filename
from app.storage.images import THUMBNAIL, ImageLimits, process_image
from app.storage.repository import StoredFileRepository

KEY_PREFIX = "files/"
ORIGINAL = "original"
_KEY = re.compile(r"^files/(?P<id>[0-9a-f]{32})/(?P<variant>original|thumb-[0-9]{2,4}\.webp)$")


def original_key(file_id: uuid.UUID) -> str:
    return f"{KEY_PREFIX}{file_id.hex}/{ORIGINAL}"


def thumbnail_key(file_id: uuid.UUID, size: int) -> str:
    return f"{KEY_PREFIX}{file_id.hex}/thumb-{size}.webp"


def parse_key(key: str) -> tuple[uuid.UUID, str] | None:
    """`(file id, variant)` of a key this service made, else None."""
    match = _KEY.fullmatch(key)
    return (uuid.UUID(match["id"]), match["variant"]) if match else None


def _thumbnail_name(name: str, edge: int) -> str:
    return f"{name.rsplit('.', 1)[0]}-{edge}{THUMBNAIL.extension}"


@dataclass
class StorageComponents:
    """What the storage extension puts on `app.state.storage`."""

    settings: StorageSettings
    backend: ObjectStorage
    image_limits: ImageLimits = field(init=False)

    def __post_init__(self) -> None:
        self.image_limits = ImageLimits(
            max_pixels=self.settings.image_max_pixels,
            pixel_budget=self.settings.image_pixel_budget,
            max_frames=self.settings.image_max_frames,
            thumbnail_sizes=tuple(self.settings.image_thumbnail_sizes),
            jpeg_quality=self.settings.image_jpeg_quality,
        )


class FileService:
    def __init__(
        self, repository: StoredFileRepository, uow: UnitOfWork, storage: StorageComponents
    ) -> None:
        self._repository = repository
        self._uow = uow
        self._storage = storage
        self._backend = storage.backend

    async def upload(
        self, owner: User, purpose: Purpose, source: BinaryIO, *, filename: str | None, size: int
    ) -> StoredFile:
        limit = self._storage.settings.max_bytes(purpose.value)
        if size > limit:
            raise UploadTooLargeError(f"The file is larger than {limit} bytes")
        file_type = await to_thread.run_sync(inspect, source, purpose)
        thumbnails: dict[int, bytes] = {}
        width = height = None
        content: BinaryIO = source
        if file_type.is_image:
            image = await to_thread.run_sync(
                process_image, source, file_type, self._storage.image_limits
            )
            content, thumbnails = io.BytesIO(image.data), image.thumbnails
            width, height = image.width, image.height

        file_id = uuid.uuid4()
        stored = StoredFile(
            id=file_id,
            owner_id=owner.id,
            purpose=purpose.value,
            status=FileStatus.PENDING.value,
            key=original_key(file_id),
            original_name=sanitize_filename(filename, extension=file_type.extension),
            content_type=file_type.mime,
            size=0,
            thumbnails=[],
        )
        async with self._uow:
            await self._repository.add(stored)

        written: list[str] = []
        try:
            result = await self._backend.put(stored.key, content, content_type=file_type.mime)
            written.append(result.key)
            for edge, data in thumbnails.items():
                key = thumbnail_key(file_id, edge)
                await self._backend.put(key, io.BytesIO(data), content_type=THUMBNAIL.mime)
                written.append(key)
            async with self._uow:
                stored.status = FileStatus.READY.value
                stored.size = result.size
                stored.sha256 = result.sha256
                stored.width, stored.height = width, height
                stored.thumbnails = sorted(thumbnails)
        except ChecksumMismatchError as exc:
            await self._discard(stored, written)
            logger.error("Upload of {} failed its integrity check: {}", stored.key, exc)
            raise StorageIntegrityError("The storage did not confirm the upload") from exc
        except BaseException:
            await self._discard(stored, written)
            raise
        logger.info("Stored {} ({} bytes, {})", stored.key, stored.size, stored.content_type)
        return stored

    async def _discard(self, stored: StoredFile, keys: list[str]) -> None:
        for key in keys:
            try:
                await self._backend.delete(key)
            except Exception:  # noqa: BLE001 - cleanup removes it later; keep the real error
                logger.warning("Could not delete {} after a failed upload", key)
        async with self._uow:
            await self._repository.remove(stored)

    async def get(self, user: User, file_id: uuid.UUID) -> StoredFile:
        """A ready file of `user` (any user's for an admin); otherwise 404, never 403."""
        stored = await self._repository.get(file_id)
        if (
            stored is None
            or stored.status != FileStatus.READY.value
            or not (stored.owner_id == user.id or user.has_role(Role.ADMIN))
        ):
            raise StoredFileNotFoundError(f"File {file_id} not found")
        return stored

    async def page(self, user: User, *, limit: int, offset: int) -> tuple[list[StoredFile], int]:
        owner = None if user.has_role(Role.ADMIN) else user.id
        rows, total = await self._repository.page(owner_id=owner, limit=limit, offset=offset)
        return list(rows), total

    async def delete(self, user: User, file_id: uuid.UUID) -> None:
        stored = await self.get(user, file_id)
        keys = [stored.key, *(thumbnail_key(stored.id, edge) for edge in stored.thumbnails)]
        async with self._uow:  # the row first: a failed object delete leaves an orphan,
            await self._repository.remove(stored)  # which cleanup removes later
        for key in keys:
            try:
                await self._backend.delete(key)
            except Exception:  # noqa: BLE001 - the file is gone for the user either way
                logger.warning("Could not delete {}; cleanup will", key)

    async def for_signed_key(self, key: str) -> tuple[str, str]:
        """`(content type, download name)` of a key a valid signed URL points at."""
        parsed = parse_key(key)
        stored = await self._repository.get(parsed[0]) if parsed else None
        if parsed is None or stored is None or stored.status != FileStatus.READY.value:
            raise StoredFileNotFoundError("File not found")
        _, variant = parsed
        if variant == ORIGINAL:
            return stored.content_type, stored.original_name
        edge = int(variant.removeprefix("thumb-").removesuffix(THUMBNAIL.extension))
        if edge not in stored.thumbnails:
            raise StoredFileNotFoundError("File not found")
        return THUMBNAIL.mime, _thumbnail_name(stored.original_name, edge)

    async def download_url(
        self, user: User, file_id: uuid.UUID, *, thumbnail: int | None = None
    ) -> tuple[str, datetime]:
        stored = await self.get(user, file_id)
        key, content_type, name = stored.key, stored.content_type, stored.original_name
        if thumbnail is not None:
            if thumbnail not in stored.thumbnails:
                raise StoredFileNotFoundError(f"File {file_id} has no {thumbnail}px thumbnail")
            key, content_type = thumbnail_key(stored.id, thumbnail), THUMBNAIL.mime
            name = _thumbnail_name(name, thumbnail)
        ttl = self._storage.settings.storage_url_ttl_seconds
        url = await self._backend.download_url(
            key, filename=name, content_type=content_type, expires_in=ttl
        )
        return url, datetime.now(UTC) + timedelta(seconds=ttl)
