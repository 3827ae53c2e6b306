"""The storage port: where file bytes live. Services depend on this, never on boto3.

Two adapters implement it (`app.storage.local.LocalStorage`, `app.storage.s3.S3Storage`),
chosen by `STORAGE_BACKEND`. Every method is `async`; an adapter whose library blocks runs
it in a worker thread, so no call here ever stalls the event loop.
"""

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO


@dataclass(frozen=True)
class PutResult:
    key: str
    size: int
    sha256: str  # hex digest of the bytes the storage confirmed


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    modified_at: datetime  # timezone-aware


@dataclass(frozen=True)
class IncompleteUpload:
    """A multipart upload that was started and never completed or aborted."""

    key: str
    upload_id: str
    started_at: datetime


class ChecksumMismatchError(Exception):
    """The storage holds other bytes than the ones sent (it was deleted again)."""


class ObjectStorage(ABC):
    name: str

    @abstractmethod
    async def put(self, key: str, source: BinaryIO, *, content_type: str) -> PutResult:
        """Store everything `source` yields (read in chunks, from its current position)."""

    @abstractmethod
    async def delete(self, key: str) -> None:
        """Remove `key`; removing a missing key is not an error."""

    @abstractmethod
    async def exists(self, key: str) -> bool: ...

    @abstractmethod
    def list_objects(self, prefix: str) -> AsyncIterator[ObjectInfo]:
        """Every object whose key starts with `prefix`."""

    @abstractmethod
    async def incomplete_uploads(self, prefix: str) -> list[IncompleteUpload]: ...

    @abstractmethod
    async def abort_upload(self, upload: IncompleteUpload) -> None: ...

    @abstractmethod
    async def download_url(
        self, key: str, *, filename: str, content_type: str, expires_in: int
    ) -> str:
        """A URL that serves `key` until `expires_in` seconds from now, then never again."""

    @abstractmethod
    async def ping(self) -> None:
        """Raise when the storage cannot be used (readiness probe)."""

    @abstractmethod
    async def aclose(self) -> None:
        """Release clients and threads (called once, at shutdown)."""
