"""The route template of a request (`/api/v1/products/{id}`), never its raw path.

Metrics and log fields are labelled by template: raw paths (`/products/1`,
`/products/2`, ...) would make one time series per id. FastAPI keeps included routers as
nested objects, so the template with every prefix is resolved with the same helper
prometheus-fastapi-instrumentator uses for its `handler` label - one answer for logs and
metrics alike.
"""

from prometheus_fastapi_instrumentator.routing import _get_route_name
from starlette.types import Scope

UNMATCHED = "none"  # the instrumentator's label for requests no route matched


def route_template(scope: Scope) -> str:
    app = scope.get("app")
    routes = getattr(app, "routes", None)
    if routes is None:
        return UNMATCHED
    return _get_route_name(scope, routes) or UNMATCHED
