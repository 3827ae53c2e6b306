"""Request context middleware, pure ASGI.

`BaseHTTPMiddleware` runs the endpoint in another task, so contextvars set inside the
endpoint never come back and streaming responses are buffered; a plain ASGI callable has
neither problem. For every HTTP request this middleware

- takes a well-formed incoming `X-Request-ID` or makes one, binds it to the contextvar
  (so every log line of the request carries it) and to the current span,
- adds it to the response headers,
- writes one access log line when the response is finished (method, route template,
  status, duration) - inside the request's span, so that line has the trace id too.
"""

import time
from collections.abc import Callable

from loguru import logger
from opentelemetry import trace
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.telemetry.context import accept_request_id, bind_request_id, reset_request_id
from app.telemetry.routes import route_template

SPAN_ATTRIBUTE = "app.request_id"


class RequestContextMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        header: str = "X-Request-ID",
        on_bind: Callable[[str], None] | None = None,
    ) -> None:
        self.app = app
        self.header = header
        self.on_bind = on_bind
        self._header_key = header.lower().encode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        incoming = None
        for key, value in scope["headers"]:
            if key == self._header_key:
                incoming = value.decode("latin-1")
                break
        request_id = accept_request_id(incoming)
        token = bind_request_id(request_id)
        if self.on_bind is not None:
            self.on_bind(request_id)
        span = trace.get_current_span()
        if span.is_recording():
            span.set_attribute(SPAN_ATTRIBUTE, request_id)

        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[self.header] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            duration_ms = (time.perf_counter() - started) * 1000
            route = route_template(scope)
            logger.bind(
                http_method=scope["method"],
                http_route=route,
                http_status=status,
                duration_ms=round(duration_ms, 2),
            ).info("{} {} -> {} ({:.1f} ms)", scope["method"], route, status, duration_ms)
            reset_request_id(token)
