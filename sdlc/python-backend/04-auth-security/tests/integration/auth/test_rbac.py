"""401 vs 403: admin endpoints and the write endpoints of generated modules."""

import re
import uuid

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.config import AuthSettings
from tests.integration.auth.helpers import bearer, create_user, login, token_for

pytestmark = pytest.mark.real_auth

PRODUCT = {"name": "Lamp", "price": "19.90", "stock": 3, "is_active": True}


async def test_generated_module_writes_need_a_writer(
    client: AsyncClient, session: AsyncSession, auth_config: AuthSettings
) -> None:
    response = await client.post("/api/v1/products", json=PRODUCT)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["code"] == "not_authenticated"

    forged = await client.post("/api/v1/products", json=PRODUCT, headers=bearer("not.a.token"))
    assert forged.status_code == 401
    assert forged.headers["www-authenticate"] == 'Bearer error="invalid_token"'

    user = await token_for(client, session, auth_config, "reader@example.com")
    denied = await client.post("/api/v1/products", json=PRODUCT, headers=bearer(user))
    assert denied.status_code == 403
    assert denied.json()["code"] == "forbidden"

    editor = await token_for(client, session, auth_config, "editor@example.com", "editor")
    created = await client.post("/api/v1/products", json=PRODUCT, headers=bearer(editor))
    assert created.status_code == 201, created.text
    product = f"/api/v1/products/{created.json()['id']}"

    # Reading stays public; PATCH and DELETE are guarded like POST.
    assert (await client.get(product)).status_code == 200
    assert (await client.patch(product, json={"stock": 1})).status_code == 401
    assert (await client.delete(product, headers=bearer(user))).status_code == 403
    assert (
        await client.patch(product, json={"stock": 1}, headers=bearer(editor))
    ).status_code == 200
    assert (await client.delete(product, headers=bearer(editor))).status_code == 204


async def test_every_write_operation_of_the_api_needs_a_token(client: AsyncClient) -> None:
    """Every module under /api/v1 — generated now or by `wf apply 02` later — is covered:
    the operations are read from the OpenAPI schema, not from a list in this test."""
    schema = (await client.get("/openapi.json")).json()
    checked = []
    for path, operations in schema["paths"].items():
        if path.startswith(("/api/v1/auth/", "/api/v1/users")):
            continue  # step 04's own endpoints, tested on their own
        for method in operations.keys() & {"post", "put", "patch", "delete"}:
            url = re.sub(r"{[^}]+}", str(uuid.uuid4()), path)
            response = await client.request(method.upper(), url, json={})
            assert response.status_code == 401, (method, path, response.text)
            assert response.headers["www-authenticate"] == "Bearer"
            checked.append(f"{method.upper()} {path}")
    assert len(checked) >= 6, checked  # products and suppliers: POST, PATCH, DELETE each


async def test_admin_endpoints(
    client: AsyncClient, session: AsyncSession, auth_config: AuthSettings
) -> None:
    assert (await client.get("/api/v1/users")).status_code == 401
    user_token = await token_for(client, session, auth_config, "user@example.com")
    assert (await client.get("/api/v1/users", headers=bearer(user_token))).status_code == 403
    editor = await token_for(client, session, auth_config, "ed@example.com", "editor")
    assert (await client.get("/api/v1/users", headers=bearer(editor))).status_code == 403

    admin_user = await create_user(session, auth_config, "root@example.com", "admin")
    admin = bearer((await login(client, "root@example.com"))["access_token"])
    page = await client.get("/api/v1/users?sort=email&email=example", headers=admin)
    assert page.status_code == 200, page.text
    assert [item["email"] for item in page.json()["items"]] == [
        "ed@example.com",
        "root@example.com",
        "user@example.com",
    ]

    target = next(item for item in page.json()["items"] if item["email"] == "user@example.com")
    url = f"/api/v1/users/{target['id']}"
    promoted = await client.patch(url, json={"roles": ["editor"]}, headers=admin)
    assert promoted.status_code == 200
    assert promoted.json()["roles"] == ["editor"]
    # Roles are read on every request: the same token can write now.
    assert (
        await client.post("/api/v1/products", json=PRODUCT, headers=bearer(user_token))
    ).status_code == 201

    disabled = await client.patch(url, json={"is_active": False}, headers=admin)
    assert disabled.status_code == 200
    assert (await client.get("/api/v1/users/me", headers=bearer(user_token))).status_code == 401
    relogin = await client.post(
        "/api/v1/auth/login",
        json={"email": "user@example.com", "password": "correct horse battery staple"},
    )
    assert relogin.status_code == 401

    self_edit = await client.patch(
        f"/api/v1/users/{admin_user.id}", json={"roles": []}, headers=admin
    )
    assert self_edit.status_code == 422
    missing = await client.patch(
        f"/api/v1/users/{uuid.uuid4()}", json={"is_active": True}, headers=admin
    )
    assert missing.status_code == 404
    bad_role = await client.patch(url, json={"roles": ["superuser"]}, headers=admin)
    assert bad_role.status_code == 422
