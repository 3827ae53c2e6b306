"""The auth API on real PostgreSQL: register, login, rotation, reuse detection, logout."""

from typing import Any

import bcrypt
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.passwords import PasswordHasher, Verification
from app.domain.models.user import RefreshToken, User
from tests.integration.auth.helpers import AUTH, PASSWORD, bearer, login

pytestmark = pytest.mark.real_auth


async def register(client: AsyncClient, email: str, password: str = PASSWORD) -> None:
    response = await client.post(f"{AUTH}/register", json={"email": email, "password": password})
    assert response.status_code == 202, response.text


async def me(client: AsyncClient, access_token: str) -> int:
    return (await client.get("/api/v1/users/me", headers=bearer(access_token))).status_code


async def refresh(client: AsyncClient, refresh_token: str) -> Any:
    return await client.post(f"{AUTH}/refresh", json={"refresh_token": refresh_token})


async def test_full_flow(client: AsyncClient, session: AsyncSession) -> None:
    await register(client, "Ada@Example.com")
    tokens = await login(client, "ada@example.COM")  # e-mail is case-insensitive
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 900

    profile = await client.get("/api/v1/users/me", headers=bearer(tokens["access_token"]))
    assert profile.status_code == 200
    assert profile.json()["email"] == "ada@example.com"
    assert profile.json()["roles"] == ["user"]
    assert "password_hash" not in profile.json()

    # Refresh rotates: a new pair; the presented refresh token is spent.
    rotated = await refresh(client, tokens["refresh_token"])
    assert rotated.status_code == 200, rotated.text
    newest = rotated.json()
    assert newest["refresh_token"] != tokens["refresh_token"]
    assert rotated.headers["cache-control"] == "no-store"
    assert await me(client, newest["access_token"]) == 200

    # Replaying the spent token: refused, and the whole family is revoked...
    replay = await refresh(client, tokens["refresh_token"])
    assert replay.status_code == 401
    assert replay.json()["code"] == "invalid_token"
    assert "already used" in replay.json()["detail"]
    # ...so the newest refresh token (the thief's or the user's) fails as well,
    # and so do the session's unexpired access tokens.
    assert (await refresh(client, newest["refresh_token"])).status_code == 401
    assert await me(client, newest["access_token"]) == 401

    rows = await session.scalars(select(RefreshToken))
    assert all(row.revoked_at is not None for row in rows)
    stored = await session.scalar(
        select(func.count())
        .select_from(RefreshToken)
        .where(RefreshToken.token_hash == newest["refresh_token"])
    )
    assert stored == 0  # only hashes are stored


async def test_logout_revokes_the_session(client: AsyncClient) -> None:
    await register(client, "grace@example.com")
    tokens = await login(client, "grace@example.com")
    other_device = await login(client, "grace@example.com")
    response = await client.post(f"{AUTH}/logout", json={"refresh_token": tokens["refresh_token"]})
    assert response.status_code == 204
    assert (await refresh(client, tokens["refresh_token"])).status_code == 401
    # The session's access token ends with it (unexpired); other sessions live on.
    assert await me(client, tokens["access_token"]) == 401
    assert await me(client, other_device["access_token"]) == 200


async def test_logout_all_makes_unexpired_access_tokens_fail(client: AsyncClient) -> None:
    await register(client, "linus@example.com")
    laptop = await login(client, "linus@example.com")
    phone = await login(client, "linus@example.com")
    assert await me(client, phone["access_token"]) == 200

    response = await client.post(f"{AUTH}/logout-all", headers=bearer(laptop["access_token"]))
    assert response.status_code == 204
    for device in (laptop, phone):
        assert await me(client, device["access_token"]) == 401  # still unexpired, refused
        assert (await refresh(client, device["refresh_token"])).status_code == 401


