"""`/products` over HTTP through the real app (generated, step 02; runs from step 03)."""

from uuid import uuid4

from fastapi import FastAPI, HTTPException, status
from httpx import AsyncClient

from app.api.guards import require_writer

URL = "/api/v1/products"


async def _deny() -> None:
    raise HTTPException(status.HTTP_403_FORBIDDEN, "writes are not allowed")


async def test_write_operations_are_guarded(app: FastAPI, client: AsyncClient) -> None:
    app.dependency_overrides[require_writer] = _deny
    item = f"{URL}/{uuid4()}"

    assert (await client.post(URL, json={})).status_code == status.HTTP_403_FORBIDDEN
    assert (await client.patch(item, json={})).status_code == status.HTTP_403_FORBIDDEN
    assert (await client.delete(item)).status_code == status.HTTP_403_FORBIDDEN
    assert (await client.get(URL)).status_code == status.HTTP_200_OK
