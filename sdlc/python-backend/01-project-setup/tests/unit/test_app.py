import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from loguru import logger

from app.api.v1.router import build_router
from app.core.config import Settings
from app.main import create_app
from tests.strict import STRICT_VALUES


async def test_liveness(client: AsyncClient) -> None:
    response = await client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_lifespan_logs_startup_and_shutdown(settings: Settings) -> None:
    app = create_app(settings)
    messages: list[str] = []
    logger.add(messages.append, format="{message}", level="INFO")
    async with app.router.lifespan_context(app):
        pass
    assert any(message.startswith("Starting backend-service") for message in messages)
    assert messages[-1].strip() == "Shutdown complete"


@pytest.mark.parametrize("path", ["/openapi.json", "/docs", "/redoc"])
async def test_production_publishes_no_api_description(path: str) -> None:
    production = Settings(_env_file=None, app_env="production", **STRICT_VALUES)
    development = Settings(_env_file=None, app_env="development")
    for settings, status in ((production, 404), (development, 200)):
        transport = ASGITransport(app=create_app(settings))
        async with AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.get(path)
        assert response.status_code == status, (settings.app_env, path)


@pytest.fixture
def endpoints_package(tmp_path: Path) -> Iterator[ModuleType]:
    """A throwaway `fake_endpoints` package on sys.path."""
    package = tmp_path / "fake_endpoints"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "_private.py").write_text("raise RuntimeError('must not be imported')\n")
    (package / "widgets.py").write_text(
        "from fastapi import APIRouter\n"
        "router = APIRouter(prefix='/widgets')\n"
        "@router.get('')\n"
        "async def list_widgets() -> list[str]:\n"
        "    return []\n"
    )
    sys.path.insert(0, str(tmp_path))
    try:
        import fake_endpoints  # type: ignore[import-not-found]

        yield fake_endpoints
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name.startswith("fake_endpoints")]:
            del sys.modules[name]


async def test_build_router_discovers_endpoint_modules(endpoints_package: ModuleType) -> None:
    app = FastAPI()
    app.include_router(build_router(endpoints_package), prefix="/api/v1")
    assert list(app.openapi()["paths"]) == ["/api/v1/widgets"]
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        response = await client.get("/api/v1/widgets")
    assert response.json() == []


def test_build_router_rejects_module_without_router(endpoints_package: ModuleType) -> None:
    (Path(endpoints_package.__path__[0]) / "broken.py").write_text("ROUTER = None\n")
    with pytest.raises(TypeError, match="must define `router"):
        build_router(endpoints_package)


async def test_a_body_above_the_limit_is_refused_without_being_read() -> None:
    settings = Settings(
        _env_file=None, app_env="testing", log_level="WARNING", max_request_body_bytes=2048
    )
    app = create_app(settings)

    @app.post("/echo")
    async def echo(payload: dict[str, str]) -> int:
        return len(payload["text"])

    pulled: list[int] = []

    async def body() -> AsyncIterator[bytes]:
        for _ in range(64):  # 64 KiB in 1 KiB chunks, counted as the app pulls them
            pulled.append(1)
            yield b"a" * 1024

    transport = ASGITransport(app=app)
    async with AsyncClient(transport=transport, base_url="http://test") as client:
        small = await client.post("/echo", json={"text": "a" * 1000})
        declared = await client.post(
            "/echo",
            content=body(),
            headers={"content-type": "application/json", "content-length": str(64 * 1024)},
        )
        declared_pulled, pulled[:] = len(pulled), []
        chunked = await client.post(
            "/echo", content=body(), headers={"content-type": "application/json"}
        )
    assert small.status_code == 200
    assert small.json() == 1000
    for response in (declared, chunked):
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == 413
        assert response.json()["detail"] == "The request body is larger than 2048 bytes"
    assert declared_pulled == 0  # refused on its Content-Length, before one byte was read
    assert len(pulled) <= 3  # refused as soon as the running count passed 2 KiB
