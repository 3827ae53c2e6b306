"""Step 04's extension: auth routers, CORS, security headers, trusted proxies.

Discovered by `create_app()` (see `app/extensions/__init__.py`); nothing else in the
application has to be edited for auth to be installed.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from loguru import logger
from starlette.middleware.cors import CORSMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.auth.config import AuthSettings, get_auth_settings
from app.auth.dependencies import set_token_url
from app.auth.passwords import PasswordHasher
from app.auth.rate_limit import RequestLimiter
from app.auth.router import auth_router, users_router
from app.auth.service import AuthComponents
from app.auth.tokens import TokenCodec
from app.core.config import Settings
from app.middleware.security_headers import (
    SecurityHeadersMiddleware,
    hsts_value,
    security_headers,
)

ORDER = 20  # after the database (its lifespan opens first, closes last)

RATE_LIMIT_HEADERS = ["Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"]


def install(app: FastAPI, settings: Settings) -> None:
    auth = get_auth_settings()
    app.state.auth_settings = auth
    prefix = settings.api_v1_prefix
    set_token_url(f"{prefix}/auth/token")
    app.include_router(auth_router, prefix=prefix)
    app.include_router(users_router, prefix=prefix)

    # Starlette runs the middleware added last first: proxies, then headers, then CORS.
    if auth.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=auth.cors_origins,
            allow_credentials=auth.cors_allow_credentials,
            allow_methods=auth.cors_allow_methods,
            allow_headers=auth.cors_allow_headers,
            expose_headers=RATE_LIMIT_HEADERS,
            max_age=auth.cors_max_age,
        )
    hsts = (
        hsts_value(auth.hsts_max_age, preload=auth.hsts_preload) if settings.is_production else None
    )
    docs = [
        path for path in (app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url) if path
    ]
    app.add_middleware(
        SecurityHeadersMiddleware, headers=security_headers(hsts=hsts), docs_paths=docs
    )
    if auth.trusted_proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=auth.trusted_proxies)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    auth: AuthSettings = app.state.auth_settings
    settings: Settings = app.state.settings
    if auth.ephemeral_secret:
        logger.warning("JWT_SECRET_KEY is not set: using a random per-process key (not production)")
    hasher = PasswordHasher(auth)
    app.state.auth = AuthComponents(
        settings=auth,
        hasher=hasher,
        codec=TokenCodec(auth),
        limiter=RequestLimiter(auth),
        refresh_cookie_path=f"{settings.api_v1_prefix}/auth",
    )
    try:
        yield
    finally:
        hasher.close()
