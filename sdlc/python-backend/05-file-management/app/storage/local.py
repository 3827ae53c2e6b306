"""Local file-system adapter of `ObjectStorage` (development, single-host deployments).

Objects are files under `STORAGE_LOCAL_ROOT`, at the path of their (generated) key. A
write goes to `.incoming/` first and is renamed into place when complete and flushed,
so a reader never sees half a file and an interrupted upload leaves only an
`.incoming/` file, which cleanup removes. File I/O runs in worker threads.
"""

import hashlib
import os
import re
import stat
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from anyio import to_thread

from app.domain.storage import IncompleteUpload, ObjectInfo, ObjectStorage, PutResult
from app.storage.signing import UrlSigner

INCOMING = ".incoming"
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(?:/[A-Za-z0-9][A-Za-z0-9._-]*)*$")


def _file_stat(path: Path) -> os.stat_result | None:
    """`path`'s stat when it is a regular file, else None: while a listing runs, uploads
    are renamed out of `.incoming/` and objects deleted, so a file seen a moment ago may
    be gone (one stat, no is_file-then-stat race)."""
    try:
        result = path.stat()
    except FileNotFoundError:
        return None
    return result if stat.S_ISREG(result.st_mode) else None


def _mtime(result: os.stat_result) -> datetime:
    return datetime.fromtimestamp(result.st_mtime, tz=UTC)


class LocalStorage(ObjectStorage):
    name = "local"

    def __init__(self, root: Path, signer: UrlSigner, *, chunk_size: int = 1024 * 1024) -> None:
        self.root = root.resolve()
        self._signer = signer
        self._chunk_size = chunk_size

    def path_for(self, key: str) -> Path:
        """The file of `key`; refuses anything that is not a plain relative key."""
        if not _KEY.fullmatch(key) or ".." in key.split("/"):
            msg = f"invalid storage key {key!r}"
            raise ValueError(msg)
        return self.root / key

    def _put(self, key: str, source: BinaryIO) -> PutResult:
        final = self.path_for(key)
        incoming = self.root / INCOMING
        incoming.mkdir(parents=True, exist_ok=True)
        temporary = incoming / uuid.uuid4().hex
        digest = hashlib.sha256()
        size = 0
        try:
            with temporary.open("xb") as out:
                while chunk := source.read(self._chunk_size):
                    out.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            final.parent.mkdir(parents=True, exist_ok=True)
            temporary.replace(final)
        finally:
            temporary.unlink(missing_ok=True)
        return PutResult(key, size, digest.hexdigest())

    async def put(self, key: str, source: BinaryIO, *, content_type: str) -> PutResult:
        return await to_thread.run_sync(self._put, key, source)

    async def delete(self, key: str) -> None:
        path = self.path_for(key)
        await to_thread.run_sync(lambda: path.unlink(missing_ok=True))

    async def exists(self, key: str) -> bool:
        path = self.path_for(key)
        return await to_thread.run_sync(path.is_file)

    def _list(self, prefix: str) -> list[ObjectInfo]:
        found: list[ObjectInfo] = []
        if not self.root.is_dir():
            return found
        for path in self.root.rglob("*"):
            key = path.relative_to(self.root).as_posix()
            if key.startswith(INCOMING) or not key.startswith(prefix):
                continue
            if (result := _file_stat(path)) is not None:
                found.append(ObjectInfo(key, result.st_size, _mtime(result)))
        return sorted(found, key=lambda info: info.key)

    async def list_objects(self, prefix: str) -> AsyncIterator[ObjectInfo]:
        for info in await to_thread.run_sync(self._list, prefix):
            yield info

    def _incomplete(self) -> list[IncompleteUpload]:
        incoming = self.root / INCOMING
        if not incoming.is_dir():
            return []
        found: list[IncompleteUpload] = []
        for path in sorted(incoming.iterdir()):
            if (result := _file_stat(path)) is not None:
                found.append(IncompleteUpload(path.name, path.name, _mtime(result)))
        return found

    async def incomplete_uploads(self, prefix: str) -> list[IncompleteUpload]:
        return await to_thread.run_sync(self._incomplete)

    async def abort_upload(self, upload: IncompleteUpload) -> None:
        path = self.root / INCOMING / Path(upload.upload_id).name
        await to_thread.run_sync(lambda: path.unlink(missing_ok=True))

    async def download_url(
        self, key: str, *, filename: str, content_type: str, expires_in: int
    ) -> str:
        self.path_for(key)  # validates the key
        return self._signer.sign(key, expires_in=expires_in)

    def verify(self, key: str, expires: int, signature: str) -> Path:
        self._signer.verify(key, expires, signature)
        return self.path_for(key)

    def _ping(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if not os.access(self.root, os.W_OK):
            msg = f"{self.root} is not writable"
            raise PermissionError(msg)

    async def ping(self) -> None:
        await to_thread.run_sync(self._ping)

    async def aclose(self) -> None:
        """Nothing to release: every call opens and closes its own files."""
