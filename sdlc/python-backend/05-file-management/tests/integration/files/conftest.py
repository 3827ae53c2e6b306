"""Fixtures of step 05's integration tests: storage settings, users, an S3 bucket.

Every test gets its own storage (a temporary folder, or the S3 bucket emptied after the
test) and fast limits. Tests marked `s3` need an S3-compatible server (`S3_ENDPOINT_URL`,
`S3_BUCKET`, credentials in the usual AWS variables): without one they are *deselected*
(reported in the header), never silently passed; step 05's checks run them with moto.
"""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.config import AuthSettings
from app.core.config import Environment, Settings
from app.extensions import storage as storage_extension
from app.storage.config import MIB, StorageSettings
from app.storage.s3 import build_client
from tests.integration.auth.helpers import bearer, token_for

if TYPE_CHECKING:
    from fastapi import FastAPI

S3_CONFIGURED = bool(os.environ.get("S3_ENDPOINT_URL") and os.environ.get("S3_BUCKET"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "storage_settings(**values): StorageSettings for a test")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if S3_CONFIGURED:
        return
    deselected = [item for item in items if item.get_closest_marker("s3")]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.get_closest_marker("s3")]


def pytest_report_header(config: pytest.Config) -> str:
    if S3_CONFIGURED:
        return f"s3 tests: against {os.environ['S3_ENDPOINT_URL']}"
    return "s3 tests: deselected (set S3_ENDPOINT_URL and S3_BUCKET to run them)"


def storage_settings(root: Path, **overrides: Any) -> StorageSettings:
    values: dict[str, Any] = {
        "app_env": Environment.TESTING,
        "storage_local_root": root,
        "storage_signing_key": "test-storage-signing-key-0123456789abcdef",
        "upload_max_image_bytes": 2 * MIB,
        "upload_max_document_bytes": 16 * MIB,
        "image_thumbnail_sizes": [64, 128],
        "cleanup_grace_seconds": 0,
        **overrides,
    }
    if values.get("storage_backend") == "s3":
        values.setdefault("s3_bucket", os.environ["S3_BUCKET"])
        values.setdefault("s3_endpoint_url", os.environ["S3_ENDPOINT_URL"])
    return StorageSettings(_env_file=None, **values)


@pytest.fixture
def storage_config(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[StorageSettings]:
    marker = request.node.get_closest_marker("storage_settings")
    config = storage_settings(tmp_path / "storage", **(marker.kwargs if marker else {}))
    monkeypatch.setattr(storage_extension, "get_storage_settings", lambda: config)
    yield config
    if config.storage_backend.value == "s3":
        empty_bucket(config)


def empty_bucket(config: StorageSettings) -> None:
    client = build_client(config)
    bucket = config.s3_bucket or ""
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            client.delete_object(Bucket=bucket, Key=item["Key"])
    for uploads in client.get_paginator("list_multipart_uploads").paginate(Bucket=bucket):
        for upload in uploads.get("Uploads", []):
            client.abort_multipart_upload(
                Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]
            )
    client.close()


@pytest.fixture(scope="session")
def s3_bucket() -> str:
    """The bucket the check names (`S3_BUCKET`), created once for the session."""
    config = storage_settings(Path("unused"), storage_backend="s3")
    client = build_client(config)
    bucket = config.s3_bucket or ""
    existing = [item["Name"] for item in client.list_buckets().get("Buckets", [])]
    if bucket not in existing:
        client.create_bucket(Bucket=bucket)
    client.close()
    return bucket


@pytest.fixture
def app(settings: Settings, storage_config: StorageSettings) -> "FastAPI":
    """The root `app`, built after the storage settings are in place."""
    from app.main import create_app

    return create_app(settings)


@pytest.fixture
async def owner(
    client: AsyncClient, session: AsyncSession, auth_config: AuthSettings
) -> dict[str, str]:
    return bearer(await token_for(client, session, auth_config, "owner@example.com"))


@pytest.fixture
async def stranger(
    client: AsyncClient, session: AsyncSession, auth_config: AuthSettings
) -> dict[str, str]:
    return bearer(await token_for(client, session, auth_config, "stranger@example.com"))


@pytest.fixture
async def admin(
    client: AsyncClient, session: AsyncSession, auth_config: AuthSettings
) -> dict[str, str]:
    return bearer(await token_for(client, session, auth_config, "admin@example.com", "admin"))
