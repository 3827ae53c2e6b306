"""Persistent entities. Importing this package imports every model module in it.

A new module only has to drop `app/domain/models/<name>.py` here: the mapper registry
and Alembic's autogenerate (`Base.metadata`) then see it without a central list.
"""

import importlib
import pkgutil


def load_all_models() -> list[str]:
    """Import every submodule of this package; return their names (sorted)."""
    names = sorted(info.name for info in pkgutil.iter_modules(__path__))
    for name in names:
        importlib.import_module(f"{__name__}.{name}")
    return names


load_all_models()
