"""Swagger UI and ReDoc, served with files installed with the app (no CDN).

FastAPI's own pages load their JavaScript from jsDelivr: offline, behind a strict
proxy or in an air-gapped network they stay blank. The bundles here come from the
PyPI package `fastapi-offline` (Swagger UI 5 and ReDoc 2, the same builds FastAPI's
pages load), installed from `uv.lock` like every dependency; only its files are used.
"""

from importlib.resources import files
from pathlib import Path
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

ASSETS_DIR: Final = Path(str(files("fastapi_offline") / "static"))
ASSETS: Final = ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png")

# Swagger UI settings (https://swagger.io/docs/open-source-tools/swagger-ui/usage/configuration/)
SWAGGER_UI_PARAMETERS: Final[dict[str, Any]] = {
    "persistAuthorization": True,  # keep the token across reloads (localStorage)
    "displayRequestDuration": True,
    "docExpansion": "list",
    "defaultModelsExpandDepth": 0,  # schemas are under each operation already
    "filter": True,  # search box over tags and operations
    "tryItOutEnabled": False,  # reading first; "Try it out" is one click
    "syntaxHighlight": {"theme": "obsidian"},
    "validatorUrl": None,  # never send the document to validator.swagger.io
}


def install_docs(app: FastAPI, *, assets_path: str = "/docs/assets") -> None:
    """Replace FastAPI's CDN pages with offline ones at the same paths."""
    docs_url, redoc_url = app.docs_url, app.redoc_url
    redirect_url = app.swagger_ui_oauth2_redirect_url
    openapi_url = app.openapi_url
    if openapi_url is None:
        return
    replaced = {docs_url, redoc_url, redirect_url}
    app.router.routes[:] = [
        route for route in app.router.routes if getattr(route, "path", None) not in replaced
    ]
    app.mount(assets_path, StaticFiles(directory=ASSETS_DIR), name="docs-assets")
    title = app.title

    if docs_url:

        async def swagger_ui(request: Request) -> HTMLResponse:
            root = request.scope.get("root_path", "")
            return get_swagger_ui_html(
                openapi_url=f"{root}{openapi_url}",
                title=f"{title} - Swagger UI",
                swagger_js_url=f"{root}{assets_path}/swagger-ui-bundle.js",
                swagger_css_url=f"{root}{assets_path}/swagger-ui.css",
                swagger_favicon_url=f"{root}{assets_path}/favicon.png",
                oauth2_redirect_url=f"{root}{redirect_url}" if redirect_url else None,
                swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
            )

        app.add_route(docs_url, swagger_ui, include_in_schema=False)
        if redirect_url:

            async def oauth2_redirect(request: Request) -> HTMLResponse:
                return get_swagger_ui_oauth2_redirect_html()

            app.add_route(redirect_url, oauth2_redirect, include_in_schema=False)

    if redoc_url:

        async def redoc(request: Request) -> HTMLResponse:
            root = request.scope.get("root_path", "")
            return get_redoc_html(
                openapi_url=f"{root}{openapi_url}",
                title=f"{title} - ReDoc",
                redoc_js_url=f"{root}{assets_path}/redoc.standalone.js",
                redoc_favicon_url=f"{root}{assets_path}/favicon.png",
                with_google_fonts=False,
            )

        app.add_route(redoc_url, redoc, include_in_schema=False)


def remove_docs(app: FastAPI) -> None:
    """`API_DOCS_ENABLED=false`: no UI and no schema, as in production."""
    paths = {app.openapi_url, app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url}
    app.router.routes[:] = [
        route for route in app.router.routes if getattr(route, "path", None) not in paths
    ]
    app.openapi_url = app.docs_url = app.redoc_url = None
