"""Sentry: off without a DSN; with one, an unhandled error reaches a real envelope
endpoint with the request id and without credentials."""

import json
from collections.abc import Iterator
from typing import Any, cast

import pytest
import sentry_sdk
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sentry_sdk.types import Event

from app.core.config import Settings
from app.main import create_app
from app.telemetry.errors import FILTERED, scrub_event
from tests.observability_receivers import envelope_items, http_receiver
from tests.observability_support import observability_settings

SECRETS = ("hunter2-password", "refresh-secret-value", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig")


@pytest.fixture(autouse=True)
def _sentry_off_afterwards() -> Iterator[None]:
    yield
    sentry_sdk.get_client().close()
    sentry_sdk.init()  # no DSN: a disabled client for the tests that follow


def test_scrub_event_filters_credentials_everywhere() -> None:
    event: dict[str, Any] = {
        "request": {
            "url": "https://api/x?token=abc&page=2",
            "query_string": "access_token=abc&page=2",
            "headers": {"Authorization": "Bearer abc", "X-Api-Key": "k", "Accept": "json"},
            "cookies": {"session": "s"},
            "data": {"email": "a@example.com", "password": "p", "refresh_token": "r"},
        },
        "extra": {"nested": [{"client_secret": "c"}, "Bearer xyz.abc"]},
        "breadcrumbs": {"values": [{"message": "login with eyJa.eyJb.c"}]},
    }
    scrubbed = scrub_event(cast(Event, event), {})
    assert scrubbed is not None
    request = scrubbed["request"]
    assert request["headers"] == {
        "Authorization": FILTERED,
        "X-Api-Key": FILTERED,
        "Accept": "json",
    }
    assert request["cookies"] == FILTERED
    assert request["data"] == {
        "email": "a@example.com",
        "password": FILTERED,
        "refresh_token": FILTERED,
    }
    assert request["url"] == f"https://api/x?token={FILTERED}&page=2"
    assert request["query_string"] == f"access_token={FILTERED}&page=2"
    assert scrubbed["extra"]["nested"] == [{"client_secret": FILTERED}, FILTERED]
    assert "eyJa" not in json.dumps(scrubbed)


def test_no_dsn_means_no_sentry(app: FastAPI) -> None:
    assert sentry_sdk.get_client().dsn is None  # nothing would be sent anywhere


async def test_unhandled_error_reaches_the_envelope_endpoint_scrubbed(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with http_receiver() as (address, received):
        config = observability_settings(
            sentry_dsn=f"http://publickey@{address}/42", sentry_release="shop@1.2.3"
        )
        monkeypatch.setattr(
            "app.extensions.observability.get_observability_settings", lambda: config
        )
        app = create_app(settings)

        @app.post("/test/explode")
        async def explode() -> None:
            msg = "boom in the handler"
            raise RuntimeError(msg)

        transport = ASGITransport(app=app, raise_app_exceptions=False)
        async with AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.post(
                "/test/explode?token=query-secret",
                headers={"Authorization": f"Bearer {SECRETS[2]}", "X-Request-ID": "sentry-req-01"},
                json={
                    "email": "a@example.com",
                    "password": SECRETS[0],
                    "refresh_token": SECRETS[1],
                },
            )
        assert response.status_code == 500
        sentry_sdk.flush(timeout=10)
        assert received.arrived.wait(10), "no envelope arrived"

    [(path, body)] = [item for item in received.requests if b'"exception"' in item[1]]
    assert path == "/api/42/envelope/"
    events = [payload for header, payload in envelope_items(body) if header["type"] == "event"]
    [event] = events
    assert event["exception"]["values"][-1]["value"] == "boom in the handler"
    assert event["tags"]["request_id"] == "sentry-req-01"
    assert event["release"] == "shop@1.2.3"
    assert event["environment"] == "testing"
    text = body.decode("utf-8", "replace")
    for secret in (*SECRETS, "query-secret"):
        assert secret not in text, secret
    headers = {key.lower(): value for key, value in event["request"]["headers"].items()}
    assert headers.get("authorization", FILTERED) == FILTERED
