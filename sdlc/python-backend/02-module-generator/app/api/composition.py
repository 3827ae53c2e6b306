"""The composition seam: how a module's service gets its repository and unit of work.

Every generated router builds its service in `get_<module>_service` from a SQLAlchemy
repository and the request's unit of work, and passes both through `compose` first. A
later step (or your own code) that decorates or replaces them - a cache, an audit log,
a read replica - registers a decorator for the module once, from its extension's
`install`:

    composition.decorate(app, "product", cached_parts)  # (request, parts) -> parts

- One registry per application (`app.state.composition`): two apps in one process (tests)
  never share decorators. They run in registration order, each on the parts the previous
  one returned.
- Keyed by module name, the generator's own key (an abstract port class cannot be a
  `type[T]` argument under mypy).
- Nothing registered: `compose` costs one attribute lookup.
- Not a FastAPI dependency override: code that clears `app.dependency_overrides` (tests
  do) leaves every decorator in place.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from fastapi import FastAPI, Request

from app.domain.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Parts[RepositoryT]:
    """What a module's service is built from."""

    repository: RepositoryT
    uow: UnitOfWork


type Decorator[RepositoryT] = Callable[[Request, Parts[RepositoryT]], Parts[RepositoryT]]


class Composition:
    """The decorators registered per module, in registration order."""

    def __init__(self) -> None:
        self._decorators: dict[str, list[Decorator[Any]]] = {}

    def decorate[RepositoryT](self, module: str, decorator: Decorator[RepositoryT]) -> None:
        self._decorators.setdefault(module, []).append(decorator)

    def compose[RepositoryT](
        self, request: Request, module: str, parts: Parts[RepositoryT]
    ) -> Parts[RepositoryT]:
        for decorator in self._decorators.get(module, ()):
            parts = cast(Parts[RepositoryT], decorator(request, parts))
        return parts


def registry(app: FastAPI) -> Composition:
    """The application's registry, created on first use."""
    found = getattr(app.state, "composition", None)
    if found is None:
        found = app.state.composition = Composition()
    return cast(Composition, found)


def decorate[RepositoryT](app: FastAPI, module: str, decorator: Decorator[RepositoryT]) -> None:
    """Build `module`'s service from what `decorator` returns (call it from `install`)."""
    registry(app).decorate(module, decorator)


def compose[RepositoryT](
    request: Request, module: str, parts: Parts[RepositoryT]
) -> Parts[RepositoryT]:
    """The parts `module`'s service is built from: `parts`, after every decorator."""
    found = getattr(request.app.state, "composition", None)
    if found is None:
        return parts
    return cast(Composition, found).compose(request, module, parts)
