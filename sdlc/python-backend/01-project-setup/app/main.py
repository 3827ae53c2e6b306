"""Application factory and lifespan.

`uvicorn app.main:app` serves the module-level `app`; tests call `create_app(settings)`.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from loguru import logger

from app.api.errors import register_exception_handlers
from app.api.health import router as health_router
from app.api.v1.router import build_router
from app.core.config import Settings, get_settings
from app.core.logging import setup_logging


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
        yield
    finally:
        logger.info("Shutdown complete")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    setup_logging(settings)

    app = FastAPI(
        title=settings.app_name,
        version=settings.version,
        debug=settings.debug,
        lifespan=lifespan,
        docs_url=None if settings.is_production else "/docs",
        redoc_url=None if settings.is_production else "/redoc",
    )
    app.state.settings = settings

    register_exception_handlers(app)
    app.include_router(health_router)
    app.include_router(build_router(), prefix=settings.api_v1_prefix)
    return app


app = create_app()
