"""A bound on every request body, checked while the body arrives.

FastAPI reads a JSON or form body whole into memory before the endpoint runs (before
the dependency that would answer 401, too), so without a bound one anonymous client
can make the process hold any number of bytes. This middleware refuses a declared
`Content-Length` above the limit before one byte is read, and a body without one
(chunked) as soon as the running count passes the limit. Both raise
`BodyTooLargeError` from `receive` - inside the endpoint that reads - so the answer is
the app's usual problem+json 413.
"""

from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SCOPE_KEY = "app.body_limit"


class BodyTooLargeError(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than {limit} bytes")
        self.limit = limit


@dataclass(slots=True)
class BodyLimit:
    """The limit of one request (endpoints may raise it) and what arrived so far."""

    max_bytes: int
    received: int = 0


def allow_body_up_to(request: Request, max_bytes: int) -> None:
    """Let this request's body grow to `max_bytes` (call it before reading the body)."""
    limit = request.scope.get(SCOPE_KEY)
    if isinstance(limit, BodyLimit):
        limit.max_bytes = max_bytes


def declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = BodyLimit(self.max_bytes)
        scope[SCOPE_KEY] = limit
        declared = declared_length(scope)

        async def receive_within_limit() -> Message:
            # Checked on each call, not once here: the endpoint may have raised the limit.
            if declared is not None and declared > limit.max_bytes:
                raise BodyTooLargeError(limit.max_bytes)
            message = await receive()
            if message["type"] == "http.request":
                limit.received += len(message.get("body", b""))
                if limit.received > limit.max_bytes:
                    raise BodyTooLargeError(limit.max_bytes)
            return message

        await self.app(scope, receive_within_limit, send)
