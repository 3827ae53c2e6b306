"""The per-test transaction (step 07): writes of one test, commits included, are
invisible outside it and rolled back at its end; the API and the test share them."""

from collections.abc import Awaitable, Callable

from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import Database
from app.domain.models.user import Role, User
from tests.factories import UserFactory


async def count_users_elsewhere(database: Database) -> int:
    """Counted on another connection: what every other test (or process) would see."""
    async with database.session() as other:
        return int(await other.scalar(select(func.count()).select_from(User)) or 0)


async def test_committed_writes_stay_inside_the_test(
    db_session: AsyncSession, user_factory: UserFactory, database: Database
) -> None:
    user = await user_factory.create(Role.EDITOR)  # commits (a SAVEPOINT release)
    assert await db_session.get(User, user.id) is not None
    assert await count_users_elsewhere(database) == 0


async def test_the_api_sees_the_tests_data_and_the_test_sees_the_apis(
    api_client: AsyncClient,
    client_as: Callable[..., Awaitable[AsyncClient]],
    db_session: AsyncSession,
    database: Database,
) -> None:
    admin = await client_as(Role.ADMIN, email="boss@example.com")
    me = await admin.get("/api/v1/users/me")
    assert me.status_code == 200, me.text
    assert me.json()["email"] == "boss@example.com"

    response = await api_client.post(
        "/api/v1/auth/register",
        json={"email": "new@example.com", "password": "a long enough password"},
    )
    assert response.status_code == 202, response.text
    emails = set(await db_session.scalars(select(User.email)))
    assert emails == {"boss@example.com", "new@example.com"}
    assert await count_users_elsewhere(database) == 0
