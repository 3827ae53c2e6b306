"""Application settings, loaded from the environment and `.env` files.

Precedence (highest first): process environment, `.env.<APP_ENV>`, `.env`, defaults.
Secrets have no usable default in production: the settings refuse to load instead.
"""

import secrets
from enum import StrEnum
from functools import lru_cache
from typing import Literal, Self

from pydantic import Field, PrivateAttr, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

LogLevel = Literal["TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR", "CRITICAL"]

MIN_SECRET_KEY_LENGTH = 32

# Passwords from examples and tutorials: staging and production refuse them.
PLACEHOLDER_PASSWORDS = frozenset({"password", "postgres", "changeme", "secret", "app"})


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TESTING = "testing"
    STAGING = "staging"
    PRODUCTION = "production"


STRICT_ENVIRONMENTS = frozenset({Environment.STAGING, Environment.PRODUCTION})


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    app_name: str = "backend-service"
    app_env: Environment = Environment.DEVELOPMENT
    version: str = "0.1.0"
    debug: bool = False

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1)
    shutdown_timeout: int = Field(default=10, ge=1)
    # Request line + headers, in bytes, the HTTP parser buffers; a larger head is a 400.
    http_max_head_bytes: int = Field(default=16 * 1024, ge=4096, le=1024 * 1024)
    # Request body, in bytes, of every endpoint that does not set its own limit: 413.
    max_request_body_bytes: int = Field(default=1024 * 1024, ge=1024)

    api_v1_prefix: str = "/api/v1"

    secret_key: SecretStr | None = None

    log_level: LogLevel = "INFO"
    log_json: bool | None = None

    # Database: DATABASE_URL wins; otherwise the URL is built from the POSTGRES_* parts
    # (the same variables compose.yaml uses), so the password is never duplicated.
    # SecretStr: the URL (and its password) never shows in repr(), model_dump() or logs.
    database_url: SecretStr | None = None
    postgres_user: str = "app"
    postgres_password: SecretStr | None = None
    postgres_host: str = "127.0.0.1"
    postgres_port: int = Field(default=5432, ge=1, le=65535)
    postgres_db: str = "app"
    db_pool_size: int = Field(default=5, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    db_pool_timeout: float = Field(default=30.0, gt=0)
    db_pool_recycle: int = Field(default=1800, ge=-1)
    db_pool_pre_ping: bool = True
    db_statement_timeout_ms: int = Field(default=30_000, ge=0)
    db_echo: bool = False

    _ephemeral_secret: bool = PrivateAttr(default=False)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("secret_key", mode="before")
    @classmethod
    def _blank_secret_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("database_url", mode="before")
    @classmethod
    def _async_driver(cls, value: object) -> object:
        """`postgresql://` / `postgres://` (what most platforms export) -> asyncpg driver."""
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if not isinstance(value, str) or not value.strip():
            return None
        try:
            url = make_url(value.strip())
        except ArgumentError:
            # No `from exc`, and not the value: the message would repeat the password.
            msg = "DATABASE_URL is not a valid database URL (expected postgresql://...)"
            raise ValueError(msg) from None
        if url.drivername in {"postgres", "postgresql"}:
            url = url.set(drivername="postgresql+asyncpg")
        return url.render_as_string(hide_password=False)

    @model_validator(mode="after")
    def _check_secrets(self) -> Self:
        if self.is_strict:
            problems = self.strict_problems()
            if problems:
                msg = f"refusing to start in {self.app_env.value}: " + "; ".join(problems)
                raise ValueError(msg)
        elif self.secret_key is None:
            # Development/testing only: a random per-process key, never a fixed one.
            self.secret_key = SecretStr(secrets.token_urlsafe(48))
            self._ephemeral_secret = True
        return self

    def strict_problems(self) -> list[str]:
        """What staging and production refuse: weak secrets and debug mode."""
        problems: list[str] = []
        key = self.secret_key.get_secret_value() if self.secret_key else ""
        if len(key) < MIN_SECRET_KEY_LENGTH:
            problems.append(
                f"SECRET_KEY must be set to at least {MIN_SECRET_KEY_LENGTH} characters"
            )
        if self.debug:
            problems.append("DEBUG must be false")
        problems.extend(self.database_problems())
        return problems

    def database_problems(self) -> list[str]:
        """A staging/production database needs a real password, not none or an example."""
        url = self.database_dsn
        if not url.password:
            return ["the database URL must include a password (DATABASE_URL or POSTGRES_PASSWORD)"]
        if str(url.password).lower() in PLACEHOLDER_PASSWORDS or url.password == url.username:
            return ["the database password is a placeholder; generate a real one"]
        return []

    @property
    def is_production(self) -> bool:
        return self.app_env is Environment.PRODUCTION

    @property
    def is_strict(self) -> bool:
        """Staging runs with production's rules, so a weak config fails before release."""
        return self.app_env in STRICT_ENVIRONMENTS

    @property
    def json_logs(self) -> bool:
        return self.is_production if self.log_json is None else self.log_json

    @property
    def ephemeral_secret(self) -> bool:
        return self._ephemeral_secret

    @property
    def database_dsn(self) -> URL:
        """The SQLAlchemy URL (always `postgresql+asyncpg`); its repr hides the password."""
        if self.database_url:
            return make_url(self.database_url.get_secret_value())
        password = self.postgres_password.get_secret_value() if self.postgres_password else None
        return URL.create(
            "postgresql+asyncpg",
            username=self.postgres_user,
            password=password,
            host=self.postgres_host,
            port=self.postgres_port,
            database=self.postgres_db,
        )


class _EnvironmentSelector(BaseSettings):
    """Reads only APP_ENV (environment first, then `.env`) to pick `.env.<APP_ENV>`."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    app_env: Environment = Environment.DEVELOPMENT


def load_settings() -> Settings:
    """Build settings from the environment plus `.env` and `.env.<APP_ENV>`."""
    env = _EnvironmentSelector().app_env
    return Settings(_env_file=(".env", f".env.{env.value}"))


@lru_cache
def get_settings() -> Settings:
    """Process-wide settings (cached). Tests build `Settings(...)` directly instead."""
    return load_settings()
