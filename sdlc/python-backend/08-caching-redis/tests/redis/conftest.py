"""Tests of step 08 against a real Redis: every test here is marked `redis`."""

from pathlib import Path

import pytest

from tests.redis_fixtures import mark_redis, redis, redis_config, redis_server

__all__ = ["redis", "redis_config", "redis_server"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_redis(items, Path(__file__).parent)
