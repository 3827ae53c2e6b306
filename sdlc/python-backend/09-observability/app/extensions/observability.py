"""Step 09's extension: correlated logs, traces, metrics, health probes, Sentry.

ORDER 90: installed after every other extension of steps 03-08, so its middleware is
the outermost of theirs (Starlette runs the middleware added last first) and sees every
request with its final status; its lifespan opens after the database (and Redis) and
closes before them, so the last spans and metrics are flushed while they still exist.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from loguru import logger
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry

from app.core.config import Settings
from app.health.probes import evaluate_readiness
from app.health.router import router as health_router
from app.health.state import HealthState
from app.metrics.prometheus import AppMetrics, install_metrics, metrics_endpoint
from app.telemetry.config import ObservabilitySettings, get_observability_settings
from app.telemetry.errors import init_sentry, report_logged_error, tag_request_id
from app.telemetry.logging import install_log_correlation
from app.telemetry.middleware import RequestContextMiddleware
from app.telemetry.tracing import (
    build_tracer_provider,
    excluded_urls,
    otlp_exporter,
    start_export,
)

ORDER = 90


def install(app: FastAPI, settings: Settings) -> None:
    observability = get_observability_settings()
    app.state.observability_settings = observability
    app.state.health = HealthState()
    sentry = init_sentry(settings, observability)
    install_log_correlation(on_error=report_logged_error if sentry else None)
    app.include_router(health_router)

    if observability.metrics_enabled:
        _install_metrics(app, settings, observability)

    # Added last of all extensions' middleware: it runs first, around all of them.
    app.add_middleware(
        RequestContextMiddleware,
        header=observability.request_id_header,
        on_bind=tag_request_id if sentry else None,
    )

    if observability.otel_enabled:
        provider = build_tracer_provider(settings, observability)
        app.state.tracer_provider = provider
        # Wraps the whole middleware stack: the server span is current in every
        # middleware, handler and exception handler of the request.
        FastAPIInstrumentor.instrument_app(
            app,
            tracer_provider=provider,
            excluded_urls=excluded_urls(observability.metrics_path),
        )


def _install_metrics(
    app: FastAPI, settings: Settings, observability: ObservabilitySettings
) -> None:
    token = observability.metrics_token
    if settings.is_production and token is None:
        logger.warning("METRICS_TOKEN is not set: {} is not served", observability.metrics_path)
        return
    prefix = settings.api_v1_prefix
    app_metrics = AppMetrics(
        CollectorRegistry(auto_describe=True),
        login_paths=frozenset({f"{prefix}/auth/login", f"{prefix}/auth/token"}),
    )
    app.state.metrics = app_metrics
    install_metrics(app, app_metrics, metrics_path=observability.metrics_path)

    async def before_scrape() -> None:
        sample(app, app_metrics)
        await evaluate_readiness(app)  # health_ready is fresh in every scrape

    app.add_api_route(
        observability.metrics_path,
        metrics_endpoint(
            app_metrics.registry,
            token=token.get_secret_value() if token else None,
            before_scrape=before_scrape,
        ),
        methods=["GET"],
        include_in_schema=False,
    )


def sample(app: FastAPI, app_metrics: AppMetrics) -> None:
    """Values read from other steps' objects, found by discovery (never imported)."""
    database = getattr(app.state, "database", None)
    if database is not None:
        app_metrics.sample_pool(database.engine.pool)
    cache = getattr(app.state, "cache", None)
    stats = getattr(cache, "stats", None)
    if stats is not None:
        app_metrics.sample_cache(stats)


async def _sample_forever(app: FastAPI, app_metrics: AppMetrics, interval: float) -> None:
    while True:
        sample(app, app_metrics)
        await asyncio.sleep(interval)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    observability: ObservabilitySettings = app.state.observability_settings
    health: HealthState = app.state.health
    provider: TracerProvider | None = getattr(app.state, "tracer_provider", None)
    database = getattr(app.state, "database", None)
    sqlalchemy = SQLAlchemyInstrumentor()
    redis_instrumentor = None

    if provider is not None:
        exporter = otlp_exporter(observability)
        if exporter is not None:
            start_export(provider, exporter)
            logger.info("Exporting traces to {}", observability.otel_exporter_otlp_endpoint)
        if database is not None:
            # The instrumentation declares "sqlalchemy < 2.1" although the event API it
            # uses is unchanged in 2.1; the SQL-span test proves it works with ours.
            sqlalchemy.instrument(
                engine=database.engine.sync_engine,
                tracer_provider=provider,
                enable_commenter=False,
                skip_dep_check=True,
            )
        if getattr(app.state, "redis", None) is not None:  # step 08, when present
            from opentelemetry.instrumentation.redis import RedisInstrumentor

            redis_instrumentor = RedisInstrumentor()
            redis_instrumentor.instrument(tracer_provider=provider)

    sampler: asyncio.Task[None] | None = None
    app_metrics: AppMetrics | None = getattr(app.state, "metrics", None)
    if app_metrics is not None:
        app_metrics.workers.set(1)
        app_metrics.db_pool_max.set(settings.db_pool_size + settings.db_max_overflow)
        sampler = asyncio.create_task(
            _sample_forever(app, app_metrics, observability.metrics_sample_seconds)
        )

    health.install_drain(asyncio.get_running_loop(), observability.drain_seconds)
    health.started = True
    try:
        yield
    finally:
        health.uninstall_drain()
        if sampler is not None:
            sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sampler
        if redis_instrumentor is not None:
            redis_instrumentor.uninstrument()
        if provider is not None:
            if database is not None:
                sqlalchemy.uninstrument()
            provider.shutdown()  # flushes the batch processor: the last spans are sent
