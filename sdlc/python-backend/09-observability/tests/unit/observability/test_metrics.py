"""/metrics: request counter and latency histogram by route template, in-progress gauge,
app metrics found by discovery, and not public in production."""

import asyncio
from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from prometheus_client.parser import text_string_to_metric_families

from app.core.config import Environment, Settings
from app.main import create_app
from app.metrics import names

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def app(app: FastAPI) -> FastAPI:
    @app.get("/test/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    return app


async def test_requests_are_counted_by_route_template(client: AsyncClient) -> None:
    for item_id in (1, 2, 3):
        assert (await client.get(f"/test/items/{item_id}")).status_code == 200
    assert (await client.get("/no/such/path/123")).status_code == 404
    samples = parse((await client.get("/metrics")).text)

    route = {"handler": "/test/items/{item_id}", "method": "GET"}
    assert value(samples, names.HTTP_REQUESTS, status="200", **route) == 3
    assert value(samples, f"{names.HTTP_DURATION}_count", **route) == 3
    assert value(samples, f"{names.HTTP_DURATION}_bucket", le="+Inf", **route) == 3
    # Unknown paths share one label value: a scanner cannot create series.
    assert value(samples, names.HTTP_REQUESTS, handler="none", method="GET", status="404") == 1
    raw = [key for key in samples if any("/test/items/1" in v for _, v in key[1])]
    assert raw == []
    # Probes and scrapes are not counted.
    assert not any(("handler", "/metrics") in key[1] for key in samples)


async def test_in_progress_gauge_counts_running_requests(app: FastAPI, client: AsyncClient) -> None:
    release = asyncio.Event()
    entered = asyncio.Event()

    @app.get("/test/slow")
    async def slow() -> dict[str, str]:
        entered.set()
        await release.wait()
        return {}

    pending = asyncio.create_task(client.get("/test/slow"))
    await entered.wait()
    during = parse((await client.get("/metrics")).text)
    release.set()
    await pending
    after = parse((await client.get("/metrics")).text)
    labels = {"handler": "/test/slow", "method": "GET"}
    assert value(during, names.HTTP_IN_PROGRESS, **labels) == 1
    assert value(after, names.HTTP_IN_PROGRESS, **labels) == 0


async def test_app_metrics_pool_workers_and_cache_by_discovery(
    app: FastAPI, client: AsyncClient
) -> None:
    samples = parse((await client.get("/metrics")).text)
    assert value(samples, names.WORKERS) == 1
    assert value(samples, names.DB_POOL_MAX) == 15  # pool 5 + overflow 10
    assert value(samples, names.DB_POOL_IN_USE) == 0

    # Step 08 exposes app.state.cache.stats; a stand-in with the same shape:
    stats = SimpleNamespace(hits=7, misses=3, errors=0)
    app.state.cache = SimpleNamespace(stats=stats)
    samples = parse((await client.get("/metrics")).text)
    assert value(samples, names.CACHE_HITS) == 7
    assert value(samples, names.CACHE_MISSES) == 3
    stats.hits = 10
    samples = parse((await client.get("/metrics")).text)
    assert value(samples, names.CACHE_HITS) == 10  # growth carried, never double-counted


def production(**values: object) -> Settings:
    return Settings(
        _env_file=None,
        app_env=Environment.PRODUCTION,
        log_level="WARNING",
        secret_key="k" * 48,
        database_url="postgresql://app:Zq8vL2rT9wX4-not-default@db.invalid/app",
        **values,  # type: ignore[arg-type]
    )


@pytest.mark.auth_settings(jwt_secret_key="j" * 48)
async def test_production_without_token_does_not_serve_metrics() -> None:
    app = create_app(production())
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        assert (await client.get("/metrics")).status_code == 404


@pytest.mark.observability(metrics_token="scrape-token-0123456789")
async def test_metrics_token_is_required_when_set(client: AsyncClient) -> None:
    refused = await client.get("/metrics")
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    ok = await client.get("/metrics", headers={"Authorization": "Bearer scrape-token-0123456789"})
    assert ok.status_code == 200
    assert names.HTTP_REQUESTS in ok.text or "# HELP" in ok.text
