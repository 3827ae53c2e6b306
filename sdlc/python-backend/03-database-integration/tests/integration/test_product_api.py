"""The /api/v1/products endpoints through the real app (lifespan, session per request)."""

from typing import Any
from uuid import uuid4

import pytest
from httpx import AsyncClient

URL = "/api/v1/products"


def payload(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "Desk lamp",
        "description": "LED, warm white",
        "price": "39.90",
        "stock": 12,
        "is_active": True,
    } | overrides


async def create(client: AsyncClient, **overrides: Any) -> dict[str, Any]:
    response = await client.post(URL, json=payload(**overrides))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_create_and_get(client: AsyncClient) -> None:
    created = await create(client)
    assert created["name"] == "Desk lamp"
    assert created["price"] == "39.90"
    assert {"id", "created_at", "updated_at"} <= created.keys()

    response = await client.get(f"{URL}/{created['id']}")
    assert response.status_code == 200
    assert response.json() == created


async def test_get_unknown_is_404(client: AsyncClient) -> None:
    response = await client.get(f"{URL}/{uuid4()}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


async def test_duplicate_name_is_409_and_not_written(client: AsyncClient) -> None:
    await create(client, name="Chair")
    response = await client.post(URL, json=payload(name="Chair"))
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"

    listing = await client.get(URL, params={"name": "chair"})
    assert listing.json()["total"] == 1


@pytest.mark.parametrize(
    "body",
    [
        payload(name=""),
        payload(price="12.345"),
        payload(stock="many"),
        payload(unexpected=True),
        {key: value for key, value in payload().items() if key != "price"},
    ],
)
async def test_invalid_payload_is_422(client: AsyncClient, body: dict[str, Any]) -> None:
    response = await client.post(URL, json=body)
    assert response.status_code == 422


async def test_patch_updates_only_sent_fields(client: AsyncClient) -> None:
    created = await create(client)
    response = await client.patch(f"{URL}/{created['id']}", json={"stock": 3, "description": None})
    assert response.status_code == 200
    body = response.json()
    assert (body["stock"], body["description"]) == (3, None)
    assert (body["name"], body["price"]) == (created["name"], created["price"])
    assert body["updated_at"] >= created["updated_at"]


async def test_patch_rejects_null_for_required_field(client: AsyncClient) -> None:
    created = await create(client)
    response = await client.patch(f"{URL}/{created['id']}", json={"name": None})
    assert response.status_code == 422


async def test_patch_to_a_taken_name_is_409(client: AsyncClient) -> None:
    await create(client, name="Taken")
    other = await create(client, name="Other")
    response = await client.patch(f"{URL}/{other['id']}", json={"name": "Taken"})
    assert response.status_code == 409
    # Renaming to its own current name is not a conflict.
    same = await client.patch(f"{URL}/{other['id']}", json={"name": "Other"})
    assert same.status_code == 200


async def test_list_filters_sorts_and_paginates(client: AsyncClient) -> None:
    for i in range(1, 8):
        await create(client, name=f"Pen {i}", price=f"{i}.00", is_active=i % 2 == 1)
    await create(client, name="Notebook", price="2.50")

    response = await client.get(
        URL, params={"name": "pen", "is_active": "true", "sort": "-price", "size": 2}
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["total"], body["pages"], body["page"], body["size"]) == (4, 2, 1, 2)
    assert [item["name"] for item in body["items"]] == ["Pen 7", "Pen 5"]

    second = await client.get(
        URL,
        params={"name": "pen", "is_active": "true", "sort": "-price", "size": 2, "page": 2},
    )
    assert [item["name"] for item in second.json()["items"]] == ["Pen 3", "Pen 1"]

    ranged = await client.get(URL, params={"price_min": "2", "price_max": "3", "sort": "price"})
    assert [item["name"] for item in ranged.json()["items"]] == ["Pen 2", "Notebook", "Pen 3"]


@pytest.mark.parametrize(
    "params",
    [{"sort": "password"}, {"size": "1000"}, {"page": "0"}, {"unknown": "1"}],
)
async def test_list_rejects_bad_query(client: AsyncClient, params: dict[str, str]) -> None:
    response = await client.get(URL, params=params)
    assert response.status_code == 422


async def test_delete(client: AsyncClient) -> None:
    created = await create(client)
    response = await client.delete(f"{URL}/{created['id']}")
    assert response.status_code == 204
    assert (await client.get(f"{URL}/{created['id']}")).status_code == 404
    assert (await client.delete(f"{URL}/{created['id']}")).status_code == 404
