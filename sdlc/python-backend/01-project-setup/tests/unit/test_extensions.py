"""Extensions are discovered from `app/extensions/`, installed, and run in order."""

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from textwrap import dedent

import pytest
from httpx import ASGITransport, AsyncClient

import app.extensions
from app.core.config import Settings
from app.core.extensions import discover_extensions
from app.main import create_app

# A module as a later step would drop it into app/extensions/. It records what happens
# to it in `app.state.events`, which the test reads back.
EXTENSION = """
from contextlib import asynccontextmanager
from fastapi import FastAPI
{order}

def install(app, settings):
    app.state.events = [*getattr(app.state, "events", []), "install {name}"]

    @app.get("/{name}")
    async def probe() -> str:
        return "{name}"

@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.events.append("enter {name}")
    yield
    app.state.events.append("exit {name}")
"""


@pytest.fixture
def extensions_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """`app.extensions` looks in a temporary folder only (the project's own are hidden)."""
    monkeypatch.setattr(app.extensions, "__path__", [str(tmp_path)])
    yield tmp_path
    for name in [name for name in sys.modules if name.startswith("app.extensions.")]:
        del sys.modules[name]


Drop = Callable[..., None]


@pytest.fixture
def drop(extensions_dir: Path) -> Drop:
    def write(name: str, order: int | None = None) -> None:
        source = EXTENSION.format(name=name, order="" if order is None else f"ORDER = {order}")
        (extensions_dir / f"{name}.py").write_text(dedent(source))

    return write


async def test_dropped_modules_are_installed_and_run_in_order(
    drop: Drop, extensions_dir: Path, settings: Settings
) -> None:
    drop("zeta", order=10)  # first despite its name: ORDER wins
    drop("alpha")  # default ORDER 100
    drop("beta")
    (extensions_dir / "_helper.py").write_text("raise RuntimeError('private: never imported')\n")

    application = create_app(settings)
    assert application.state.events == ["install zeta", "install alpha", "install beta"]

    async with application.router.lifespan_context(application):
        transport = ASGITransport(app=application)
        async with AsyncClient(transport=transport, base_url="http://test") as client:
            assert (await client.get("/alpha")).json() == "alpha"
        application.state.events.append("serving")

    assert application.state.events[3:] == [
        "enter zeta",
        "enter alpha",
        "enter beta",
        "serving",
        "exit beta",
        "exit alpha",
        "exit zeta",
    ]


async def test_app_works_without_extensions(extensions_dir: Path, settings: Settings) -> None:
    application = create_app(settings)
    assert application.state.extensions == []
    async with (
        application.router.lifespan_context(application),
        AsyncClient(transport=ASGITransport(app=application), base_url="http://test") as client,
    ):
        assert (await client.get("/health/live")).status_code == 200


def test_module_without_hooks_is_refused(extensions_dir: Path) -> None:
    (extensions_dir / "typo.py").write_text("def instal(app, settings):\n    pass\n")
    with pytest.raises(TypeError, match=r"app\.extensions\.typo must define install"):
        discover_extensions()


def test_order_must_be_an_int(extensions_dir: Path) -> None:
    (extensions_dir / "odd.py").write_text("ORDER = '1'\ndef install(app, settings): ...\n")
    with pytest.raises(TypeError, match="ORDER must be an int"):
        discover_extensions()
