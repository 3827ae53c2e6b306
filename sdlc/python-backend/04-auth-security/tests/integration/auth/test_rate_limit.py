"""Rate limits on login, register and refresh; client IP and trusted proxies;
password hashing that does not block the event loop."""

import asyncio
import threading
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.config import AuthSettings
from app.auth.passwords import PasswordHasher, Verification
from tests.integration.auth.helpers import AUTH, PASSWORD, create_user

pytestmark = pytest.mark.real_auth

ATTACKER = "203.0.113.7"
PROXY = "10.0.0.2"


@pytest.fixture
async def peer_client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    """A client whose TCP peer address is ATTACKER (what the ASGI server would report)."""
    transport = ASGITransport(app=app, client=(ATTACKER, 51000))
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        yield client


def proxy_client(app: FastAPI) -> AsyncClient:
    transport = ASGITransport(app=app, client=(PROXY, 40000))
    return AsyncClient(transport=transport, base_url="http://test")


async def attempt(client: AsyncClient, email: str = "victim@example.com", **headers: str) -> int:
    response = await client.post(
        f"{AUTH}/login", json={"email": email, "password": "guess"}, headers=headers
    )
    return response.status_code


async def test_sixth_login_in_a_window_is_refused(peer_client: AsyncClient) -> None:
    statuses = [await attempt(peer_client, f"user{i}@example.com") for i in range(5)]
    assert statuses == [401] * 5
    response = await peer_client.post(
        f"{AUTH}/login", json={"email": "user9@example.com", "password": "guess"}
    )
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert response.headers["ratelimit-limit"] == "5"
    assert response.headers["ratelimit-remaining"] == "0"
    assert int(response.headers["ratelimit-reset"]) >= 1


async def test_successful_responses_announce_the_remaining_budget(
    peer_client: AsyncClient, session: AsyncSession, auth_config: AuthSettings
) -> None:
    await create_user(session, auth_config, "budget@example.com")
    response = await peer_client.post(
        f"{AUTH}/login", json={"email": "budget@example.com", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert response.headers["ratelimit-remaining"] == "4"


async def test_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored(
    peer_client: AsyncClient,
) -> None:
    statuses = [
        await attempt(peer_client, f"u{i}@example.com", **{"X-Forwarded-For": f"198.51.100.{i}"})
        for i in range(6)
    ]
    assert statuses == [401] * 5 + [429]


@pytest.mark.auth_settings(trusted_proxies=PROXY)
async def test_a_trusted_proxy_forwarded_for_is_honoured(app: FastAPI) -> None:
    async with app.router.lifespan_context(app), proxy_client(app) as client:
        # Six different clients behind the proxy: none of them is limited...
        statuses = [
            await attempt(client, f"c{i}@example.com", **{"X-Forwarded-For": f"198.51.100.{i}"})
            for i in range(6)
        ]
        assert statuses == [401] * 6
        # ...but one client is, even when it prepends fake hops of its own.
        spoofed = [
            await attempt(
                client, f"d{i}@example.com", **{"X-Forwarded-For": f"1.2.3.{i}, 198.51.100.77"}
            )
            for i in range(6)
        ]
        assert spoofed == [401] * 5 + [429]


@pytest.mark.auth_settings(trusted_proxies=PROXY, rate_limit_login_account="3/minute")
async def test_per_account_limit_across_addresses(app: FastAPI) -> None:
    async with app.router.lifespan_context(app), proxy_client(app) as client:
        statuses = [
            await attempt(client, "target@example.com", **{"X-Forwarded-For": f"192.0.2.{i}"})
            for i in range(4)
        ]
    assert statuses == [401, 401, 401, 429]


@pytest.mark.auth_settings(rate_limit_register_ip="2/hour")
async def test_register_is_limited(peer_client: AsyncClient) -> None:
    statuses = [
        (
            await peer_client.post(
                f"{AUTH}/register", json={"email": f"new{i}@example.com", "password": PASSWORD}
            )
        ).status_code
        for i in range(3)
    ]
    assert statuses == [202, 202, 429]


@pytest.mark.auth_settings(rate_limit_refresh_ip="2/minute")
async def test_refresh_is_limited(
    peer_client: AsyncClient, session: AsyncSession, auth_config: AuthSettings
) -> None:
    await create_user(session, auth_config, "spin@example.com")
    tokens = (
        await peer_client.post(
            f"{AUTH}/login", json={"email": "spin@example.com", "password": PASSWORD}
        )
    ).json()
    statuses = []
    for _ in range(3):
        response = await peer_client.post(
            f"{AUTH}/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        statuses.append(response.status_code)
        if response.status_code == 200:
            tokens = response.json()
    assert statuses == [200, 200, 429]


@pytest.mark.auth_settings(rate_limit_refresh_ip="3/minute")
async def test_refresh_with_garbage_tokens_is_limited_too(peer_client: AsyncClient) -> None:
    statuses = [
        (
            await peer_client.post(f"{AUTH}/refresh", json={"refresh_token": f"junk.{i}.x"})
        ).status_code
        for i in range(4)
    ]
    assert statuses == [401, 401, 401, 429]


@pytest.mark.auth_settings(rate_limit_enabled=False, password_hash_concurrency=2)
async def test_login_burst_does_not_block_the_event_loop(
    app: FastAPI,
    client: AsyncClient,
    session: AsyncSession,
    auth_config: AuthSettings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every verification is held mid-hash until a liveness probe has been answered."""
    await create_user(session, auth_config, "burst@example.com")
    hasher: PasswordHasher = app.state.auth.hasher
    verify = hasher._verify_sync
    loop = asyncio.get_running_loop()
    hashing = asyncio.Event()
    release = threading.Event()
    timed_out: list[bool] = []
    counting = threading.Lock()
    running = [0, 0]  # now, most at once

    def held_verify(password: str, stored_hash: str) -> Verification:
        with counting:
            running[0] += 1
            running[1] = max(running)
        loop.call_soon_threadsafe(hashing.set)
        # On the event loop's own thread this wait freezes the loop: no probe can be
        # answered, so it can only end by timing out.
        timed_out.append(not release.wait(timeout=20))
        with counting:
            running[0] -= 1
        return verify(password, stored_hash)

    monkeypatch.setattr(hasher, "_verify_sync", held_verify)
    body = {"email": "burst@example.com", "password": PASSWORD}
    burst = [asyncio.create_task(client.post(f"{AUTH}/login", json=body)) for _ in range(8)]
    await hashing.wait()
    probes = [(await client.get("/health/live")).status_code for _ in range(3)]
    release.set()
    responses = await asyncio.gather(*burst)

    assert probes == [200, 200, 200]
    assert [response.status_code for response in responses] == [200] * 8
    assert timed_out == [False] * 8, "a verification ran on the event loop's thread"
    assert running[1] <= 2, f"{running[1]} hashes at once; PASSWORD_HASH_CONCURRENCY is 2"
