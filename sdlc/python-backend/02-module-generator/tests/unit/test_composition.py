"""The composition seam (app/api/composition.py), without a database."""

from dataclasses import dataclass

from fastapi import FastAPI, Request

from app.api import composition
from app.domain.unit_of_work import UnitOfWork


class NoTransaction(UnitOfWork):
    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


@dataclass(frozen=True)
class Tagged:
    """A stand-in repository that records which decorators wrapped it, in order."""

    tags: tuple[str, ...] = ()


Parts = composition.Parts[Tagged]


def request_to(app: FastAPI) -> Request:
    return Request({"type": "http", "app": app, "method": "GET", "path": "/", "headers": []})


def fresh() -> Parts:
    return composition.Parts(Tagged(), NoTransaction())


def tag(name: str) -> composition.Decorator[Tagged]:
    def decorator(request: Request, parts: Parts) -> Parts:
        return composition.Parts(Tagged((*parts.repository.tags, name)), parts.uow)

    return decorator


def test_nothing_registered_gives_back_the_same_parts() -> None:
    app = FastAPI()
    parts = fresh()
    assert composition.compose(request_to(app), "product", parts) is parts
    composition.decorate(app, "supplier", tag("cached"))
    assert composition.compose(request_to(app), "product", parts) is parts


def test_decorators_run_in_registration_order_on_what_the_previous_returned() -> None:
    app = FastAPI()
    composition.decorate(app, "product", tag("cached"))
    composition.decorate(app, "product", tag("audited"))
    parts = composition.compose(request_to(app), "product", fresh())
    assert parts.repository.tags == ("cached", "audited")


def test_a_decorator_may_replace_the_unit_of_work() -> None:
    app = FastAPI()
    replacement = NoTransaction()

    def replace_uow(request: Request, parts: Parts) -> Parts:
        return composition.Parts(parts.repository, replacement)

    composition.decorate(app, "product", replace_uow)
    parts = composition.compose(request_to(app), "product", fresh())
    assert parts.uow is replacement


def test_each_app_has_its_own_registry_and_clearing_overrides_keeps_it() -> None:
    first, second = FastAPI(), FastAPI()
    composition.decorate(first, "product", tag("cached"))
    first.dependency_overrides.clear()
    parts = fresh()
    assert composition.compose(request_to(first), "product", parts).repository.tags == ("cached",)
    assert composition.compose(request_to(second), "product", parts) is parts
