import pytest
from fastapi import FastAPI

from app.telemetry.config import ObservabilitySettings
from tests.observability_support import register_marker, use_observability_settings


def pytest_configure(config: pytest.Config) -> None:
    register_marker(config)


@pytest.fixture
def observability(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> ObservabilitySettings:
    return use_observability_settings(request, monkeypatch)


@pytest.fixture
def app(observability: ObservabilitySettings, app: FastAPI) -> FastAPI:
    """The app of tests/conftest.py, built after this folder's observability settings."""
    return app
