"""Security headers as a pure ASGI middleware.

Pure ASGI rather than `BaseHTTPMiddleware`: it edits the `http.response.start` message
on its way out and never wraps the body, so streaming responses, background tasks and
`contextvars` behave exactly as without it.
"""

from collections.abc import Iterable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# An API answers JSON: it needs to load nothing, run nothing and be framed by no one.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# Swagger UI and ReDoc (FastAPI's defaults) load their bundles from jsDelivr and start
# with an inline script; ReDoc also uses a blob: worker and Google Fonts.
DOCS_CSP = (
    "default-src 'none'; "
    "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src https://fonts.gstatic.com; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    "connect-src 'self'; worker-src blob:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=(), interest-cohort=()"
)


def security_headers(*, hsts: str | None) -> dict[str, str]:
    """Headers added to every HTTP response (HSTS only when `hsts` is given)."""
    headers = {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Permissions-Policy": PERMISSIONS_POLICY,
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if hsts:
        headers["Strict-Transport-Security"] = hsts
    return headers


def hsts_value(max_age: int, *, preload: bool) -> str:
    return f"max-age={max_age}; includeSubDomains" + ("; preload" if preload else "")


class SecurityHeadersMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        headers: dict[str, str],
        docs_paths: Iterable[str] = (),
        api_csp: str = API_CSP,
        docs_csp: str = DOCS_CSP,
    ) -> None:
        self.app = app
        self.headers = list(headers.items())
        self.docs_paths = frozenset(docs_paths)
        self.api_csp = api_csp
        self.docs_csp = docs_csp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = self.docs_csp if scope["path"] in self.docs_paths else self.api_csp

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers:
                    headers.setdefault(name, value)
                headers.setdefault("Content-Security-Policy", csp)
            await send(message)

        await self.app(scope, receive, send_with_headers)
