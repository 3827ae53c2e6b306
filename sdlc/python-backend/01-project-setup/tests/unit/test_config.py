from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from app.core.config import Environment, Settings, get_settings, load_settings
from tests.strict import STRICT_VALUES

STRONG_KEY = "k" * 48


def make(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


def strict(**overrides: Any) -> Settings:
    """Settings valid for staging/production, except for `overrides`."""
    return make(**(STRICT_VALUES | {"app_env": "production"} | overrides))


def test_production_refuses_missing_secret_key() -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY must be set"):
        strict(secret_key=None)


def test_production_refuses_short_secret_key_and_debug() -> None:
    with pytest.raises(ValidationError) as excinfo:
        strict(secret_key="too-short", debug=True)
    message = str(excinfo.value)
    assert "SECRET_KEY" in message
    assert "DEBUG must be false" in message


@pytest.mark.parametrize("env", ["staging", "production"])
def test_staging_is_as_strict_as_production(env: str) -> None:
    with pytest.raises(ValidationError, match=f"refusing to start in {env}") as excinfo:
        strict(app_env=env, secret_key="", debug=True)
    message = str(excinfo.value)
    assert "SECRET_KEY must be set" in message
    assert "DEBUG must be false" in message
    assert strict(app_env=env).is_strict
    assert not make(app_env="development").is_strict


def test_production_accepts_strong_secret() -> None:
    settings = strict(secret_key=STRONG_KEY)
    assert settings.is_production
    assert settings.json_logs
    assert not settings.ephemeral_secret
    assert settings.secret_key == SecretStr(STRONG_KEY)


@pytest.mark.parametrize("value", [None, "", "   "])
def test_development_gets_random_ephemeral_secret(value: str | None) -> None:
    first = make(secret_key=value)
    second = make(secret_key=value)
    assert first.ephemeral_secret
    assert first.secret_key is not None
    assert second.secret_key is not None
    assert len(first.secret_key.get_secret_value()) >= 32
    assert first.secret_key != second.secret_key


def test_log_settings() -> None:
    settings = make(log_level="debug")
    assert settings.log_level == "DEBUG"
    assert not settings.json_logs
    assert make(log_json=True).json_logs


def test_env_files_per_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("APP_ENV=testing\nAPP_NAME=from-dotenv\nPORT=9000\n")
    (tmp_path / ".env.testing").write_text("PORT=9100\nLOG_LEVEL=warning\n")
    monkeypatch.chdir(tmp_path)
    for name in ("APP_ENV", "APP_NAME", "PORT", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)

    settings = load_settings()
    assert settings.app_env is Environment.TESTING
    assert settings.app_name == "from-dotenv"
    assert settings.port == 9100
    assert settings.log_level == "WARNING"

    monkeypatch.setenv("PORT", "9200")  # the process environment wins over every file
    assert load_settings().port == 9200


def test_get_settings_is_cached(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    try:
        assert get_settings() is get_settings()
    finally:
        get_settings.cache_clear()