async def test_unknown_email_and_wrong_password_look_the_same(client: AsyncClient) -> None:
    await register(client, "known@example.com")
    wrong = await client.post(
        f"{AUTH}/login", json={"email": "known@example.com", "password": "not the password"}
    )
    unknown = await client.post(
        f"{AUTH}/login", json={"email": "nobody@example.com", "password": "not the password"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.headers["www-authenticate"] == unknown.headers["www-authenticate"] == "Bearer"


async def test_unknown_email_costs_a_password_verification_too(
    app: FastAPI, client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same answer is not enough: without the dummy hash, timing would tell."""
    await register(client, "timed@example.com")
    hasher: PasswordHasher = app.state.auth.hasher
    verified: list[str] = []
    verify = hasher._verify_sync

    def spy(password: str, stored_hash: str) -> Verification:
        verified.append(stored_hash.split("$")[3])  # the Argon2 parameters m=…,t=…,p=…
        return verify(password, stored_hash)

    monkeypatch.setattr(hasher, "_verify_sync", spy)
    for email in ("timed@example.com", "nobody@example.com"):
        await client.post(f"{AUTH}/login", json={"email": email, "password": "wrong guess"})
    assert len(verified) == 2
    assert verified[0] == verified[1]


async def test_register_does_not_reveal_existing_accounts(
    client: AsyncClient, session: AsyncSession
) -> None:
    body = {"email": "taken@example.com", "password": PASSWORD}
    first = await client.post(f"{AUTH}/register", json=body)
    second = await client.post(f"{AUTH}/register", json=body | {"password": "another password"})
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    count = await session.scalar(select(func.count()).select_from(User))
    assert count == 1
    await login(client, "taken@example.com")  # the first password still works


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-email", "password": PASSWORD},
        {"email": "short@example.com", "password": "short"},
        {"email": "nul@example.com", "password": PASSWORD, "full_name": "a\x00b"},
        {"email": "extra@example.com", "password": PASSWORD, "roles": ["admin"]},
    ],
)
async def test_register_rejects_bad_input(client: AsyncClient, body: dict[str, Any]) -> None:
    response = await client.post(f"{AUTH}/register", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_oauth2_form_login_for_swagger(client: AsyncClient) -> None:
    await register(client, "form@example.com")
    response = await client.post(
        f"{AUTH}/token", data={"username": "FORM@example.com", "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    assert await me(client, response.json()["access_token"]) == 200


async def test_password_change_needs_the_current_one_and_ends_other_sessions(
    client: AsyncClient,
) -> None:
    await register(client, "pat@example.com")
    other = await login(client, "pat@example.com")
    this = await login(client, "pat@example.com")
    wrong = await client.patch(
        "/api/v1/users/me",
        headers=bearer(this["access_token"]),
        json={"current_password": "wrong password", "new_password": "a brand new password"},
    )
    assert wrong.status_code == 403
    missing = await client.patch(
        "/api/v1/users/me",
        headers=bearer(this["access_token"]),
        json={"new_password": "a brand new password"},
    )
    assert missing.status_code == 422

    changed = await client.patch(
        "/api/v1/users/me",
        headers=bearer(this["access_token"]),
        json={
            "current_password": PASSWORD,
            "new_password": "a brand new password",
            "full_name": "Pat",
        },
    )
    assert changed.status_code == 200, changed.text
    fresh = changed.json()["tokens"]
    assert changed.json()["user"]["full_name"] == "Pat"
    assert await me(client, other["access_token"]) == 401
    assert (await refresh(client, other["refresh_token"])).status_code == 401
    assert await me(client, fresh["access_token"]) == 200
    await login(client, "pat@example.com", "a brand new password")
    old = await client.post(
        f"{AUTH}/login", json={"email": "pat@example.com", "password": PASSWORD}
    )
    assert old.status_code == 401


async def test_login_upgrades_a_legacy_bcrypt_hash(
    client: AsyncClient, session: AsyncSession
) -> None:
    legacy = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    session.add(User(email="legacy@example.com", password_hash=legacy))
    await session.commit()
    await login(client, "legacy@example.com")
    stored = await session.scalar(
        text("SELECT password_hash FROM users WHERE email = 'legacy@example.com'")
    )
    assert stored.startswith("$argon2id$")
    await login(client, "legacy@example.com")


async def test_expired_refresh_rows_are_pruned_at_login(
    client: AsyncClient, session: AsyncSession
) -> None:
    await register(client, "prune@example.com")
    await login(client, "prune@example.com")
    await session.execute(text("UPDATE refresh_tokens SET expires_at = now() - interval '1 day'"))
    await session.commit()
    await login(client, "prune@example.com")
    count = await session.scalar(select(func.count()).select_from(RefreshToken))
    assert count == 1


@pytest.mark.auth_settings(refresh_cookie_enabled=True)
async def test_refresh_token_in_an_httponly_cookie(client: AsyncClient) -> None:
    await register(client, "cookie@example.com")
    response = await client.post(
        f"{AUTH}/login", json={"email": "cookie@example.com", "password": PASSWORD}
    )
    cookie = response.headers["set-cookie"]
    for attribute in ("HttpOnly", "Secure", "SameSite=strict", "Path=/api/v1/auth"):
        assert attribute.lower() in cookie.lower(), attribute
    token = response.json()["refresh_token"]
    # Sent the way a browser sends it: only the cookie, no body.
    rotated = await client.post(f"{AUTH}/refresh", headers={"Cookie": f"refresh_token={token}"})
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["refresh_token"] in rotated.headers["set-cookie"]
    again = await client.post(f"{AUTH}/refresh", headers={"Cookie": f"refresh_token={token}"})
    assert again.status_code == 401
