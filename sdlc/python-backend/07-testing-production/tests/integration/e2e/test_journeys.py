"""Whole journeys over the HTTP API, as a client lives them (step 07, marker `e2e`)."""

from collections.abc import Awaitable, Callable

from httpx import AsyncClient

from app.domain.models.user import Role

AUTH = "/api/v1/auth"
PASSWORD = "a long enough password"


async def test_a_new_account_from_registration_to_logout(api_client: AsyncClient) -> None:
    credentials = {"email": "Reader@Example.com", "password": PASSWORD}
    assert (await api_client.post(f"{AUTH}/register", json=credentials)).status_code == 202

    login = await api_client.post(f"{AUTH}/login", json=credentials)
    assert login.status_code == 200, login.text
    tokens = login.json()
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}

    me = await api_client.get("/api/v1/users/me", headers=auth)
    assert me.status_code == 200
    assert me.json()["email"] == "reader@example.com"
    assert me.json()["roles"] == ["user"]

    refreshed = await api_client.post(
        f"{AUTH}/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status_code == 200, refreshed.text
    new_refresh = refreshed.json()["refresh_token"]
    assert new_refresh != tokens["refresh_token"]

    out = await api_client.post(f"{AUTH}/logout", json={"refresh_token": new_refresh})
    assert out.status_code == 204
    again = await api_client.post(f"{AUTH}/refresh", json={"refresh_token": new_refresh})
    assert again.status_code == 401
    assert again.headers["content-type"] == "application/problem+json"


async def test_catalogue_roles_editor_writes_user_reads_anonymous_is_refused(
    client_as: Callable[..., Awaitable[AsyncClient]], api_client: AsyncClient
) -> None:
    editor = await client_as(Role.EDITOR)
    reader = await client_as(Role.USER)

    supplier = await editor.post("/api/v1/suppliers", json={"name": "Acme"})
    assert supplier.status_code == 201, supplier.text
    product = {
        "name": "Lamp",
        "price": "19.90",
        "stock": 3,
        "is_active": True,
        "supplier_id": supplier.json()["id"],
    }
    created = await editor.post("/api/v1/products", json=product)
    assert created.status_code == 201, created.text
    location = created.headers["location"]

    listed = await reader.get("/api/v1/products")
    assert listed.status_code == 200
    assert [item["name"] for item in listed.json()["items"]] == ["Lamp"]
    assert (await reader.get(location)).json()["price"] == "19.90"

    forbidden = await reader.patch(location, json={"stock": 0})
    assert forbidden.status_code == 403
    anonymous = await api_client.delete(location)
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"

    assert (await editor.delete(location)).status_code == 204
    assert (await reader.get(location)).status_code == 404


async def test_only_an_admin_manages_users(
    admin_client: AsyncClient, editor_client: AsyncClient
) -> None:
    assert (await editor_client.get("/api/v1/users")).status_code == 403
    page = await admin_client.get("/api/v1/users")
    assert page.status_code == 200, page.text
    assert {user["roles"][0] for user in page.json()["items"]} == {"admin", "editor"}
