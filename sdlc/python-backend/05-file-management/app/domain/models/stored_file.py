"""Metadata of uploaded files (step 05). The bytes live in the storage, under `key`."""

import uuid
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.base import Base, TimestampMixin, UUIDPrimaryKeyMixin


class FileStatus(StrEnum):
    # The row exists before the first byte is stored: cleanup never mistakes an upload
    # in flight for an orphan. `ready` once every object is stored and verified.
    PENDING = "pending"
    READY = "ready"


class StoredFile(UUIDPrimaryKeyMixin, TimestampMixin, Base):
    __tablename__ = "stored_files"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'ready')", name="status_known"),
        CheckConstraint("size >= 0", name="size_not_negative"),
        Index("ix_stored_files_owner_id_created_at", "owner_id", "created_at"),
    )

    # Deleting a user deletes the rows; cleanup then removes the orphaned objects.
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(
        String(16), default=FileStatus.PENDING.value, server_default=text("'pending'"), index=True
    )
    key: Mapped[str] = mapped_column(String(255), unique=True)
    original_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    sha256: Mapped[str | None] = mapped_column(String(64))
    width: Mapped[int | None]
    height: Mapped[int | None]
    thumbnails: Mapped[list[int]] = mapped_column(
        ARRAY(Integer), default=list, server_default=text("'{}'")
    )
