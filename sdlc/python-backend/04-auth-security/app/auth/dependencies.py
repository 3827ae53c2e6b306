"""`Depends()` building blocks: the current user, roles, the auth service.

    @router.get("/reports", dependencies=[Depends(require_roles(Role.ADMIN))])

No credentials → 401 with `WWW-Authenticate: Bearer`; valid credentials but a missing
role → 403. The user is loaded from the database on every request, so deactivation,
role changes and logout-all take effect at once, not when the token expires.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated, cast

from fastapi import Depends, Request
from fastapi.openapi.models import OAuth2 as OAuth2Model
from fastapi.security import OAuth2PasswordBearer

from app.api.deps import SessionDep, UnitOfWorkDep
from app.auth.errors import AuthenticationError, InvalidTokenError, PermissionDeniedError
from app.auth.repository import RefreshTokenRepository, UserRepository
from app.auth.service import AuthComponents, AuthService
from app.auth.tokens import TokenType
from app.domain.models.user import Role, User

# Swagger UI's "Authorize" posts the OAuth2 password form here; `install` sets the
# final URL (it depends on API_V1_PREFIX). auto_error=False: we raise our own 401.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def set_token_url(url: str) -> None:
    password_flow = cast(OAuth2Model, oauth2_scheme.model).flows.password
    if password_flow is not None:
        password_flow.tokenUrl = url


async def get_auth(request: Request) -> AuthComponents:
    return cast(AuthComponents, request.app.state.auth)


AuthDep = Annotated[AuthComponents, Depends(get_auth)]


async def get_auth_service(session: SessionDep, uow: UnitOfWorkDep, auth: AuthDep) -> AuthService:
    return AuthService(UserRepository(session), RefreshTokenRepository(session), uow, auth)


AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]


async def get_current_user(
    token: Annotated[str | None, Depends(oauth2_scheme)], session: SessionDep, auth: AuthDep
) -> User:
    if not token:
        raise AuthenticationError
    claims = auth.codec.decode(token, TokenType.ACCESS)
    user = await session.get(User, claims.user_id)
    # token_version moves on logout-all, password change and deactivation; a session
    # that ended (logout, a replayed refresh token) ends its access tokens as well.
    if (
        user is None
        or user.token_version != claims.version
        or await RefreshTokenRepository(session).session_revoked(claims.family_id)
    ):
        raise InvalidTokenError
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_active_user(user: CurrentUser) -> User:
    if not user.is_active:
        raise InvalidTokenError("Account is disabled")
    return user


ActiveUser = Annotated[User, Depends(get_active_user)]


def require_roles(*roles: Role) -> Callable[[User], Awaitable[User]]:
    """A dependency that lets through active users holding any of `roles`."""
    allowed = ", ".join(role.value for role in roles)

    async def dependency(user: ActiveUser) -> User:
        if not user.has_role(*roles):
            msg = f"Requires one of the roles: {allowed}"
            raise PermissionDeniedError(msg)
        return user

    return dependency


AdminUser = Annotated[User, Depends(require_roles(Role.ADMIN))]


def client_ip(request: Request) -> str:
    """The peer address; `ProxyHeadersMiddleware` rewrote it only for trusted proxies."""
    return request.client.host if request.client else "unknown"
