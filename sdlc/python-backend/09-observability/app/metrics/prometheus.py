"""Prometheus metrics: HTTP (prometheus-fastapi-instrumentator) plus the app's own.

One `CollectorRegistry` per app (tests build many apps in one process; the default
registry would refuse the second). Under Gunicorn with several workers,
`PROMETHEUS_MULTIPROC_DIR` is set: every value then lives in a memory-mapped file per
worker and `/metrics` merges all of them (`MultiProcessCollector`), so a scrape that
lands on any worker sees the whole server.
"""

import hmac
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Protocol

from fastapi import FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    generate_latest,
    multiprocess,
)
from prometheus_fastapi_instrumentator import Instrumentator, metrics
from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.errors import problem_response
from app.metrics import names
from app.telemetry.routes import route_template

# Latency buckets (seconds) fine enough for p50/p95/p99 of an API (5 ms ... 10 s).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class CacheStats(Protocol):
    """What step 08 exposes as `app.state.cache.stats` (ints that only grow)."""

    hits: int
    misses: int
    errors: int


@dataclass
class AppMetrics:
    registry: CollectorRegistry
    login_paths: frozenset[str]
    in_progress: Gauge = field(init=False)
    db_pool_in_use: Gauge = field(init=False)
    db_pool_max: Gauge = field(init=False)
    workers: Gauge = field(init=False)
    login_failures: Counter = field(init=False)
    _cache: dict[str, Counter] = field(init=False, default_factory=dict)
    _cache_seen: dict[str, int] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        # "livesum": under Gunicorn the value is the sum over the workers still alive.
        self.in_progress = Gauge(
            names.HTTP_IN_PROGRESS,
            "HTTP requests being served, by method and route template.",
            ["method", "handler"],
            multiprocess_mode="livesum",
            registry=self.registry,
        )
        self.db_pool_in_use = Gauge(
            names.DB_POOL_IN_USE,
            "Database connections checked out of the pool.",
            multiprocess_mode="livesum",
            registry=self.registry,
        )
        self.db_pool_max = Gauge(
            names.DB_POOL_MAX,
            "Most connections the pool may open (pool size + overflow).",
            multiprocess_mode="livesum",
            registry=self.registry,
        )
        self.workers = Gauge(
            names.WORKERS,
            "Worker processes serving the app.",
            multiprocess_mode="livesum",
            registry=self.registry,
        )
        # "livemostrecent": the last answer any live worker gave.
        self.ready = Gauge(
            names.HEALTH_READY,
            "1 when the last readiness check passed (0 while failing or draining).",
            multiprocess_mode="livemostrecent",
            registry=self.registry,
        )
        self.check_up = Gauge(
            names.HEALTH_CHECK_UP,
            "1 when the dependency's last readiness probe passed, by check.",
            ["check"],
            multiprocess_mode="livemostrecent",
            registry=self.registry,
        )
        self.login_failures = Counter(
            names.LOGIN_FAILURES,
            "Refused logins, by reason (invalid_credentials, rate_limited).",
            ["reason"],
            registry=self.registry,
        )

    def count_login_failure(self, info: metrics.Info) -> None:
        """An instrumentator instrumentation: it sees every finished request."""
        if info.modified_handler not in self.login_paths:
            return
        status = info.response.status_code if info.response is not None else 500
        if status == 401:
            self.login_failures.labels(reason="invalid_credentials").inc()
        elif status == 429:
            self.login_failures.labels(reason="rate_limited").inc()

    def record_readiness(self, ready: bool, checks: dict[str, bool]) -> None:
        self.ready.set(1 if ready else 0)
        for check, up in checks.items():
            self.check_up.labels(check=check).set(1 if up else 0)

    def sample_pool(self, pool: object) -> None:
        """Connections in use now (SQLAlchemy's `QueuePool.checkedout()`)."""
        checked_out = getattr(pool, "checkedout", None)
        if callable(checked_out):
            self.db_pool_in_use.set(checked_out())

    def sample_cache(self, stats: CacheStats) -> None:
        """Carry step 08's running totals into counters (only the growth since last time)."""
        for key, name, doc in (
            ("hits", names.CACHE_HITS, "Cache lookups answered from the cache."),
            ("misses", names.CACHE_MISSES, "Cache lookups that went to the source."),
            ("errors", names.CACHE_ERRORS, "Cache operations that failed."),
        ):
            counter = self._cache.get(key)
            if counter is None:
                counter = Counter(name, doc, registry=self.registry)
                self._cache[key] = counter
            current = int(getattr(stats, key))
            growth = current - self._cache_seen.get(key, 0)
            if growth > 0:
                counter.inc(growth)
            self._cache_seen[key] = current


def build_instrumentator(app_metrics: AppMetrics, *, metrics_path: str) -> Instrumentator:
    instrumentator = Instrumentator(
        should_group_status_codes=False,  # 200, 404, 503: few values, exact codes
        should_ignore_untemplated=False,
        should_group_untemplated=True,  # unknown paths (scanners) become handler="none"
        excluded_handlers=[f"^{metrics_path}$", "^/health/"],
        registry=app_metrics.registry,
    )
    requests = metrics.requests(registry=app_metrics.registry)
    latency = metrics.latency(
        should_include_status=False, buckets=LATENCY_BUCKETS, registry=app_metrics.registry
    )
    for instrumentation in (requests, latency):
        if instrumentation is not None:
            instrumentator.add(instrumentation)
    instrumentator.add(app_metrics.count_login_failure)
    return instrumentator


class InProgressMiddleware:
    """The in-progress gauge, labelled like the instrumentator's metrics."""

    def __init__(self, app: ASGIApp, *, gauge: Gauge, excluded: Callable[[str], bool]) -> None:
        self.app = app
        self.gauge = gauge
        self.excluded = excluded

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        handler = route_template(scope)
        if self.excluded(handler):
            await self.app(scope, receive, send)
            return
        gauge = self.gauge.labels(method=scope["method"], handler=handler)
        gauge.inc()
        try:
            await self.app(scope, receive, send)
        finally:
            gauge.dec()


def exposition(registry: CollectorRegistry) -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        merged = CollectorRegistry()
        multiprocess.MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
        return generate_latest(merged)
    return generate_latest(registry)


def metrics_endpoint(
    registry: CollectorRegistry,
    *,
    token: str | None,
    before_scrape: Callable[[], Awaitable[None]],
) -> Callable[[Request], Awaitable[Response]]:
    async def serve_metrics(request: Request) -> Response:
        if token is not None:
            supplied = request.headers.get("authorization", "")
            expected = f"Bearer {token}"
            if not hmac.compare_digest(supplied.encode(), expected.encode()):
                return problem_response(
                    HTTPStatus.UNAUTHORIZED,
                    "unauthorized",
                    "Metrics need the scrape token (Authorization: Bearer ...).",
                    headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
                )
        await before_scrape()
        return Response(exposition(registry), media_type=CONTENT_TYPE_LATEST)

    return serve_metrics


def install_metrics(app: FastAPI, app_metrics: AppMetrics, *, metrics_path: str) -> None:
    build_instrumentator(app_metrics, metrics_path=metrics_path).instrument(app)
    app.add_middleware(
        InProgressMiddleware,
        gauge=app_metrics.in_progress,
        excluded=lambda handler: handler == metrics_path or handler.startswith("/health/"),
    )
