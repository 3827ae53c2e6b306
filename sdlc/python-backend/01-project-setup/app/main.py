"""Application factory and lifespan.

`uvicorn app.main:app` serves the module-level `app`; tests call `create_app(settings)`.
Later steps never edit this file: they add a module to `app/extensions/` instead.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from loguru import logger

from app.api.errors import register_exception_handlers
from app.api.health import router as health_router
from app.api.v1.router import build_router
from app.core.config import Settings, get_settings
from app.core.extensions import discover_extensions, extension_lifespans, install_extensions
from app.core.logging import setup_logging
from app.middleware.body_limit import BodyLimitMiddleware


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open shared resources before serving; close them after the last request drained."""
    settings: Settings = app.state.settings
    logger.info(
        "Starting {} {} (env={})", settings.app_name, settings.version, settings.app_env.value
    )
    if settings.ephemeral_secret:
        logger.warning("SECRET_KEY is not set: using a random per-process key (not production)")
    try:
        async with extension_lifespans(app, app.state.extensions):
            yield
    finally:
        logger.info("Shutdown complete")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    setup_logging(settings)

    # Production publishes no API description at all: no UI and no schema to scrape.
    public_docs = not settings.is_production
    app = FastAPI(
        title=settings.app_name,
        version=settings.version,
        debug=settings.debug,
        lifespan=lifespan,
        openapi_url="/openapi.json" if public_docs else None,
        docs_url="/docs" if public_docs else None,
        redoc_url="/redoc" if public_docs else None,
    )
    app.state.settings = settings
    app.state.extensions = discover_extensions()

    register_exception_handlers(app)
    # Inside every extension's middleware, outside the innermost error middleware.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_body_bytes)
    app.include_router(health_router)
    app.include_router(build_router(), prefix=settings.api_v1_prefix)
    install_extensions(app, settings, app.state.extensions)
    return app


app = create_app()
