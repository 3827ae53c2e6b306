"""HTTP endpoints of server-side sessions (cookie-based, for browser clients).

A browser client logs in once with step 04 (`/auth/login` → access token), exchanges
the token for a session here, and from then on sends only the HttpOnly cookie: no token
in JavaScript-readable storage, and the server ends the session the moment it wants.

- `POST /sessions` (Bearer access token): new session, `Set-Cookie` only — the id is
  never in the body.
- `GET /sessions/current` (cookie): the session, expiry moved forward (sliding).
- `DELETE /sessions/current` (cookie): log out this browser.
- `DELETE /sessions` (cookie): log out every session of this user.
"""

from typing import Annotated, Any, cast
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response, status
from pydantic import BaseModel, Field

from app.auth.dependencies import ActiveUser
from app.auth.errors import AuthenticationError
from app.cache.config import RedisSettings
from app.session.store import Session, SessionStore

router = APIRouter(prefix="/sessions", tags=["sessions"])


class SessionInfo(BaseModel):
    """A server-side session; its id travels only in the HttpOnly cookie."""

    user_id: UUID = Field(
        description="The signed-in user.", examples=["3fa85f64-5717-4562-b3fc-2c963f66afa6"]
    )
    created_at: float = Field(
        description="When the session began (Unix time, seconds).", examples=[1767225600.0]
    )
    expires_in: float = Field(
        description="Seconds until the session ends unless it is used again (sliding).",
        examples=[1800.0],
    )


# The cookie routes answer 401 without a valid session; the schema says so (the
# dependency is not a security scheme FastAPI could find by itself).
NO_SESSION: dict[int | str, dict[str, Any]] = {401: {"description": "No valid session cookie."}}


def _store(request: Request) -> SessionStore:
    return cast(SessionStore, request.app.state.sessions)


def _config(request: Request) -> RedisSettings:
    return cast(RedisSettings, request.app.state.redis_settings)


async def current_session(request: Request) -> Session:
    """The session of the request's cookie (touched), or 401."""
    session_id = request.cookies.get(_config(request).session_cookie_name)
    session = await _store(request).touch(session_id) if session_id else None
    if session is None:
        raise AuthenticationError("No valid session")
    return session


CurrentSession = Annotated[Session, Depends(current_session)]


def _info(session: Session) -> SessionInfo:
    return SessionInfo(
        user_id=session.user_id, created_at=session.created_at, expires_in=session.expires_in
    )


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_session(user: ActiveUser, request: Request, response: Response) -> SessionInfo:
    config = _config(request)
    session = await _store(request).create(user.id)
    response.set_cookie(
        config.session_cookie_name,
        session.id,
        max_age=config.session_max_age,  # the browser may drop it earlier; Redis decides
        path="/",
        secure=config.session_cookie_secure,
        httponly=True,
        samesite=config.session_cookie_samesite,
    )
    return _info(session)


@router.get("/current", responses=NO_SESSION)
async def read_session(session: CurrentSession) -> SessionInfo:
    return _info(session)


@router.delete("/current", status_code=status.HTTP_204_NO_CONTENT, responses=NO_SESSION)
async def delete_session(session: CurrentSession, request: Request, response: Response) -> None:
    await _store(request).destroy(session.id)
    response.delete_cookie(_config(request).session_cookie_name, path="/")


@router.delete("", status_code=status.HTTP_204_NO_CONTENT, responses=NO_SESSION)
async def delete_all_sessions(
    session: CurrentSession, request: Request, response: Response
) -> None:
    await _store(request).destroy_all(session.user_id)
    response.delete_cookie(_config(request).session_cookie_name, path="/")
