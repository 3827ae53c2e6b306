"""The `/api/v1` router, assembled from every module in `app.api.v1.endpoints`.

Adding a resource means adding one file; there is no central list to edit, so the
module generator (step 02) can add routers idempotently.
"""

import importlib
import pkgutil
from types import ModuleType

from fastapi import APIRouter

from app.api.v1 import endpoints


def build_router(package: ModuleType = endpoints) -> APIRouter:
    """Include the `router` of every public submodule of `package`, in name order."""
    api_router = APIRouter()
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda info: info.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        router = getattr(module, "router", None)
        if not isinstance(router, APIRouter):
            msg = f"{module.__name__} must define `router = APIRouter(...)`"
            raise TypeError(msg)
        api_router.include_router(router)
    return api_router
