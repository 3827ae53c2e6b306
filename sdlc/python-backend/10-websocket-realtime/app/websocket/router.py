"""The WebSocket endpoint (`/ws/v1`) and, in development, the demo page (`/ws/demo`)."""

from functools import cache
from importlib.resources import files

from fastapi import APIRouter, HTTPException, WebSocket
from fastapi.responses import Response

from app.websocket.protocol import PROTOCOL_VERSION
from app.websocket.service import RealtimeService

# Package data (`pyproject.toml`: `[tool.setuptools.package-data]`), read through
# importlib.resources: found the same way from a source tree, a wheel or a zip.
STATIC = files("app.websocket") / "static"
# The demo loads its own module scripts and talks to this origin only (ws: included).
DEMO_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
DEMO_FILES = {
    "demo.html": "text/html; charset=utf-8",
    "demo.js": "text/javascript; charset=utf-8",
    "demo.css": "text/css; charset=utf-8",
    "realtime-client.js": "text/javascript; charset=utf-8",
}

router = APIRouter()


@router.websocket(f"/v{PROTOCOL_VERSION}")
async def realtime(websocket: WebSocket) -> None:
    service: RealtimeService = websocket.app.state.realtime
    await service.serve(websocket)


demo_router = APIRouter(include_in_schema=False)


# Plain `def`: FastAPI runs these in its thread pool, so reading a file (the first
# time; then it is cached) never blocks the event loop.
@demo_router.get("/demo")
def demo_page() -> Response:
    return _static("demo.html")


@demo_router.get("/static/{name}")
def demo_asset(name: str) -> Response:
    return _static(name)


@cache
def _content(name: str) -> bytes:
    return STATIC.joinpath(name).read_bytes()


def _static(name: str) -> Response:
    media_type = DEMO_FILES.get(name)
    if media_type is None:  # a fixed list: no path from the URL ever reaches the disk
        raise HTTPException(status_code=404)
    return Response(
        _content(name),
        media_type=media_type,
        headers={"Content-Security-Policy": DEMO_CSP, "Cache-Control": "no-cache"},
    )
