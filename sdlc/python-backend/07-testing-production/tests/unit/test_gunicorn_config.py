"""`gunicorn.conf.py` reads everything from the environment (step 07)."""

import runpy
from pathlib import Path
from typing import Any

import pytest

from app.core.config import get_settings
from app.server.config import get_server_settings

CONFIG = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"
STRONG = "s" * 48


def load(monkeypatch: pytest.MonkeyPatch, **environment: str) -> dict[str, Any]:
    monkeypatch.chdir(CONFIG.parent / "tests")  # no .env file is read from here
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    get_server_settings.cache_clear()
    try:
        return runpy.run_path(str(CONFIG))
    finally:
        get_settings.cache_clear()
        get_server_settings.cache_clear()


def test_values_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    config = load(
        monkeypatch,
        HOST="0.0.0.0",  # noqa: S104 (a container listens on every interface)
        PORT="9000",
        WORKERS="3",
        SHUTDOWN_TIMEOUT="20",
        GUNICORN_SHUTDOWN_GRACE="7",
        GUNICORN_MAX_REQUESTS="500",
        GUNICORN_MAX_REQUESTS_JITTER="50",
        GUNICORN_WORKER_TMP_DIR="/run/heartbeat",
    )
    assert config["bind"] == ["0.0.0.0:9000"]
    assert config["workers"] == 3
    assert config["graceful_timeout"] == 27  # drain + lifespan shutdown margin
    assert (config["max_requests"], config["max_requests_jitter"]) == (500, 50)
    assert config["worker_tmp_dir"] == "/run/heartbeat"
    assert config["worker_class"] == "app.server.worker.AppWorker"
    assert config["preload_app"] is False
    assert config["accesslog"] is None


def test_an_invalid_configuration_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        load(monkeypatch, APP_ENV="production", SECRET_KEY="short", WORKERS="0")
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "Invalid configuration, not starting" in error
    assert "short" not in error.replace("SECRET_KEY", "")


def test_the_worker_makes_the_choices_of_python_m_app() -> None:
    from app.server.worker import AppWorker

    assert AppWorker.CONFIG_KWARGS["proxy_headers"] is False
    assert AppWorker.CONFIG_KWARGS["server_header"] is False
    assert AppWorker.CONFIG_KWARGS["http"] == "h11"  # a bounded request head


def test_gunicorn_log_lines_go_through_loguru() -> None:
    from gunicorn.config import Config
    from loguru import logger

    from app.server.gunicorn_logging import LoguruLogger

    lines: list[str] = []
    logger.add(lines.append, format="{name} {message}")
    LoguruLogger(Config()).info("Booting worker with pid: %s", 42)
    assert lines == ["gunicorn.error Booting worker with pid: 42\n"]
