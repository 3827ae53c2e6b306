"""Discover and run the extension modules of `app.extensions` (see its docstring)."""

import importlib
import pkgutil
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from types import ModuleType

from fastapi import FastAPI

from app import extensions
from app.core.config import Settings

DEFAULT_ORDER = 100

Install = Callable[[FastAPI, Settings], None]
Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


@dataclass(frozen=True)
class Extension:
    name: str
    order: int
    install: Install | None
    lifespan: Lifespan | None


def _load(module: ModuleType) -> Extension:
    order = getattr(module, "ORDER", DEFAULT_ORDER)
    install = getattr(module, "install", None)
    lifespan = getattr(module, "lifespan", None)
    if not isinstance(order, int) or isinstance(order, bool):
        msg = f"{module.__name__}: ORDER must be an int, not {order!r}"
        raise TypeError(msg)
    if not (callable(install) or callable(lifespan)):
        msg = f"{module.__name__} must define install(app, settings) and/or lifespan(app)"
        raise TypeError(msg)
    return Extension(module.__name__, order, install, lifespan)


def discover_extensions(package: ModuleType = extensions) -> list[Extension]:
    """Import every public submodule of `package`, sorted by `(ORDER, name)`."""
    found = [
        _load(importlib.import_module(f"{package.__name__}.{info.name}"))
        for info in pkgutil.iter_modules(package.__path__)
        if not info.name.startswith("_")
    ]
    return sorted(found, key=lambda extension: (extension.order, extension.name))


def install_extensions(app: FastAPI, settings: Settings, found: Sequence[Extension]) -> None:
    for extension in found:
        if extension.install is not None:
            extension.install(app, settings)


@asynccontextmanager
async def extension_lifespans(app: FastAPI, found: Sequence[Extension]) -> AsyncIterator[None]:
    """Enter every extension's lifespan in order; exit them in reverse (even on error)."""
    async with AsyncExitStack() as stack:
        for extension in found:
            if extension.lifespan is not None:
                await stack.enter_async_context(extension.lifespan(app))
        yield
