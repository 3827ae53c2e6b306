"""v1 and v2 side by side on PostgreSQL; the deprecated operation's headers."""

from email.utils import parsedate_to_datetime

from httpx import AsyncClient

PRODUCT = {"name": "Lamp", "price": "19.90", "stock": 3, "is_active": True}


async def _create(client: AsyncClient, count: int) -> None:
    for number in range(count):
        response = await client.post("/api/v1/products", json={**PRODUCT, "name": f"Lamp {number}"})
        assert response.status_code == 201, response.text


async def test_v1_and_v2_list_the_same_products_in_their_own_shape(client: AsyncClient) -> None:
    await _create(client, 3)
    v1 = await client.get("/api/v1/products", params={"size": 2, "sort": "name"})
    v2 = await client.get("/api/v2/products", params={"size": 2, "sort": "name"})
    assert v1.status_code == v2.status_code == 200
    assert set(v1.json()) == {"items", "total", "page", "size", "pages"}
    body = v2.json()
    assert set(body) == {"data", "meta", "links"}
    assert body["data"] == v1.json()["items"]
    assert body["meta"] == {"total": 3, "page": 1, "size": 2, "pages": 2}
    assert body["links"]["prev"] is None
    assert body["links"]["next"] == "/api/v2/products?page=2&size=2&sort=name"
    follow = (await client.get(body["links"]["next"])).json()
    assert [item["name"] for item in follow["data"]] == ["Lamp 2"]
    assert follow["links"]["next"] is None
    assert follow["links"]["prev"] == body["links"]["self"].replace("page=1", "page=1")


async def test_only_the_deprecated_operation_sends_the_headers(client: AsyncClient) -> None:
    await _create(client, 1)
    old = await client.get("/api/v1/products")
    assert old.headers["Deprecation"].startswith("@")
    sunset = parsedate_to_datetime(old.headers["Sunset"])
    assert sunset.year >= 2027
    assert old.headers["Link"] == '</api/v2/products>; rel="successor-version"'
    # also on its error answers: the client learns it either way
    invalid = await client.get("/api/v1/products", params={"size": 0})
    assert invalid.status_code == 422
    assert "Deprecation" in invalid.headers
    item_id = old.json()["items"][0]["id"]
    for response in (
        await client.get("/api/v2/products"),
        await client.get(f"/api/v1/products/{item_id}"),
        await client.get("/api/v1/suppliers"),
    ):
        assert response.status_code == 200
        assert "Deprecation" not in response.headers
        assert "Sunset" not in response.headers
