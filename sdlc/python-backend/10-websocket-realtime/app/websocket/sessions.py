"""Sessions that end while their socket is open, and the watcher that closes those sockets.

A session is step 04's refresh-token family: the access token's `sid`. It is live while
its user exists, is active and still has the `token_version` the token was issued with
(logout-all, a password change and deactivation bump it), and while the family still has
a row that is not revoked (logout revokes the family). Step 04 records every ending in
PostgreSQL - the one store every app process writes to - so each instance learns about
it by asking: one batched pair of queries per instance and interval, however many sockets
it holds, and no event that could be missed.
"""

import asyncio
import uuid
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from loguru import logger
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import Database
from app.domain.models.user import RefreshToken, User
from app.websocket.protocol import CloseCode

if TYPE_CHECKING:
    from app.websocket.hub import ConnectionManager

BATCH = 500  # keys per query: IN lists stay bounded however many sockets are open
REVOKED = "session revoked"


@dataclass(frozen=True, slots=True)
class SessionKey:
    user_id: uuid.UUID
    version: int  # the user's token_version when the access token was issued
    session_id: uuid.UUID  # the token's `sid`: its refresh-token family


def _chunks(keys: list[SessionKey]) -> Iterator[list[SessionKey]]:
    for start in range(0, len(keys), BATCH):
        yield keys[start : start + BATCH]


async def live_sessions(session: AsyncSession, keys: Collection[SessionKey]) -> set[SessionKey]:
    """The keys whose session is still live (two queries per `BATCH` keys)."""
    live: set[SessionKey] = set()
    for chunk in _chunks(list(keys)):
        users_stmt = select(User.id, User.token_version, User.is_active).where(
            User.id.in_({key.user_id for key in chunk})
        )
        users = {row.id: row for row in await session.execute(users_stmt)}
        families_stmt = (
            select(RefreshToken.user_id, RefreshToken.family_id)
            .where(
                RefreshToken.family_id.in_({key.session_id for key in chunk}),
                RefreshToken.revoked_at.is_(None),
            )
            .distinct()
        )
        families = {(row.user_id, row.family_id) for row in await session.execute(families_stmt)}
        for key in chunk:
            user = users.get(key.user_id)
            if (
                user is not None
                and user.is_active
                and user.token_version == key.version
                and (key.user_id, key.session_id) in families
            ):
                live.add(key)
    return live


class SessionWatch:
    """Closes (1008 "session revoked") every local socket whose session has ended."""

    def __init__(self, hub: "ConnectionManager", database: Database) -> None:
        self._hub = hub
        self._database = database

    async def check(self) -> int:
        """One round over this instance's connections; how many were asked to close."""
        checked = {connection: connection.principal.session for connection in self._hub.all()}
        if not checked:
            return 0
        async with self._database.session() as session:
            live = await live_sessions(session, set(checked.values()))
        closed = 0
        for connection, key in checked.items():
            # A connection that renewed its token meanwhile is judged next round.
            if key not in live and connection.principal.session == key:
                connection.request_close(CloseCode.POLICY_VIOLATION, REVOKED)
                closed += 1
        return closed

    async def run(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                closed = await self.check()
            except (SQLAlchemyError, OSError) as exc:  # database unreachable: next round
                logger.warning("session check failed: {!r}", exc)
                continue
            if closed:
                logger.info("closed {} websocket(s) of ended sessions", closed)
