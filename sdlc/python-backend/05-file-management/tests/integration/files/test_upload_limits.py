"""Oversized uploads are refused while they arrive: never read whole, never stored."""

from collections.abc import AsyncIterator

from httpx import AsyncClient

from app.storage.config import MIB, StorageSettings
from tests.file_samples import image_bytes

FILES = "/api/v1/files"
BOUNDARY = "limit-test-boundary"


class Body:
    """A multipart body of `total` bytes, produced lazily; counts what was pulled."""

    def __init__(self, total: int, chunk: int = 64 * 1024) -> None:
        self.total = total
        self.chunk = chunk
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        head = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
            'filename="big.png"\r\nContent-Type: image/png\r\n\r\n'
        ).encode()
        self.sent += len(head)
        yield head + image_bytes("PNG")
        while self.sent < self.total:
            self.sent += self.chunk
            yield b"\x00" * self.chunk
        yield f"\r\n--{BOUNDARY}--\r\n".encode()


HEADERS = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


async def test_a_declared_content_length_above_the_limit_reads_nothing(
    client: AsyncClient, owner: dict[str, str], storage_config: StorageSettings
) -> None:
    body = Body(200 * MIB)
    response = await client.post(
        FILES,
        params={"purpose": "image"},
        content=body,
        headers={**owner, **HEADERS, "Content-Length": str(200 * MIB)},
    )
    assert response.status_code == 413, response.text
    assert response.json()["code"] == "upload_too_large"
    assert body.sent <= 128 * 1024  # at most what the transport prefetched
    assert not list(storage_config.storage_local_root.rglob("*"))


async def test_a_chunked_200_mib_body_is_cut_at_the_limit(
    client: AsyncClient, owner: dict[str, str], storage_config: StorageSettings
) -> None:
    body = Body(200 * MIB)  # no Content-Length: the count decides
    response = await client.post(
        FILES, params={"purpose": "image"}, content=body, headers={**owner, **HEADERS}
    )
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"
    limit = storage_config.upload_max_image_bytes
    assert body.sent < limit + 256 * 1024, body.sent  # stopped right after the limit
    assert not list(storage_config.storage_local_root.rglob("*"))


async def test_a_file_just_over_the_limit_is_refused_just_under_accepted(
    client: AsyncClient, owner: dict[str, str], storage_config: StorageSettings
) -> None:
    limit = storage_config.upload_max_image_bytes
    png = image_bytes("PNG")
    over = png + b"\x00" * (limit - len(png) + 1)
    response = await client.post(
        FILES, params={"purpose": "image"}, files={"file": ("a.png", over)}, headers=owner
    )
    assert response.status_code == 413
    assert response.json()["code"] == "upload_too_large"
    fine = await client.post(
        FILES, params={"purpose": "image"}, files={"file": ("a.png", png)}, headers=owner
    )
    assert fine.status_code == 201


async def test_the_limit_follows_the_purpose(
    client: AsyncClient, owner: dict[str, str], storage_config: StorageSettings
) -> None:
    size = storage_config.upload_max_image_bytes + MIB  # too big for an image
    body = Body(size)
    response = await client.post(
        FILES, params={"purpose": "image"}, content=body, headers={**owner, **HEADERS}
    )
    assert response.status_code == 413
    # The same size is fine for a document's limit: it gets as far as type detection.
    body = Body(size)
    response = await client.post(
        FILES, params={"purpose": "document"}, content=body, headers={**owner, **HEADERS}
    )
    assert response.status_code == 415, response.text
    assert body.sent >= size
