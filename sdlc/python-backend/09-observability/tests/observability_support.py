"""Shared by the observability tests: fixed settings, captured logs and spans."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pytest
from loguru import logger
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from app.extensions import observability as observability_extension
from app.telemetry.config import ObservabilitySettings
from app.telemetry.tracing import ScrubbingSpanProcessor

if TYPE_CHECKING:
    from fastapi import FastAPI
    from loguru import Message


def observability_settings(**values: Any) -> ObservabilitySettings:
    return ObservabilitySettings(_env_file=None, **values)


def use_observability_settings(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> ObservabilitySettings:
    marker = request.node.get_closest_marker("observability")
    config = observability_settings(**(marker.kwargs if marker else {}))
    monkeypatch.setattr(observability_extension, "get_observability_settings", lambda: config)
    return config


def register_marker(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "observability(**values): ObservabilitySettings for this test"
    )


@contextmanager
def captured_logs() -> Iterator[list[dict[str, Any]]]:
    """Every Loguru record (message + extra) written while the block runs."""
    records: list[dict[str, Any]] = []

    def sink(message: "Message") -> None:
        record = message.record
        records.append({"message": record["message"], **record["extra"]})

    handler = logger.add(sink, level="DEBUG")
    try:
        yield records
    finally:
        logger.remove(handler)


def capture_spans(app: "FastAPI") -> InMemorySpanExporter:
    """Spans of `app`, scrubbed exactly as the OTLP exporter would get them."""
    exporter = InMemorySpanExporter()
    app.state.tracer_provider.add_span_processor(
        ScrubbingSpanProcessor(SimpleSpanProcessor(exporter))
    )
    return exporter
