"""Tests under tests/integration/e2e/ are whole journeys over HTTP: marked `e2e` (and,
like everything under tests/integration/, `integration`)."""

from pathlib import Path

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.e2e)
