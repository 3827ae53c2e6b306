"""Deprecated operations: `deprecated: true` in the spec, and headers on every answer.

`Deprecation` (RFC 9745) says since when, `Sunset` (RFC 8594) until when the operation
answers, and `Link: <...>; rel="successor-version"` where its replacement is. A pure
ASGI middleware adds them to the responses of the deprecated route functions, matched
by the function the router picked (`scope["endpoint"]`), not by a path pattern.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass(frozen=True)
class Deprecation:
    endpoint: Callable[..., Any]
    since: datetime
    sunset: datetime
    successor: str  # path of the replacement, relative to the server

    def headers(self) -> dict[str, str]:
        return {
            "Deprecation": f"@{int(self.since.timestamp())}",
            "Sunset": format_datetime(self.sunset.astimezone(UTC), usegmt=True),
            "Link": f'<{self.successor}>; rel="successor-version"',
        }

    def response_headers(self) -> dict[str, Any]:
        """The same headers as OpenAPI header objects (for the operation's 2xx answers)."""
        values = self.headers()
        return {
            "Deprecation": {
                "description": "Since when this operation is deprecated (RFC 9745).",
                "required": True,
                "schema": {"type": "string"},
                "example": values["Deprecation"],
            },
            "Sunset": {
                "description": "After this date the operation may stop answering (RFC 8594).",
                "required": True,
                "schema": {"type": "string"},
                "example": values["Sunset"],
            },
            "Link": {
                "description": 'The replacement: `rel="successor-version"`.',
                "required": True,
                "schema": {"type": "string"},
                "example": values["Link"],
            },
        }


class DeprecationHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, deprecations: Iterable[Deprecation]) -> None:
        self.app = app
        self.deprecations = [(item.endpoint, list(item.headers().items())) for item in deprecations]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # The router stored the matched endpoint in this same scope dict.
                endpoint = scope.get("endpoint")
                for deprecated, headers in self.deprecations:
                    if endpoint is deprecated:
                        mutable = MutableHeaders(scope=message)
                        for name, value in headers:
                            mutable.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
