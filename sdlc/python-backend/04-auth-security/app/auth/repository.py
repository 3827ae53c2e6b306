"""Data access for users and refresh-token families (SQLAlchemy, flush-only)."""

import uuid
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, delete, exists, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.models.user import RefreshToken, User
from app.repository.sqlalchemy import SQLAlchemyRepository


class UserRepository(SQLAlchemyRepository[User]):
    model = User

    async def get_by_email(self, email: str) -> User | None:
        return await self.session.scalar(select(User).where(User.email == email.lower()))

    async def add_if_absent(self, user: User) -> bool:
        """INSERT unless the e-mail exists (no error, no race): True when inserted."""
        stmt = (
            insert(User)
            .values(
                id=user.id,
                email=user.email,
                password_hash=user.password_hash,
                full_name=user.full_name,
                roles=user.roles,
            )
            .on_conflict_do_nothing(index_elements=[User.email])
            .returning(User.id)
        )
        return await self.session.scalar(stmt) is not None


class RefreshTokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, token: RefreshToken) -> None:
        self.session.add(token)
        await self.session.flush()

    async def get_for_update(self, token_id: uuid.UUID) -> RefreshToken | None:
        """The row, locked until commit: two concurrent refreshes of one token serialise."""
        stmt = select(RefreshToken).where(RefreshToken.id == token_id).with_for_update()
        return await self.session.scalar(stmt)

    async def revoke_family(self, family_id: uuid.UUID) -> int:
        return await self._revoke(RefreshToken.family_id == family_id)

    async def session_revoked(self, family_id: uuid.UUID) -> bool:
        """Whether the login session `family_id` ended: revocation marks the whole family."""
        stmt = select(
            exists().where(
                RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_not(None)
            )
        )
        return bool(await self.session.scalar(stmt))

    async def revoke_user(self, user_id: uuid.UUID) -> int:
        return await self._revoke(RefreshToken.user_id == user_id)

    async def prune_expired(self, user_id: uuid.UUID | None = None) -> int:
        """Delete expired rows (of one user, or of everyone): they can never be used again."""
        stmt = delete(RefreshToken).where(RefreshToken.expires_at < func.now())
        if user_id is not None:
            stmt = stmt.where(RefreshToken.user_id == user_id)
        result = await self.session.execute(stmt)
        return int(getattr(result, "rowcount", 0) or 0)

    async def _revoke(self, condition: ColumnElement[bool]) -> int:
        stmt = (
            update(RefreshToken)
            .where(condition, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(stmt)
        return int(getattr(result, "rowcount", 0) or 0)
