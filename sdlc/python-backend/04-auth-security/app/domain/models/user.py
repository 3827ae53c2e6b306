"""User accounts and their refresh-token sessions (step 04)."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.base import Base, TimestampMixin, UUIDPrimaryKeyMixin


class Role(StrEnum):
    ADMIN = "admin"
    EDITOR = "editor"
    USER = "user"


class User(UUIDPrimaryKeyMixin, TimestampMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        # E-mails are stored lower-cased, so the unique constraint is case-insensitive.
        CheckConstraint("email = lower(email)", name="email_lowercase"),
    )

    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str | None] = mapped_column(String(255))
    roles: Mapped[list[str]] = mapped_column(ARRAY(String(32)), default=lambda: [Role.USER.value])
    is_active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    # Bumped by logout-all, a password change and deactivation: every access token
    # carries the version it was issued with, and an older one is refused at once.
    token_version: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    password_changed_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]

    def has_role(self, *roles: str) -> bool:
        return not set(roles).isdisjoint(self.roles)


class RefreshToken(UUIDPrimaryKeyMixin, TimestampMixin, Base):
    """One issued refresh token (its `id` is the JWT's `jti`); only its hash is stored.

    Tokens of one login form a family (`family_id`). Using a token marks it `used_at`
    and issues its successor in the same family; presenting a used token again means it
    was copied, so the whole family is revoked.
    """

    __tablename__ = "refresh_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    family_id: Mapped[uuid.UUID] = mapped_column(index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
