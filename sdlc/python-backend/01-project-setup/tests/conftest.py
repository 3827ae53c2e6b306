"""Shared fixtures. The application is imported lazily inside fixtures, so unit tests
of one layer never depend on the whole app being importable."""

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import pytest
from httpx import ASGITransport, AsyncClient
from loguru import logger

from app.core.config import Environment, Settings

if TYPE_CHECKING:
    from fastapi import FastAPI


@pytest.fixture
def settings() -> Settings:
    """Settings for tests: no .env file, testing environment, quiet logs."""
    return Settings(_env_file=None, app_env=Environment.TESTING, log_level="WARNING")


@pytest.fixture
def app(settings: Settings) -> "FastAPI":
    from app.main import create_app

    return create_app(settings)


@pytest.fixture
async def client(app: "FastAPI") -> AsyncIterator[AsyncClient]:
    """HTTP client for the app, with its lifespan (startup/shutdown) running around it."""
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client,
    ):
        yield client


@pytest.fixture(autouse=True)
def _reset_loguru() -> Iterator[None]:
    """Tests may point Loguru at captured streams; drop those sinks afterwards."""
    yield
    logger.remove()
