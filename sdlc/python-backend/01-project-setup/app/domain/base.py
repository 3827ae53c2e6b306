"""Declarative base for every persistent entity.

Only the mapping conventions live here; the engine and sessions belong to
`app.core.database` (step 03), so importing a model never opens a connection.
"""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import DateTime, MetaData, Numeric, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Deterministic constraint names: Alembic can then diff, rename and drop them reliably.
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)

    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: DateTime(timezone=True),
        Decimal: Numeric(12, 2),
        dict[str, Any]: JSONB,
    }

    def __repr__(self) -> str:
        keys = ", ".join(
            f"{prop.key}={getattr(self, prop.key, None)!r}"
            for prop in self.__mapper__.column_attrs
            if any(column.primary_key for column in prop.columns)
        )
        return f"<{type(self).__name__} {keys}>"


class UUIDPrimaryKeyMixin:
    """A random UUID key, generated client-side so it is known before the INSERT."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4, sort_order=-1)


class TimestampMixin:
    """`created_at`/`updated_at` set by the database clock (timezone-aware)."""

    # Fetch server-generated values with RETURNING right after INSERT/UPDATE, so reading
    # them later never triggers a lazy load (which is an error under asyncio).
    __mapper_args__: ClassVar[dict[str, Any]] = {"eager_defaults": True}

    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), sort_order=1)
    updated_at: Mapped[datetime] = mapped_column(
        server_default=func.now(), onupdate=func.now(), sort_order=1
    )
