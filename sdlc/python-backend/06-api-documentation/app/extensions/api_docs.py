"""Step 06's extension: the complete OpenAPI document, offline docs, `/api/v2`.

ORDER 80: after every extension that adds routes it documents (database 10, auth 20,
...), before observability (90). The document itself is built on the first request
to `/openapi.json`, from the routes the app has by then.
"""

from datetime import UTC, datetime

from fastapi import FastAPI

from app.api.v1.endpoints import product
from app.api.v2.products import router as products_v2
from app.api_docs.config import get_api_docs_settings
from app.api_docs.deprecation import Deprecation, DeprecationHeadersMiddleware
from app.api_docs.spec import install_openapi
from app.api_docs.ui import install_docs, remove_docs
from app.core.config import Settings

ORDER = 80
API_V2_PREFIX = "/api/v2"

DEPRECATIONS = (
    Deprecation(
        endpoint=product.list_products,
        since=datetime(2026, 12, 1, tzinfo=UTC),
        sunset=datetime(2027, 6, 30, tzinfo=UTC),
        successor=f"{API_V2_PREFIX}/products",
    ),
)


def install(app: FastAPI, settings: Settings) -> None:
    app.include_router(products_v2, prefix=API_V2_PREFIX)
    app.add_middleware(DeprecationHeadersMiddleware, deprecations=DEPRECATIONS)
    app.state.deprecations = DEPRECATIONS
    install_openapi(app)
    if get_api_docs_settings().api_docs_enabled:
        install_docs(app)
    else:
        remove_docs(app)
