"""Step 05's extension: the storage backend on `app.state.storage`, and its readiness.

The files router itself is discovered from `app/api/v1/endpoints/files.py`. Nothing
here touches the network or the disk at start-up: the app starts (and answers liveness)
while S3 is down; `readiness()` tells whether uploads can work.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import cast

from fastapi import FastAPI
from loguru import logger

from app.core.config import Settings
from app.domain.storage import ObjectStorage
from app.storage.config import StorageBackend, StorageSettings, get_storage_settings
from app.storage.local import LocalStorage
from app.storage.s3 import S3Storage
from app.storage.service import StorageComponents
from app.storage.signing import UrlSigner, derive_signing_key

ORDER = 30  # after the database (10) and auth (20)


def install(app: FastAPI, settings: Settings) -> None:
    app.state.storage_settings = get_storage_settings()


def build_backend(storage: StorageSettings, settings: Settings) -> ObjectStorage:
    if storage.storage_backend is StorageBackend.S3:
        return S3Storage.from_settings(storage)
    if storage.storage_signing_key is not None:
        key = storage.storage_signing_key.get_secret_value().encode()
    else:
        secret = settings.secret_key.get_secret_value() if settings.secret_key else ""
        key = derive_signing_key(secret)
    signer = UrlSigner(key, base_path=f"{settings.api_v1_prefix}/files/content")
    return LocalStorage(storage.storage_local_root, signer, chunk_size=storage.upload_chunk_bytes)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    storage: StorageSettings = app.state.storage_settings
    backend = build_backend(storage, app.state.settings)
    app.state.storage = StorageComponents(storage, backend)
    logger.info("File storage: {}", backend.name)
    try:
        yield
    finally:
        await backend.aclose()


async def readiness(app: FastAPI) -> None:
    """Raise unless the storage answers (S3: HeadBucket; local: a writable folder)."""
    await cast(StorageComponents, app.state.storage).backend.ping()
