"""Spans: route template, status, no PII, probes and scrapes not traced, settings used."""

from fastapi import FastAPI
from httpx import AsyncClient

from app.core.config import Settings
from app.telemetry.tracing import build_resource, excluded_urls, scrub_attributes
from tests.observability_support import capture_spans, observability_settings


async def test_server_span_has_route_status_and_no_client_data(
    app: FastAPI, client: AsyncClient
) -> None:
    @app.get("/test/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    spans = capture_spans(app)
    response = await client.get(
        "/test/items/42?email=someone@example.com&token=abc",
        headers={"User-Agent": "probe", "X-Forwarded-For": "203.0.113.9"},
    )
    assert response.status_code == 200
    [server] = [span for span in spans.get_finished_spans() if span.kind.name == "SERVER"]
    attributes = dict(server.attributes or {})
    assert server.name == "GET /test/items/{item_id}"
    assert attributes["http.route"] == "/test/items/{item_id}"
    assert attributes.get("http.status_code", attributes.get("http.response.status_code")) == 200
    flat = repr(sorted(attributes.items()))
    for secret in ("someone@example.com", "token=abc", "203.0.113.9", "127.0.0.1"):
        assert secret not in flat, (secret, attributes)


async def test_health_and_metrics_are_not_traced(app: FastAPI, client: AsyncClient) -> None:
    spans = capture_spans(app)
    for path in ("/health/live", "/health/startup", "/metrics"):
        assert (await client.get(path)).status_code == 200, path
    assert spans.get_finished_spans() == ()


def test_scrub_attributes_drops_addresses_and_queries() -> None:
    scrubbed = scrub_attributes(
        {
            "http.url": "http://api/x?password=1",
            "url.full": "https://api/x?token=2",
            "http.target": "/x?email=a@b.c",
            "url.query": "token=3",
            "client.address": "198.51.100.1",
            "net.peer.ip": "198.51.100.1",
            "http.route": "/x",
        }
    )
    assert scrubbed == {
        "http.url": "http://api/x",
        "url.full": "https://api/x",
        "http.target": "/x",
        "http.route": "/x",
    }


def test_resource_comes_from_settings(settings: Settings) -> None:
    resource = build_resource(
        settings,
        observability_settings(
            otel_service_name="shop-api", otel_resource_attributes="team=core, region=eu-1"
        ),
    )
    attributes = resource.attributes
    assert attributes["service.name"] == "shop-api"
    assert attributes["service.version"] == settings.version
    assert attributes["deployment.environment"] == "testing"
    assert attributes["team"] == "core"
    assert attributes["region"] == "eu-1"


def test_sampling_ratio_zero_records_nothing(settings: Settings) -> None:
    from app.telemetry.tracing import build_tracer_provider

    provider = build_tracer_provider(settings, observability_settings(otel_traces_sampler_arg=0))
    with provider.get_tracer("t").start_as_current_span("x") as span:
        assert not span.is_recording()


def test_excluded_urls_match_only_probes_and_scrapes() -> None:
    import re

    patterns = [re.compile(p) for p in excluded_urls("/metrics").split(",")]

    def excluded(url: str) -> bool:
        return any(pattern.search(url) for pattern in patterns)

    assert excluded("http://api:8000/health/ready")
    assert excluded("http://api:8000/metrics")
    assert not excluded("http://api:8000/api/v1/metrics-report")
    assert not excluded("http://api:8000/api/v1/products")
