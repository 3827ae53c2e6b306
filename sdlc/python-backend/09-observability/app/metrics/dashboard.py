"""The Grafana dashboard, generated from code: `python -m app.metrics.dashboard`.

Its queries use the names of `app.metrics.names`, and the check of step 09 proves that
every metric they read is one `/metrics` really exposes. Built with Grafana's own
grafana-foundation-sdk (a dev dependency: the running app never imports this module).
"""

import importlib.util
import json
import sys

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


def cache_present() -> bool:
    """Step 08 (optional) brings `app.cache`; without it there is no cache row."""
    return importlib.util.find_spec("app.cache") is not None


def build() -> dashboard.Dashboard:
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
    if cache_present():
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


def render() -> str:
    return json.dumps(build().build(), cls=JSONEncoder, indent=2, sort_keys=True) + "\n"


def main() -> None:
    sys.stdout.write(render())


if __name__ == "__main__":
    main()
