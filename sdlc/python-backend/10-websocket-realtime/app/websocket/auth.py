"""Who is on the other end of a socket, decided before the handshake is accepted.

The token is read from the `token` query parameter (what browsers can send most easily)
or from a subprotocol `bearer.<jwt>` (which, unlike the URL, does not end up in access
logs). It is decoded by step 04's `TokenCodec` - the same checks as every HTTP request -
and the user is loaded, so a revoked (logout-all, password change) or disabled account is
refused exactly like on the HTTP API - and so is a token whose own session (its `sid`)
was logged out (`app.websocket.sessions`).
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from app.auth.errors import InvalidTokenError
from app.auth.tokens import TokenCodec, TokenType
from app.core.database import Database
from app.domain.models.user import User
from app.websocket.protocol import SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX, Member
from app.websocket.sessions import SessionKey, live_sessions


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: uuid.UUID
    name: str
    roles: frozenset[str]
    expires_at: datetime  # of the access token; the connection ends then (4001)
    session: SessionKey  # re-checked while the connection lives (1008 "session revoked")

    @property
    def member(self) -> Member:
        return Member(id=str(self.user_id), name=self.name)

    def has_role(self, *roles: str) -> bool:
        return not self.roles.isdisjoint(roles)


@dataclass(frozen=True, slots=True)
class Credentials:
    token: str | None
    subprotocol: str | None  # what to answer in Sec-WebSocket-Protocol (never the token)


def credentials(query_token: str | None, offered: Sequence[str]) -> Credentials:
    """The token (subprotocol first, then query) and the subprotocol to accept."""
    token = next(
        (
            item[len(TOKEN_SUBPROTOCOL_PREFIX) :]
            for item in offered
            if item.startswith(TOKEN_SUBPROTOCOL_PREFIX)
        ),
        None,
    )
    return Credentials(
        token=token or query_token or None,
        subprotocol=SUBPROTOCOL if SUBPROTOCOL in offered else None,
    )


def display_name(user: User) -> str:
    return user.full_name or user.email.partition("@")[0]


async def authenticate(token: str | None, codec: TokenCodec, database: Database) -> Principal:
    """The verified principal, or `InvalidTokenError` (missing, bad, expired, revoked)."""
    if not token:
        raise InvalidTokenError("Missing access token")
    claims = codec.decode(token, TokenType.ACCESS)
    key = SessionKey(user_id=claims.user_id, version=claims.version, session_id=claims.family_id)
    async with database.session() as session:
        user = await session.get(User, claims.user_id)
        if user is None or not await live_sessions(session, [key]):
            raise InvalidTokenError("Token has been revoked")
        return Principal(
            user_id=user.id,
            name=display_name(user),
            roles=frozenset(user.roles),
            expires_at=claims.expires_at,
            session=key,
        )
