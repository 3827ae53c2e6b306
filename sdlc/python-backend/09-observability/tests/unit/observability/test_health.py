"""Readiness: discovered probes run concurrently, each under a timeout; 503 names what
failed; draining after SIGTERM fails readiness; startup and liveness."""

import asyncio
import os
import signal
import sys
import time
from collections.abc import Iterator
from types import ModuleType

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from app.core.extensions import Extension
from app.health.state import HealthState


async def _db_ok(app: FastAPI) -> None:
    """Stand-in for the PostgreSQL probe: these tests have no server."""


@pytest.fixture(autouse=True)
def _no_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("app.health.probes.database_probe", _db_ok)


@pytest.fixture
def probes(app: FastAPI) -> Iterator[dict[str, ModuleType]]:
    """Fake extension modules with a `readiness` function, registered like real ones.

    Other steps' own probes (Redis, storage, when present) are left out here: their steps
    test them, and these tests must not depend on which optional steps are installed."""
    app.state.extensions = [
        extension
        for extension in app.state.extensions
        if not callable(getattr(sys.modules.get(extension.name), "readiness", None))
    ]
    modules: dict[str, ModuleType] = {}

    def add(name: str, behaviour: str) -> None:
        module = ModuleType(f"app.extensions.{name}")

        async def readiness(app: FastAPI) -> None:
            if behaviour == "slow":
                await asyncio.sleep(0.6)
            elif behaviour == "hang":
                await asyncio.sleep(60)
            elif behaviour == "fail":
                msg = "connection refused to secret-host:6379"
                raise ConnectionError(msg)

        module.readiness = readiness  # type: ignore[attr-defined]
        modules[name] = module
        sys.modules[module.__name__] = module
        app.state.extensions.append(Extension(module.__name__, 50, None, None))

    app.state.add_probe = add
    yield modules
    for module in modules.values():
        sys.modules.pop(module.__name__, None)


async def test_ready_with_every_probe_ok(
    app: FastAPI, client: AsyncClient, probes: dict[str, ModuleType]
) -> None:
    app.state.add_probe("cache", "ok")
    response = await client.get("/health/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache"}
    assert response.headers["cache-control"] == "no-store"


async def test_probes_run_concurrently(
    app: FastAPI, client: AsyncClient, probes: dict[str, ModuleType]
) -> None:
    for name in ("one", "two", "three"):
        app.state.add_probe(name, "slow")
    started = time.perf_counter()
    response = await client.get("/health/ready")
    elapsed = time.perf_counter() - started
    assert response.status_code == 200
    assert elapsed < 1.5, elapsed  # three 0.6 s probes one after another would take 1.8 s


@pytest.mark.observability(health_timeout_seconds=0.3)
async def test_a_hanging_probe_times_out_and_names_itself(
    app: FastAPI, client: AsyncClient, probes: dict[str, ModuleType]
) -> None:
    app.state.add_probe("storage", "hang")
    app.state.add_probe("cache", "fail")
    started = time.perf_counter()
    response = await client.get("/health/ready")
    assert time.perf_counter() - started < 5
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["storage"] == {
        "status": "fail",
        "duration_ms": body["checks"]["storage"]["duration_ms"],
        "error": "timed out after 0.3s",
    }
    assert body["checks"]["cache"]["error"] == "ConnectionError"
    assert "secret-host" not in response.text  # exception messages stay in the logs


async def test_liveness_ignores_dependencies(
    app: FastAPI, client: AsyncClient, probes: dict[str, ModuleType]
) -> None:
    app.state.add_probe("cache", "fail")
    assert (await client.get("/health/ready")).status_code == 503
    assert (await client.get("/health/live")).status_code == 200


async def test_startup_probe_follows_the_lifespan(app: FastAPI) -> None:
    from httpx import ASGITransport

    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        # No lifespan ran: the app has not started.
        assert (await client.get("/health/startup")).status_code == 503
        async with app.router.lifespan_context(app):
            assert (await client.get("/health/startup")).json() == {"status": "ok"}


async def test_draining_fails_readiness(
    app: FastAPI, client: AsyncClient, probes: dict[str, ModuleType]
) -> None:
    assert (await client.get("/health/ready")).status_code == 200
    app.state.health.draining = True
    response = await client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["draining"] is True
    assert (await client.get("/health/live")).status_code == 200


async def test_sigterm_starts_the_drain_then_calls_the_previous_handler() -> None:
    calls: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: calls.append(signum))
    try:
        state = HealthState()
        state.install_drain(asyncio.get_running_loop(), drain_seconds=0.3)
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.sleep(0.05)
        assert state.draining
        assert calls == []  # still draining: the server keeps serving
        await asyncio.sleep(0.6)
        assert calls == [signal.SIGTERM]  # then the server's own shutdown starts
    finally:
        signal.signal(signal.SIGTERM, previous)
