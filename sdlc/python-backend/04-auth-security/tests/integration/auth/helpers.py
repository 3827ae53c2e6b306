"""Users and tokens for step 04's API tests, made directly (fast) or through the API."""

from typing import Any

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.config import AuthSettings
from app.auth.passwords import build_password_hash
from app.domain.models.user import User

AUTH = "/api/v1/auth"
PASSWORD = "correct horse battery staple"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def create_user(
    session: AsyncSession, config: AuthSettings, email: str, *roles: str, active: bool = True
) -> User:
    user = User(
        email=email,
        password_hash=build_password_hash(config).hash(PASSWORD),
        roles=list(roles) or ["user"],
        is_active=active,
    )
    session.add(user)
    await session.commit()
    return user


async def login(client: AsyncClient, email: str, password: str = PASSWORD) -> dict[str, Any]:
    response = await client.post(f"{AUTH}/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def token_for(
    client: AsyncClient, session: AsyncSession, config: AuthSettings, email: str, *roles: str
) -> str:
    await create_user(session, config, email, *roles)
    return str((await login(client, email))["access_token"])
