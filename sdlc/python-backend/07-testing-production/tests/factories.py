"""Test data factories: valid objects by default, override only what a test is about.

`build()` returns an unsaved entity; `create()` adds it through the given session and
commits (inside `db_session`, a commit is a SAVEPOINT release: nothing outlives the test).
"""

import itertools
from functools import cached_property
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.config import AuthSettings
from app.auth.passwords import build_password_hash
from app.domain.models.user import Role, User

PASSWORD = "correct horse battery staple"
_sequence = itertools.count(1)


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}{next(_sequence)}@example.com"


class UserFactory:
    def __init__(self, session: AsyncSession, config: AuthSettings) -> None:
        self.session = session
        self.config = config

    @cached_property
    def password_hash(self) -> str:
        # One hash per factory (test): Argon2 is slow by design, even with test costs.
        return build_password_hash(self.config).hash(PASSWORD)

    def build(self, *roles: Role, email: str | None = None, **fields: Any) -> User:
        values: dict[str, Any] = {
            "email": email or unique_email(roles[0].value if roles else "user"),
            "password_hash": self.password_hash,
            "roles": [role.value for role in roles] or [Role.USER.value],
            "is_active": True,
            **fields,
        }
        return User(**values)

    async def create(self, *roles: Role, email: str | None = None, **fields: Any) -> User:
        user = self.build(*roles, email=email, **fields)
        self.session.add(user)
        await self.session.commit()
        return user
