"""Swagger UI and ReDoc: served offline in development, absent in production."""

import re

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from app.api_docs import config as docs_config
from app.api_docs.spec import build_openapi
from app.core.config import Environment, Settings
from app.main import create_app
from tests.strict import STRICT_VALUES

DOC_PATHS = ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect")


def _client(app: FastAPI) -> AsyncClient:
    return AsyncClient(transport=ASGITransport(app=app), base_url="http://test")


async def test_pages_load_only_local_assets(client: AsyncClient) -> None:
    for page in ("/docs", "/redoc"):
        response = await client.get(page)
        assert response.status_code == 200
        html = response.text
        assert "cdn.jsdelivr.net" not in html
        assert "fonts.googleapis.com" not in html
        urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
        urls += re.findall(r"""url:\s*['"]([^'"]+)['"]""", html)
        assert urls, html
        for url in urls:
            assert url.startswith("/"), f"{page} loads {url} from elsewhere"
            asset = await client.get(url)
            assert asset.status_code == 200, url
            assert len(asset.content) > 50, url


async def test_swagger_ui_keeps_the_authorization_and_uses_the_password_flow(
    client: AsyncClient,
) -> None:
    html = (await client.get("/docs")).text
    assert '"persistAuthorization": true' in html
    assert '"validatorUrl": null' in html
    assert "/docs/oauth2-redirect" in html
    redirect = await client.get("/docs/oauth2-redirect")
    assert redirect.status_code == 200
    spec = (await client.get("/openapi.json")).json()
    flow = spec["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]["password"]
    assert flow["tokenUrl"] == "/api/v1/auth/token"


async def test_served_document_is_the_built_one(app: FastAPI, client: AsyncClient) -> None:
    served = (await client.get("/openapi.json")).json()
    assert served == build_openapi(app)
    assert served["openapi"] == "3.1.0"


@pytest.mark.parametrize("path", DOC_PATHS)
async def test_production_serves_no_docs_and_no_schema(path: str) -> None:
    production = Settings(_env_file=None, app_env=Environment.PRODUCTION, **STRICT_VALUES)
    async with _client(create_app(production)) as client:
        assert (await client.get(path)).status_code == 404
        assert (await client.get("/docs/assets/swagger-ui-bundle.js")).status_code == 404


@pytest.mark.parametrize("path", DOC_PATHS)
async def test_the_setting_turns_docs_off_elsewhere_too(
    path: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("API_DOCS_ENABLED", "false")
    docs_config.get_api_docs_settings.cache_clear()
    try:
        async with _client(create_app(settings)) as client:
            assert (await client.get(path)).status_code == 404
    finally:
        docs_config.get_api_docs_settings.cache_clear()
