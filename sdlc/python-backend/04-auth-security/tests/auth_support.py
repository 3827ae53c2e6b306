"""Helpers shared by step 04's tests (plain functions, no fixtures)."""

from typing import Any

from app.auth.config import AuthSettings
from app.core.config import Environment

TEST_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"

# Cheap Argon2 parameters: tests exercise the logic, not the cost.
FAST_HASHING: dict[str, Any] = {
    "argon2_time_cost": 1,
    "argon2_memory_cost_kib": 1024,
    "argon2_parallelism": 1,
}


def auth_settings(**overrides: Any) -> AuthSettings:
    values: dict[str, Any] = {
        "app_env": Environment.TESTING,
        "jwt_secret_key": TEST_SECRET,
        **FAST_HASHING,
        **overrides,
    }
    return AuthSettings(_env_file=None, **values)
