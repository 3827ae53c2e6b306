"""Settings of the auth & security step (`AuthSettings`), separate from the core `Settings`.

They read the same sources as the core settings (environment, `.env`, `.env.<APP_ENV>`)
and refuse to load in production or staging when a secret, a cookie flag or a limit
would make the deployment unsafe.
"""

import secrets
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Literal, Self

from limits import RateLimitItem, parse
from pydantic import Field, PrivateAttr, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.core.config import STRICT_ENVIRONMENTS, Environment, get_settings

MIN_JWT_SECRET_BYTES = 32
# OWASP's floor for Argon2id (19 MiB, 2 iterations); production refuses anything weaker.
MIN_ARGON2_MEMORY_KIB = 19_456
MIN_ARGON2_TIME_COST = 2

JWTAlgorithm = Literal["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "EdDSA"]
CommaList = Annotated[list[str], NoDecode]


class RateLimitStrategy(StrEnum):
    MOVING_WINDOW = "moving-window"
    FIXED_WINDOW = "fixed-window"
    SLIDING_WINDOW_COUNTER = "sliding-window-counter"


class AuthSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    app_env: Environment = Environment.DEVELOPMENT

    # --- Tokens ---
    jwt_algorithm: JWTAlgorithm = "HS256"
    jwt_secret_key: SecretStr | None = None  # HS* algorithms
    jwt_private_key: SecretStr | None = None  # PEM, RS*/ES*/EdDSA
    jwt_public_key: str | None = None  # PEM, RS*/ES*/EdDSA
    jwt_issuer: str = "backend-service"
    jwt_audience: str = "backend-service-api"
    jwt_leeway_seconds: int = Field(default=5, ge=0, le=60)
    access_token_ttl_seconds: int = Field(default=900, ge=30, le=3600)
    refresh_token_ttl_seconds: int = Field(default=14 * 24 * 3600, ge=300)

    # Refresh token as an HttpOnly cookie, in addition to the JSON body.
    refresh_cookie_enabled: bool = False
    refresh_cookie_name: str = "refresh_token"
    refresh_cookie_secure: bool = True
    refresh_cookie_samesite: Literal["strict", "lax"] = "strict"

    # --- Passwords ---
    password_min_length: int = Field(default=10, ge=8)
    password_max_length: int = Field(default=128, ge=16, le=1024)
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_cost_kib: int = Field(default=65_536, ge=8)
    argon2_parallelism: int = Field(default=1, ge=1)
    # At most this many hashes run at once (in worker threads); the rest wait.
    password_hash_concurrency: int = Field(default=2, ge=1, le=64)

    # --- Rate limiting (`limits` syntax: "5/minute", "10 per 15 minutes") ---
    rate_limit_enabled: bool = True
    rate_limit_storage_uri: str = "memory://"
    rate_limit_strategy: RateLimitStrategy = RateLimitStrategy.MOVING_WINDOW
    rate_limit_login_ip: str = "5/minute"
    rate_limit_login_account: str = "10/15 minutes"
    rate_limit_register_ip: str = "5/hour"
    rate_limit_register_account: str = "3/hour"
    rate_limit_refresh_ip: str = "30/minute"
    rate_limit_refresh_account: str = "30/minute"

    # Peers whose X-Forwarded-For / X-Forwarded-Proto are believed (IPs or CIDRs).
    trusted_proxies: CommaList = Field(default_factory=list)

    # --- CORS ---
    cors_origins: CommaList = Field(default_factory=list)
    cors_allow_credentials: bool = True
    cors_allow_methods: CommaList = Field(
        default_factory=lambda: ["GET", "POST", "PUT", "PATCH", "DELETE"]
    )
    cors_allow_headers: CommaList = Field(default_factory=lambda: ["Authorization", "Content-Type"])
    cors_max_age: int = Field(default=600, ge=0)

    # --- Security headers ---
    hsts_max_age: int = Field(default=63_072_000, ge=0)  # two years
    hsts_preload: bool = False

    _ephemeral_secret: bool = PrivateAttr(default=False)

    @field_validator(
        "trusted_proxies", "cors_origins", "cors_allow_methods", "cors_allow_headers", mode="before"
    )
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("jwt_secret_key", "jwt_private_key", "jwt_public_key", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator(
        "rate_limit_login_ip",
        "rate_limit_login_account",
        "rate_limit_register_ip",
        "rate_limit_register_account",
        "rate_limit_refresh_ip",
        "rate_limit_refresh_account",
    )
    @classmethod
    def _valid_limit(cls, value: str) -> str:
        try:
            parse(value)
        except ValueError as exc:
            msg = f"not a rate limit ({exc}); use e.g. '5/minute'"
            raise ValueError(msg) from exc
        return value

    @model_validator(mode="after")
    def _check(self) -> Self:
        if "*" in self.cors_origins and self.cors_allow_credentials:
            msg = "CORS_ORIGINS='*' cannot be combined with CORS_ALLOW_CREDENTIALS=true"
            raise ValueError(msg)
        problems = self._key_problems()
        if self.app_env in STRICT_ENVIRONMENTS:
            problems += self._strict_problems()
        if problems:
            raise ValueError(f"refusing to start ({self.app_env.value}): " + "; ".join(problems))
        if self.is_symmetric and self.jwt_secret_key is None:
            # Development/testing only: a random per-process key (tokens die on restart).
            self.jwt_secret_key = SecretStr(secrets.token_urlsafe(48))
            self._ephemeral_secret = True
        return self

    def _key_problems(self) -> list[str]:
        if self.is_symmetric:
            return []
        if self.jwt_private_key is None or self.jwt_public_key is None:
            return [f"JWT_ALGORITHM={self.jwt_algorithm} needs JWT_PRIVATE_KEY and JWT_PUBLIC_KEY"]
        return []

    def _strict_problems(self) -> list[str]:
        problems: list[str] = []
        secret = self.jwt_secret_key.get_secret_value() if self.jwt_secret_key else ""
        if self.is_symmetric and len(secret.encode()) < MIN_JWT_SECRET_BYTES:
            problems.append(f"JWT_SECRET_KEY must be at least {MIN_JWT_SECRET_BYTES} bytes")
        if self.refresh_cookie_enabled and not self.refresh_cookie_secure:
            problems.append("REFRESH_COOKIE_SECURE must be true")
        if not self.rate_limit_enabled:
            problems.append("RATE_LIMIT_ENABLED must be true")
        if self.argon2_memory_cost_kib < MIN_ARGON2_MEMORY_KIB:
            problems.append(f"ARGON2_MEMORY_COST_KIB must be at least {MIN_ARGON2_MEMORY_KIB}")
        if self.argon2_time_cost < MIN_ARGON2_TIME_COST:
            problems.append(f"ARGON2_TIME_COST must be at least {MIN_ARGON2_TIME_COST}")
        if "*" in self.trusted_proxies:
            problems.append("TRUSTED_PROXIES='*' lets any client spoof its address")
        insecure = [origin for origin in self.cors_origins if not origin.startswith("https://")]
        if insecure:
            problems.append(f"CORS_ORIGINS must be https:// origins, got {', '.join(insecure)}")
        return problems

    @property
    def is_symmetric(self) -> bool:
        return self.jwt_algorithm.startswith("HS")

    @property
    def ephemeral_secret(self) -> bool:
        return self._ephemeral_secret

    @property
    def signing_key(self) -> str:
        key = self.jwt_secret_key if self.is_symmetric else self.jwt_private_key
        if key is None:  # pragma: no cover - the validator guarantees a key
            raise RuntimeError("no JWT signing key configured")
        return key.get_secret_value()

    @property
    def verification_key(self) -> str:
        if self.is_symmetric:
            return self.signing_key
        if self.jwt_public_key is None:  # pragma: no cover - the validator guarantees a key
            raise RuntimeError("no JWT public key configured")
        return self.jwt_public_key

    def limit(self, name: str) -> RateLimitItem:
        """The parsed limit `rate_limit_<name>`, e.g. `limit("login_ip")`."""
        value: str = getattr(self, f"rate_limit_{name}")
        return parse(value)


def load_auth_settings() -> AuthSettings:
    """The same sources as the core settings, for the same APP_ENV (one source of truth)."""
    env = get_settings().app_env
    return AuthSettings(_env_file=(".env", f".env.{env.value}"), app_env=env)


@lru_cache
def get_auth_settings() -> AuthSettings:
    """Process-wide auth settings (cached), like `app.core.config.get_settings`."""
    return load_auth_settings()
