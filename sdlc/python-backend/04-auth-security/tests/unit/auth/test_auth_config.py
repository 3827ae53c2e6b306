"""AuthSettings: safe defaults in development, refusal to start unsafe in production."""

from typing import Any

import pytest
from pydantic import ValidationError

from app.auth.config import AuthSettings
from app.core.config import Environment

STRONG = "s" * 48


def production(**values: Any) -> AuthSettings:
    return AuthSettings(_env_file=None, app_env=Environment.PRODUCTION, **values)


def test_development_gets_a_random_key() -> None:
    first = AuthSettings(_env_file=None)
    second = AuthSettings(_env_file=None)
    assert first.ephemeral_secret
    assert first.signing_key != second.signing_key
    assert len(first.signing_key) >= 32


@pytest.mark.parametrize("env", [Environment.PRODUCTION, Environment.STAGING])
@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({}, "JWT_SECRET_KEY must be at least 32 bytes"),
        ({"jwt_secret_key": "short"}, "JWT_SECRET_KEY must be at least 32 bytes"),
        ({"jwt_secret_key": STRONG, "rate_limit_enabled": False}, "RATE_LIMIT_ENABLED"),
        (
            {
                "jwt_secret_key": STRONG,
                "refresh_cookie_enabled": True,
                "refresh_cookie_secure": False,
            },
            "REFRESH_COOKIE_SECURE",
        ),
        ({"jwt_secret_key": STRONG, "argon2_memory_cost_kib": 1024}, "ARGON2_MEMORY_COST_KIB"),
        ({"jwt_secret_key": STRONG, "argon2_time_cost": 1}, "ARGON2_TIME_COST"),
        ({"jwt_secret_key": STRONG, "trusted_proxies": "*"}, "TRUSTED_PROXIES"),
        ({"jwt_secret_key": STRONG, "cors_origins": "http://app.example"}, "https://"),
    ],
)
def test_strict_environments_refuse_unsafe_settings(
    env: Environment, values: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        AuthSettings(_env_file=None, app_env=env, **values)


def test_production_accepts_safe_settings() -> None:
    settings = production(jwt_secret_key=STRONG, cors_origins="https://app.example")
    assert not settings.ephemeral_secret
    assert settings.cors_origins == ["https://app.example"]


def test_wildcard_origin_never_with_credentials() -> None:
    with pytest.raises(ValidationError, match="cannot be combined"):
        AuthSettings(_env_file=None, cors_origins="*")
    assert AuthSettings(_env_file=None, cors_origins="*", cors_allow_credentials=False)


def test_asymmetric_algorithm_needs_both_keys() -> None:
    with pytest.raises(ValidationError, match="JWT_PRIVATE_KEY and JWT_PUBLIC_KEY"):
        AuthSettings(_env_file=None, jwt_algorithm="RS256")


def test_rate_limits_are_validated() -> None:
    with pytest.raises(ValidationError, match="not a rate limit"):
        AuthSettings(_env_file=None, rate_limit_login_ip="often")
    assert (
        AuthSettings(_env_file=None, rate_limit_login_ip="3 per 10 seconds")
        .limit("login_ip")
        .amount
        == 3
    )


def test_lists_come_from_comma_separated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.10")
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example,https://b.example")
    settings = AuthSettings(_env_file=None)
    assert settings.trusted_proxies == ["10.0.0.0/8", "192.168.1.10"]
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
