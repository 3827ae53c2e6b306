"""Outgoing HTTP calls carry the request id and the trace context.

Use `correlation_headers()` with any client, or `instrumented_client()` for httpx:
the downstream service then logs the same request id and continues the same trace
(W3C `traceparent`).
"""

from typing import Any

import httpx
from opentelemetry import propagate

from app.telemetry.context import current_request_id

REQUEST_ID_HEADER = "X-Request-ID"


def correlation_headers() -> dict[str, str]:
    headers: dict[str, str] = {}
    propagate.inject(headers)  # traceparent (+ tracestate, baggage) of the current span
    request_id = current_request_id()
    if request_id is not None:
        headers[REQUEST_ID_HEADER] = request_id
    return headers


async def _add_correlation(request: httpx.Request) -> None:
    for name, value in correlation_headers().items():
        request.headers.setdefault(name, value)


def instrumented_client(**kwargs: Any) -> httpx.AsyncClient:  # noqa: ANN401
    hooks = kwargs.pop("event_hooks", {})
    hooks.setdefault("request", []).append(_add_correlation)
    return httpx.AsyncClient(event_hooks=hooks, **kwargs)
