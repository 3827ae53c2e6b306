"""Every test under tests/unit/ is a `unit` test: no database, no network, no Docker.

`pytest -m unit` runs exactly these, on a machine with no services at all.
"""

from pathlib import Path

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.unit)
