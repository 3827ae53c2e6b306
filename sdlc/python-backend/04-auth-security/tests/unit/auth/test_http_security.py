"""Security headers and CORS, through the whole application (no database needed)."""

from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from app.core.config import Environment, Settings
from app.main import create_app
from tests.strict import STRICT_VALUES

EXPECTED = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
}
ORIGIN = "https://app.example"


async def get(settings: Settings, path: str, **kwargs: Any) -> Any:
    app = create_app(settings)
    transport = ASGITransport(app=app)
    async with AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get(path, **kwargs)


@pytest.mark.parametrize("path", ["/health/live", "/api/v1/users/me", "/no-such-page"])
async def test_every_response_carries_the_security_headers(client: AsyncClient, path: str) -> None:
    response = await client.get(path)
    for name, value in EXPECTED.items():
        assert response.headers[name] == value, name
    assert "camera=()" in response.headers["permissions-policy"]
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "strict-transport-security" not in response.headers  # not production


async def test_a_crash_still_carries_the_security_headers(app: FastAPI) -> None:
    """A 500 comes from step 01's innermost error middleware, inside this one."""

    @app.get("/crash")
    async def crash() -> None:
        raise RuntimeError("boom")

    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/crash")
    assert response.status_code == 500
    for name, value in EXPECTED.items():
        assert response.headers[name] == value, name
    assert "default-src 'none'" in response.headers["content-security-policy"]


async def test_docs_page_gets_a_csp_that_lets_swagger_ui_load(client: AsyncClient) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net" in csp
    # The page's bundle comes from jsDelivr (FastAPI's page) or this server (step 06's).
    assert 'src="https://cdn.jsdelivr.net/' in response.text or 'src="/' in response.text
    assert "frame-ancestors 'none'" in csp


async def test_hsts_only_in_production() -> None:
    production = Settings(
        _env_file=None, app_env=Environment.PRODUCTION, log_level="WARNING", **STRICT_VALUES
    )
    response = await get(production, "/health/live")
    assert response.headers["strict-transport-security"] == "max-age=63072000; includeSubDomains"
    assert response.headers["x-frame-options"] == "DENY"


@pytest.mark.auth_settings(cors_origins=ORIGIN)
async def test_cors_preflight_allowed_for_a_configured_origin(client: AsyncClient) -> None:
    response = await client.options(
        "/api/v1/auth/login",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "POST" in response.headers["access-control-allow-methods"]
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.auth_settings(cors_origins=ORIGIN)
async def test_cors_preflight_denied_for_another_origin(client: AsyncClient) -> None:
    response = await client.options(
        "/api/v1/auth/login",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers
    simple = await client.get("/health/live", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in simple.headers


async def test_no_cors_headers_without_configured_origins(client: AsyncClient) -> None:
    response = await client.get("/health/live", headers={"Origin": ORIGIN})
    assert "access-control-allow-origin" not in response.headers


async def test_openapi_offers_the_oauth2_password_flow(client: AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    flows = schema["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]
    assert flows["password"]["tokenUrl"] == "/api/v1/auth/token"
