"""Session endpoints: the id only in an HttpOnly cookie; read, log out, log out everywhere."""

from http.cookies import SimpleCookie

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.config import AuthSettings
from tests.integration.auth.helpers import bearer, token_for

SESSIONS = "/api/v1/sessions"


async def start_session(
    client: AsyncClient, session: AsyncSession, auth_config: AuthSettings, email: str
) -> tuple[str, dict[str, object]]:
    token = await token_for(client, session, auth_config, email)
    response = await client.post(SESSIONS, headers=bearer(token))
    assert response.status_code == 201, response.text
    cookie = SimpleCookie(response.headers["set-cookie"])["session"]
    return cookie.value, {"header": response.headers["set-cookie"], "body": response.text}


async def test_the_session_id_travels_only_in_an_httponly_cookie(
    client: AsyncClient, session: AsyncSession, auth_config: AuthSettings
) -> None:
    session_id, seen = await start_session(client, session, auth_config, "web@example.com")
    header = str(seen["header"]).lower()
    assert "httponly" in header
    assert "secure" in header
    assert "samesite=lax" in header
    assert session_id not in str(seen["body"])

    client.cookies.set("session", session_id)
    current = await client.get(f"{SESSIONS}/current")
    assert current.status_code == 200, current.text
    assert current.json()["expires_in"] > 0


async def test_no_or_forged_cookie_is_401(client: AsyncClient) -> None:
    assert (await client.get(f"{SESSIONS}/current")).status_code == 401
    client.cookies.set("session", "forged-session-id")
    response = await client.get(f"{SESSIONS}/current")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_creating_a_session_needs_a_token(client: AsyncClient) -> None:
    assert (await client.post(SESSIONS)).status_code == 401


async def test_logout_and_logout_everywhere(
    client: AsyncClient, session: AsyncSession, auth_config: AuthSettings
) -> None:
    token = await token_for(client, session, auth_config, "many@example.com")
    ids = []
    for _ in range(3):
        response = await client.post(SESSIONS, headers=bearer(token))
        ids.append(SimpleCookie(response.headers["set-cookie"])["session"].value)
        client.cookies.clear()

    client.cookies.set("session", ids[0])
    assert (await client.delete(f"{SESSIONS}/current")).status_code == 204
    assert (await client.get(f"{SESSIONS}/current")).status_code == 401

    client.cookies.set("session", ids[1])
    assert (await client.delete(SESSIONS)).status_code == 204
    for session_id in ids[1:]:
        client.cookies.set("session", session_id)
        assert (await client.get(f"{SESSIONS}/current")).status_code == 401
