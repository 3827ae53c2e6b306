"""Files on an S3-compatible server (moto in the checks, MinIO works the same).

Upload, a presigned URL fetched over real HTTP, multipart with verified parts, a
corrupted part caught, delete, and cleanup of a planted orphan.
"""

import hashlib
import io
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from httpx import AsyncClient

from app.core.database import Database
from app.storage.cleanup import cleanup
from app.storage.config import MIB, StorageSettings
from app.storage.s3 import S3Storage, build_client
from app.storage.service import StorageComponents, original_key
from tests.file_samples import image_bytes, pdf_bytes

pytestmark = [
    pytest.mark.s3,
    pytest.mark.storage_settings(storage_backend="s3", s3_part_size_bytes=5 * MIB),
    pytest.mark.usefixtures("s3_bucket"),
]

FILES = "/api/v1/files"


def storage_of(client: AsyncClient) -> S3Storage:
    components: StorageComponents = client._transport.app.state.storage  # type: ignore[attr-defined]
    assert isinstance(components.backend, S3Storage)
    return components.backend


@pytest.fixture
def s3(storage_config: StorageSettings) -> Iterator[Any]:
    client = build_client(storage_config)
    yield client
    client.close()


async def test_upload_presigned_download_and_delete(
    client: AsyncClient, owner: dict[str, str], s3: Any, storage_config: StorageSettings
) -> None:
    response = await client.post(
        FILES,
        params={"purpose": "image"},
        files={"file": ("Über photo.png", image_bytes("PNG", size=(200, 100)))},
        headers=owner,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    key = original_key(uuid.UUID(body["id"]))
    head = s3.head_object(Bucket=storage_config.s3_bucket, Key=key)
    assert head["ContentType"] == "image/png"
    assert head["ContentLength"] == body["size"]

    link = (await client.get(f"{FILES}/{body['id']}/url", headers=owner)).json()
    assert link["url"].startswith(storage_config.s3_endpoint_url or "")
    assert "X-Amz-Signature=" in link["url"]
    async with httpx.AsyncClient() as http:  # a real HTTP request, straight to S3
        served = await http.get(link["url"])
        assert served.status_code == 200
        assert hashlib.sha256(served.content).hexdigest() == body["sha256"]
        assert "filename*=UTF-8''%C3%9Cber%20photo.png" in served.headers["content-disposition"]
        tampered = await http.get(link["url"].replace(key, original_key(uuid.uuid4())))
        assert tampered.status_code == 403

    assert (await client.delete(f"{FILES}/{body['id']}", headers=owner)).status_code == 204
    listed = s3.list_objects_v2(Bucket=storage_config.s3_bucket, Prefix=key.rsplit("/", 1)[0])
    assert listed.get("KeyCount", 0) == 0


async def test_large_documents_go_up_as_verified_multipart(
    client: AsyncClient, owner: dict[str, str], s3: Any, storage_config: StorageSettings
) -> None:
    document = pdf_bytes(padding=12 * MIB)  # three parts of 5 MiB
    response = await client.post(
        FILES, params={"purpose": "document"}, files={"file": ("big.pdf", document)}, headers=owner
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["sha256"] == hashlib.sha256(document).hexdigest()
    head = s3.head_object(Bucket=storage_config.s3_bucket, Key=original_key(uuid.UUID(body["id"])))
    assert head["ETag"].strip('"').endswith("-3")
    assert head["ContentLength"] == len(document)
    assert s3.list_multipart_uploads(Bucket=storage_config.s3_bucket).get("Uploads", []) == []


def corrupt(request: Any, **_: Any) -> None:
    """A botocore hook: flip the last byte of every part after the checksums were set."""
    data = request.body.read() if hasattr(request.body, "read") else bytes(request.body)
    request.body = io.BytesIO(data[:-1] + bytes([data[-1] ^ 0xFF]))


@pytest.mark.parametrize("size", [MIB, 11 * MIB], ids=["single", "multipart"])
async def test_bytes_changed_on_the_way_are_caught(
    client: AsyncClient, owner: dict[str, str], s3: Any, storage_config: StorageSettings, size: int
) -> None:
    storage = storage_of(client)
    events = storage._client.meta.events
    for name in ("before-send.s3.PutObject", "before-send.s3.UploadPart"):
        events.register(name, corrupt)
    try:
        response = await client.post(
            FILES,
            params={"purpose": "document"},
            files={"file": ("x.pdf", pdf_bytes(padding=size))},
            headers=owner,
        )
    finally:
        for name in ("before-send.s3.PutObject", "before-send.s3.UploadPart"):
            events.unregister(name, corrupt)
    # AWS and MinIO refuse the body (checksum header); moto stores it and our ETag check
    # catches it. Either way: 502, and nothing is left behind.
    assert response.status_code == 502, response.text
    assert response.json()["code"] == "storage_integrity_error"
    assert s3.list_objects_v2(Bucket=storage_config.s3_bucket).get("KeyCount", 0) == 0
    assert s3.list_multipart_uploads(Bucket=storage_config.s3_bucket).get("Uploads", []) == []
    assert (await client.get(FILES, headers=owner)).json()["total"] == 0


async def test_cleanup_removes_a_planted_orphan_and_a_dead_multipart_upload(
    client: AsyncClient,
    owner: dict[str, str],
    s3: Any,
    database: Database,
    storage_config: StorageSettings,
) -> None:
    bucket = storage_config.s3_bucket
    kept = (
        await client.post(
            FILES,
            params={"purpose": "image"},
            files={"file": ("k.png", image_bytes("PNG"))},
            headers=owner,
        )
    ).json()
    orphan = original_key(uuid.uuid4())
    s3.put_object(Bucket=bucket, Key=orphan, Body=b"no row for me")
    s3.put_object(Bucket=bucket, Key="elsewhere/not-ours.txt", Body=b"other data")
    dead_key = original_key(uuid.uuid4())
    s3.create_multipart_upload(Bucket=bucket, Key=dead_key)

    report = await cleanup(database, storage_of(client), storage_config, dry_run=True)
    assert report.orphaned_objects == [orphan]
    assert report.aborted_parts == [dead_key]
    s3.head_object(Bucket=bucket, Key=orphan)  # dry run: still there

    report = await cleanup(database, storage_of(client), storage_config)
    keys = {item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
    assert orphan not in keys
    assert "elsewhere/not-ours.txt" in keys  # outside the files/ prefix: never touched
    assert original_key(uuid.UUID(kept["id"])) in keys
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


async def test_readiness_pings_the_bucket(
    client: AsyncClient, storage_config: StorageSettings
) -> None:
    from app.extensions.storage import readiness

    app = client._transport.app  # type: ignore[attr-defined]
    await readiness(app)
    missing = S3Storage(
        build_client(storage_config),
        f"missing-{uuid.uuid4().hex[:12]}",
        part_size=5 * MIB,
        concurrency=1,
    )
    with pytest.raises(Exception):  # noqa: B017, PT011 - botocore's ClientError (404)
        await missing.ping()
    await missing.aclose()
