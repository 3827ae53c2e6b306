"""OpenTelemetry tracing: provider from settings, OTLP/HTTP export, no PII in spans.

The provider is built in `install` (no threads, nothing sent) so the FastAPI
instrumentation can be attached before the app starts; the exporter and its batch
processor start in the lifespan and are flushed and shut down with it.
"""

import re
from collections.abc import Mapping

from opentelemetry import context as otel_context
from opentelemetry.sdk.resources import (
    DEPLOYMENT_ENVIRONMENT,
    SERVICE_NAME,
    SERVICE_VERSION,
    Resource,
)
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.util.types import AttributeValue

from app.core.config import Settings
from app.telemetry.config import ObservabilitySettings

# Client addresses and query strings are personal data or may carry tokens
# (`?token=...`, `?email=...`): they never leave the process in a span.
DROPPED_ATTRIBUTES = frozenset(
    {
        "client.address",
        "client.port",
        "http.client_ip",
        "net.peer.ip",
        "net.peer.port",
        "net.sock.peer.addr",
        "net.sock.peer.port",
        "network.peer.address",
        "network.peer.port",
        "url.query",
        "enduser.id",
        "user.id",
        "user.email",
    }
)
URL_ATTRIBUTES = frozenset({"http.url", "url.full", "http.target"})


def service_name(settings: Settings, observability: ObservabilitySettings) -> str:
    return observability.otel_service_name or settings.app_name


def build_resource(settings: Settings, observability: ObservabilitySettings) -> Resource:
    attributes: dict[str, str] = {
        SERVICE_NAME: service_name(settings, observability),
        SERVICE_VERSION: settings.version,
        DEPLOYMENT_ENVIRONMENT: settings.app_env.value,
    }
    attributes.update(observability.resource_attributes)
    return Resource.create(attributes)


def build_tracer_provider(
    settings: Settings, observability: ObservabilitySettings
) -> TracerProvider:
    # ParentBased: a request that arrives with a sampled `traceparent` stays sampled, so
    # a trace that started upstream is not cut in half here.
    sampler = ParentBased(TraceIdRatioBased(observability.otel_traces_sampler_arg))
    # shutdown_on_exit=False: the lifespan flushes and shuts it down, not an atexit hook
    # (a worker killed with os._exit, as Gunicorn does, never runs atexit).
    return TracerProvider(
        resource=build_resource(settings, observability),
        sampler=sampler,
        shutdown_on_exit=False,
    )


def scrub_attributes(attributes: Mapping[str, AttributeValue]) -> dict[str, AttributeValue]:
    clean: dict[str, AttributeValue] = {}
    for key, value in attributes.items():
        if key in DROPPED_ATTRIBUTES:
            continue
        if key in URL_ATTRIBUTES and isinstance(value, str):
            value = value.split("?", 1)[0]
        clean[key] = value
    return clean


class ScrubbingSpanProcessor(SpanProcessor):
    """Hands the exporter a copy of each finished span without the attributes above."""

    def __init__(self, delegate: SpanProcessor) -> None:
        self.delegate = delegate

    def on_start(self, span: Span, parent_context: otel_context.Context | None = None) -> None:
        self.delegate.on_start(span, parent_context=parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        self.delegate.on_end(
            ReadableSpan(
                name=span.name,
                context=span.context,
                parent=span.parent,
                resource=span.resource,
                attributes=scrub_attributes(span.attributes or {}),
                events=span.events,
                links=span.links,
                kind=span.kind,
                status=span.status,
                start_time=span.start_time,
                end_time=span.end_time,
                instrumentation_scope=span.instrumentation_scope,
            )
        )

    def shutdown(self) -> None:
        self.delegate.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.delegate.force_flush(timeout_millis)


def otlp_exporter(observability: ObservabilitySettings) -> SpanExporter | None:
    endpoint = observability.otel_exporter_otlp_endpoint
    if not endpoint:
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    # OTEL_EXPORTER_OTLP_ENDPOINT is the collector's base URL; traces go to /v1/traces.
    return OTLPSpanExporter(
        endpoint=endpoint.rstrip("/") + "/v1/traces",
        timeout=observability.otel_exporter_otlp_timeout,
    )


def start_export(provider: TracerProvider, exporter: SpanExporter) -> None:
    provider.add_span_processor(ScrubbingSpanProcessor(BatchSpanProcessor(exporter)))


def excluded_urls(metrics_path: str) -> str:
    """Probes and scrapes every few seconds would drown the real traces."""
    return ",".join([r"//[^/]+/health/", rf"//[^/]+{re.escape(metrics_path)}(\?|$)"])
