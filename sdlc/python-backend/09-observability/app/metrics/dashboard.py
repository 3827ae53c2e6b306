"""The Grafana dashboard, generated from code: `python -m app.metrics.dashboard OUT.json`.

Its queries use the names of `app.metrics.names`, and the check of step 09 proves that
every metric they read is one `/metrics` really exposes. Optional panels (the cache row)
appear only when the app, started here once, really exposes their metrics. Built with
Grafana's own grafana-foundation-sdk (a dev dependency: the app never imports it).
"""

import asyncio
import json
import sys
from pathlib import Path

from grafana_foundation_sdk.builders import dashboard, prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DataSourceRef

from app.metrics import names

DATASOURCE = DataSourceRef(type_val="prometheus", uid="prometheus")
UID = "backend-service"
WINDOW = "$__rate_interval"
NOT_PROBES = 'handler!="none"'


def query(expr: str, legend: str, ref: str = "A") -> prometheus.Dataquery:
    return prometheus.Dataquery().expr(expr).legend_format(legend).ref_id(ref)


def series(title: str, unit: str, *queries: prometheus.Dataquery) -> timeseries.Panel:
    panel = timeseries.Panel().title(title).unit(unit).datasource(DATASOURCE).span(12)
    for item in queries:
        panel = panel.with_target(item)
    return panel


def quantile(q: float) -> str:
    return (
        f"histogram_quantile({q}, sum by (le, handler) "
        f"(rate({names.HTTP_DURATION}_bucket{{{NOT_PROBES}}}[{WINDOW}])))"
    )


async def exposed_metrics() -> set[str]:
    """Metric families the app has right after start (its lifespan runs, no traffic)."""
    from loguru import logger

    from app.core.config import Environment, Settings
    from app.extensions.observability import sample
    from app.main import create_app

    app = create_app(Settings(_env_file=None, app_env=Environment.TESTING, log_level="ERROR"))
    logger.remove()  # nothing but the file is written
    async with app.router.lifespan_context(app):
        app_metrics = app.state.metrics
        sample(app, app_metrics)
        return {family.name for family in app_metrics.registry.collect()}


def build(exposed: set[str]) -> dashboard.Dashboard:
    requests = f"{names.HTTP_REQUESTS}{{{NOT_PROBES}}}"
    errors = f'{names.HTTP_REQUESTS}{{{NOT_PROBES},status=~"5.."}}'
    board = (
        dashboard.Dashboard("Backend service")
        .uid(UID)
        .tags(["backend", "fastapi"])
        .refresh("30s")
        .time("now-1h", "now")
        .with_row(dashboard.Row("Traffic"))
        .with_panel(
            series(
                "Request rate by route",
                "reqps",
                query(f"sum by (handler) (rate({requests}[{WINDOW}]))", "{{handler}}"),
            )
        )
        .with_panel(
            series(
                "Error ratio (5xx)",
                "percentunit",
                query(
                    f"sum(rate({errors}[{WINDOW}])) / sum(rate({requests}[{WINDOW}]))",
                    "5xx / all",
                ),
            )
        )
        .with_panel(
            series(
                "Latency by route",
                "s",
                query(quantile(0.5), "p50 {{handler}}", "A"),
                query(quantile(0.95), "p95 {{handler}}", "B"),
                query(quantile(0.99), "p99 {{handler}}", "C"),
            )
        )
        .with_panel(
            series(
                "Requests in progress",
                "short",
                query(f"sum by (handler) ({names.HTTP_IN_PROGRESS})", "{{handler}}"),
            )
        )
        .with_row(dashboard.Row("Process and database"))
        .with_panel(
            stat.Panel()
            .title("Workers")
            .datasource(DATASOURCE)
            .span(6)
            .with_target(query(f"sum({names.WORKERS})", "workers"))
        )
        .with_panel(
            series(
                "Database pool",
                "short",
                query(f"sum({names.DB_POOL_IN_USE})", "in use", "A"),
                query(f"sum({names.DB_POOL_MAX})", "max", "B"),
            ).span(9)
        )
        .with_panel(
            series(
                "Refused logins",
                "short",
                query(
                    f"sum by (reason) (increase({names.LOGIN_FAILURES}[{WINDOW}]))", "{{reason}}"
                ),
            ).span(9)
        )
    )
    # Step 08 (optional) feeds cache counters from app.state.cache.stats, when it has them.
    if names.CACHE_HITS.removesuffix("_total") in exposed:
        hits = f"sum(rate({names.CACHE_HITS}[{WINDOW}]))"
        misses = f"sum(rate({names.CACHE_MISSES}[{WINDOW}]))"
        board = board.with_row(dashboard.Row("Cache")).with_panel(
            series(
                "Cache hit ratio",
                "percentunit",
                query(f"{hits} / ({hits} + {misses})", "hit ratio"),
            )
        )
    return board


def render(exposed: set[str]) -> str:
    return json.dumps(build(exposed).build(), cls=JSONEncoder, indent=2, sort_keys=True) + "\n"


def main() -> None:
    output = Path(sys.argv[1])
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render(asyncio.run(exposed_metrics())))


if __name__ == "__main__":
    main()
