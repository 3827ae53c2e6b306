"""Files over HTTP with the local backend: upload → row → signed download → delete."""

import hashlib
import io
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from httpx import AsyncClient, Response
from PIL import Image
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.models.stored_file import StoredFile
from app.storage.config import StorageSettings
from tests.file_samples import (
    WINDOWS_EXECUTABLE,
    decompression_bomb_png,
    image_bytes,
    pdf_bytes,
    rotated_jpeg_with_gps,
)

FILES = "/api/v1/files"


async def upload(
    client: AsyncClient,
    headers: dict[str, str],
    data: bytes,
    *,
    purpose: str = "image",
    name: str = "photo.png",
    content_type: str = "image/png",
) -> Response:
    return await client.post(
        FILES,
        params={"purpose": purpose},
        files={"file": (name, data, content_type)},
        headers=headers,
    )


async def fetch_signed(client: AsyncClient, url: str, **headers: str) -> Response:
    split = urlsplit(url)
    return await client.get(f"{split.path}?{split.query}", headers=headers)


async def row(session: AsyncSession, file_id: str) -> StoredFile | None:
    session.expire_all()
    return await session.scalar(select(StoredFile).where(StoredFile.id == uuid.UUID(file_id)))


async def test_upload_row_signed_download_with_range_and_delete(
    client: AsyncClient,
    owner: dict[str, str],
    session: AsyncSession,
    storage_config: StorageSettings,
) -> None:
    document = pdf_bytes(padding=4096)
    response = await upload(
        client,
        owner,
        document,
        purpose="document",
        name="../../Q3 report.pdf",
        content_type="application/octet-stream",
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["Location"].endswith(f"{FILES}/{body['id']}")
    assert body["name"] == "Q3 report.pdf"  # path parts dropped
    assert body["content_type"] == "application/pdf"  # from the bytes, not the client
    assert body["size"] == len(document)
    assert body["sha256"] == hashlib.sha256(document).hexdigest()

    stored = await row(session, body["id"])
    assert stored is not None
    assert stored.status == "ready"
    assert stored.key == f"files/{uuid.UUID(body['id']).hex}/original"  # generated key
    on_disk = storage_config.storage_local_root / stored.key
    assert on_disk.read_bytes() == document

    link = await client.get(f"{FILES}/{body['id']}/url", headers=owner)
    assert link.status_code == 200, link.text
    url = link.json()["url"]
    assert "signature=" in url
    assert "expires=" in url

    # The signed URL is the credential: no Authorization header needed.
    full = await fetch_signed(client, url)
    assert full.status_code == 200, full.text
    assert full.content == document
    assert full.headers["content-type"] == "application/pdf"
    assert full.headers["accept-ranges"] == "bytes"
    assert full.headers["content-disposition"] == (
        "attachment; filename=\"Q3 report.pdf\"; filename*=UTF-8''Q3%20report.pdf"
    )
    partial = await fetch_signed(client, url, Range="bytes=0-7")
    assert partial.status_code == 206
    assert partial.content == b"%PDF-1.7"
    assert partial.headers["content-range"] == f"bytes 0-7/{len(document)}"
    tail = await fetch_signed(client, url, Range="bytes=-6")
    assert tail.content == b"%%EOF\n"

    deleted = await client.delete(f"{FILES}/{body['id']}", headers=owner)
    assert deleted.status_code == 204
    assert await row(session, body["id"]) is None
    assert not on_disk.exists()
    gone = await fetch_signed(client, url)  # still correctly signed, but the file is gone
    assert gone.status_code == 404
    assert gone.headers["content-type"] == "application/problem+json"


async def test_tampered_and_expired_urls_are_refused(
    client: AsyncClient, owner: dict[str, str], storage_config: StorageSettings
) -> None:
    body = (await upload(client, owner, image_bytes("PNG"))).json()
    url = (await client.get(f"{FILES}/{body['id']}/url", headers=owner)).json()["url"]
    split = urlsplit(url)
    query = dict(part.split("=", 1) for part in split.query.split("&"))

    other_key = split.path.replace(uuid.UUID(body["id"]).hex, uuid.uuid4().hex)
    for path, expires, signature in [
        (split.path, query["expires"], "0" * 64),
        (split.path, str(int(query["expires"]) + 3600), query["signature"]),
        (other_key, query["expires"], query["signature"]),
        (split.path.replace("original", "thumb-64.webp"), query["expires"], query["signature"]),
        # Garbage from the query string is "invalid" too, never a 500: a non-ASCII
        # signature, a non-ASCII key with an expiry far beyond any clock.
        (split.path, query["expires"], "é" * 64),
        (f"{FILES}/content/é/ü", str(10**40), "ß" + query["signature"][1:]),
    ]:
        response = await client.get(path, params={"expires": expires, "signature": signature})
        assert response.status_code == 403, (path, response.text)
        assert response.json()["code"] == "invalid_signature"

    storage = client._transport.app.state.storage  # type: ignore[attr-defined]
    expired = storage.backend._signer.sign(
        f"files/{uuid.UUID(body['id']).hex}/original", expires_in=-1
    )
    response = await fetch_signed(client, expired)
    assert response.status_code == 403
    assert "expired" in response.json()["detail"]


async def test_type_comes_from_the_content_not_the_name(
    client: AsyncClient, owner: dict[str, str]
) -> None:
    png = image_bytes("PNG", size=(300, 200))
    response = await upload(client, owner, png, name="holiday.pdf", content_type="application/pdf")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["content_type"] == "image/png"
    assert body["name"] == "holiday.png"
    assert (body["width"], body["height"]) == (300, 200)
    assert body["thumbnails"] == [64, 128]

    for data, purpose in [(WINDOWS_EXECUTABLE, "image"), (pdf_bytes(), "image"), (png, "document")]:
        refused = await upload(client, owner, data, purpose=purpose, name="cute.png")
        assert refused.status_code == 415, refused.text
        assert refused.json()["code"] == "unsupported_file_type"

    empty = await upload(client, owner, b"")
    assert empty.status_code == 422
    assert empty.json()["code"] == "invalid_file"
    polyglot = await upload(client, owner, png + b"PK\x05\x06" + b"\x00" * 18)
    assert polyglot.status_code == 422


async def test_images_are_upright_and_stripped_and_bombs_refused(
    client: AsyncClient, owner: dict[str, str]
) -> None:
    response = await upload(
        client, owner, rotated_jpeg_with_gps(), name="IMG_0001.JPG", content_type="image/jpeg"
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["width"], body["height"]) == (20, 40)
    url = (await client.get(f"{FILES}/{body['id']}/url", headers=owner)).json()["url"]
    served = await fetch_signed(client, url)
    with Image.open(io.BytesIO(served.content)) as image:
        assert image.size == (20, 40)
        assert not image.getexif()
    assert b"Test Camera" not in served.content

    thumb_url = (
        await client.get(f"{FILES}/{body['id']}/url", params={"thumbnail": 64}, headers=owner)
    ).json()["url"]
    thumb = await fetch_signed(client, thumb_url)
    assert thumb.status_code == 200
    assert thumb.headers["content-type"] == "image/webp"
    with Image.open(io.BytesIO(thumb.content)) as image:
        assert max(image.size) == 40  # never enlarged beyond the original
    missing = await client.get(
        f"{FILES}/{body['id']}/url", params={"thumbnail": 999}, headers=owner
    )
    assert missing.status_code == 404

    bomb = await upload(client, owner, decompression_bomb_png(), name="bomb.png")
    assert bomb.status_code == 422
    assert bomb.json()["code"] == "image_too_large"


async def test_owners_admins_and_strangers(
    client: AsyncClient,
    owner: dict[str, str],
    stranger: dict[str, str],
    admin: dict[str, str],
) -> None:
    mine = (await upload(client, owner, image_bytes("PNG"))).json()
    theirs = (await upload(client, stranger, image_bytes("GIF"), name="x.gif")).json()

    listed = (await client.get(FILES, headers=owner)).json()
    assert [item["id"] for item in listed["items"]] == [mine["id"]]
    assert listed["total"] == 1

    for method, path in [
        ("GET", f"{FILES}/{mine['id']}"),
        ("GET", f"{FILES}/{mine['id']}/url"),
        ("DELETE", f"{FILES}/{mine['id']}"),
    ]:
        response = await client.request(method, path, headers=stranger)
        assert response.status_code == 404, (method, path)  # not 403: existence is not told

    everyone = (await client.get(FILES, headers=admin)).json()
    assert {item["id"] for item in everyone["items"]} == {mine["id"], theirs["id"]}
    assert (await client.get(f"{FILES}/{theirs['id']}", headers=admin)).status_code == 200
    assert (await client.delete(f"{FILES}/{theirs['id']}", headers=admin)).status_code == 204

    assert (await client.get(FILES)).status_code == 401
    assert (await upload(client, {}, image_bytes("PNG"))).status_code == 401


@pytest.mark.storage_settings(storage_local_root=Path("/proc/definitely/not/writable"))
async def test_readiness_fails_when_the_folder_is_unusable(
    client: AsyncClient,
) -> None:
    from app.extensions.storage import readiness

    with pytest.raises(OSError, match="definitely"):
        await readiness(client._transport.app)  # type: ignore[attr-defined]
