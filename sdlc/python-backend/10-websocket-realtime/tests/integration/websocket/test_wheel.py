"""The demo files are package data: the app installed from its wheel, outside the source
tree (as step 07's image installs it), serves `/ws/static/*` with their content."""

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import URL

from tests.integration.websocket.support import PROJECT_ROOT, AppServer

pytestmark = pytest.mark.wheel

STATIC = "app/websocket/static"
DEMO_FILES = ("demo.html", "demo.js", "demo.css", "realtime-client.js")


def outside_env() -> dict[str, str]:
    """This environment without what points Python at the source tree or this venv."""
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    for name in ("PYTHONPATH", "VIRTUAL_ENV"):  # the new venv is named explicitly
        env.pop(name, None)
    return env


def uv(*args: str | Path, cwd: Path = PROJECT_ROOT) -> None:
    executable = shutil.which("uv")
    assert executable, "uv not found (a dev dependency of the project)"
    env = outside_env()
    command = [executable, *map(str, args)]
    subprocess.run(command, cwd=cwd, env=env, check=True)  # noqa: S603 - fixed arguments


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Built from a clean copy of what the image copies (step 07's Dockerfile), never in
    # the project: setuptools reuses a `build/` directory left there by an earlier
    # build, so files that are no longer package data would still reach the wheel.
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "uv.lock"):
        shutil.copy2(PROJECT_ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(PROJECT_ROOT / "app", source / "app", ignore=ignore)
    dist = tmp_path_factory.mktemp("dist")
    python = shutil.which("python") or "python"
    uv("build", "--wheel", "--quiet", "--python", python, "--out-dir", dist, ".", cwd=source)
    [built] = dist.glob("*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The interpreter of a fresh venv holding the locked runtime dependencies + the wheel."""
    scratch = tmp_path_factory.mktemp("venv")
    requirements = scratch / "requirements.txt"
    uv("export", "--frozen", "--no-emit-project", "--no-hashes", "--quiet", "-o", requirements)
    uv("venv", "--quiet", "--python", shutil.which("python") or "python", scratch / "venv")
    python = scratch / "venv" / "bin" / "python"
    uv("pip", "install", "--quiet", "--python", python, "-r", requirements)
    uv("pip", "install", "--quiet", "--python", python, "--no-deps", wheel)
    where = subprocess.run(  # noqa: S603 - fixed arguments
        [python, "-c", "import app.websocket.router as r; print(r.__file__)"],
        cwd=scratch,
        env=outside_env(),  # what the server below gets: a PYTHONPATH would win
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(scratch / "venv"), where  # the venv's copy, no other
    return python


@pytest.fixture(scope="module")
def demo_files() -> dict[str, bytes]:
    return {name: (PROJECT_ROOT / STATIC / name).read_bytes() for name in DEMO_FILES}


def test_the_wheel_carries_the_demo_files(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [name for name in DEMO_FILES if f"{STATIC}/{name}" not in names]
    assert not missing, f"not in {wheel.name}: {missing}"


async def test_the_installed_app_serves_them(
    installed: Path,
    demo_files: dict[str, bytes],
    database_url: URL,
    server_env: dict[str, str],
    tmp_path: Path,
) -> None:
    url = database_url.render_as_string(hide_password=False)
    # An empty working directory: no `app/` next to it to import by accident.
    server = AppServer(url, server_env, python=installed, cwd=tmp_path)
    server.env = {k: v for k, v in server.env.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=server.http, timeout=30) as http:
            for name, content in demo_files.items():
                response = await http.get(f"/ws/static/{name}")
                assert response.status_code == 200, (name, response.status_code)
                assert response.content == content, name
            page = await http.get("/ws/demo")
            assert page.status_code == 200
            assert page.content == demo_files["demo.html"]
    finally:
        await server.stop()
