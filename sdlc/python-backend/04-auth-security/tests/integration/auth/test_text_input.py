"""Text PostgreSQL cannot store (NUL) is refused before it reaches the database.

Step 04's own inputs answer 422 naming the field; and every string query parameter of
every GET operation in the served document (any step's, read from the schema, not from a
list here) is sent a NUL as an administrator: none may answer 5xx.
"""

import re
import uuid
from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.config import AuthSettings
from tests.integration.auth.helpers import AUTH, PASSWORD, bearer, token_for

pytestmark = pytest.mark.real_auth

NUL = "a\x00b"
# A value for a required parameter of another type, so the NUL is what gets judged.
SAMPLES: dict[str, Any] = {"integer": 1, "number": 1, "boolean": "true"}


def _locations(response: Response) -> list[list[Any]]:
    assert response.status_code == 422, response.text
    return [error["loc"] for error in response.json()["errors"]]


def _types(schema: dict[str, Any]) -> set[str]:
    """The JSON types a parameter schema admits (`type`, or each `anyOf` branch)."""
    found = {schema["type"]} if isinstance(schema.get("type"), str) else set()
    for branch in schema.get("anyOf", []):
        found |= _types(branch)
    return found


def _sample(parameter: dict[str, Any]) -> Any:
    kinds = sorted(_types(parameter["schema"]) & SAMPLES.keys())
    return SAMPLES[kinds[0]] if kinds else None


async def test_own_inputs_refuse_nul(
    client: AsyncClient, session: AsyncSession, auth_config: AuthSettings
) -> None:
    admin = bearer(await token_for(client, session, auth_config, "root@example.com", "admin"))
    listed = await client.get("/api/v1/users", params={"email": NUL}, headers=admin)
    assert _locations(listed) == [["query", "email"]]

    form = {"username": f"{NUL}@example.com", "password": PASSWORD}
    assert _locations(await client.post(f"{AUTH}/token", data=form)) == [["body", "username"]]
    login = {"email": f"{NUL}@example.com", "password": PASSWORD}
    assert _locations(await client.post(f"{AUTH}/login", json=login)) == [["body", "email"]]
    named = {"email": "new@example.com", "password": PASSWORD, "full_name": NUL}
    registered = await client.post(f"{AUTH}/register", json=named)
    assert _locations(registered) == [["body", "full_name"]]
    renamed = await client.patch("/api/v1/users/me", json={"full_name": NUL}, headers=admin)
    assert _locations(renamed) == [["body", "full_name"]]


async def test_no_string_query_parameter_reaches_postgresql_with_nul(
    client: AsyncClient, session: AsyncSession, auth_config: AuthSettings
) -> None:
    admin = bearer(await token_for(client, session, auth_config, "root@example.com", "admin"))
    schema = (await client.get("/openapi.json")).json()
    checked = []
    for path, operations in schema["paths"].items():
        if "get" not in operations:
            continue
        url = re.sub(r"{[^}]+}", str(uuid.uuid4()), path)
        parameters = [p for p in operations["get"].get("parameters", []) if p["in"] == "query"]
        required = {
            p["name"]: _sample(p)
            for p in parameters
            if p.get("required") and _sample(p) is not None
        }
        for parameter in parameters:
            if "string" not in _types(parameter["schema"]):
                continue
            params = required | {parameter["name"]: NUL}
            response = await client.get(url, params=params, headers=admin)
            assert response.status_code < 500, (path, parameter["name"], response.text)
            checked.append(f"{path}?{parameter['name']}")
    # Step 04's list of users and the generated modules' text filters are among them.
    assert {"/api/v1/users?email", "/api/v1/products?name"} <= set(checked), checked
