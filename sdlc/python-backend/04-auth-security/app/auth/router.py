"""`/auth/*` and `/users/*` endpoints."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Form, Query, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from app.auth.dependencies import (
    ActiveUser,
    AdminUser,
    AuthDep,
    AuthServiceDep,
    client_ip,
)
from app.auth.errors import AuthenticationError, InvalidTokenError
from app.auth.schemas import (
    EMAIL_MAX,
    Accepted,
    Credentials,
    MeUpdate,
    MeUpdated,
    RefreshRequest,
    RegisterRequest,
    TokenPair,
    UserAdminUpdate,
    UserListParams,
    UserPage,
    UserRead,
)
from app.auth.service import AuthComponents
from app.auth.tokens import TokenType
from app.domain.schemas.common import Text, list_query


class PasswordForm(OAuth2PasswordRequestForm):
    """OAuth2's password form with `username` typed like every other string that reaches
    PostgreSQL (`Text`: a NUL is a 422, not a database error). Same fields, same schema."""

    def __init__(
        self,
        *,
        grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
        username: Annotated[Text, Form(max_length=EMAIL_MAX)],
        password: Annotated[str, Form(json_schema_extra={"format": "password"})],
        scope: Annotated[str, Form()] = "",
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form(json_schema_extra={"format": "password"})] = None,
    ) -> None:
        super().__init__(
            grant_type=grant_type,
            username=username,
            password=password,
            scope=scope,
            client_id=client_id,
            client_secret=client_secret,
        )


async def no_store(response: Response) -> None:
    """Token responses must never be cached (RFC 6749 §5.1)."""
    response.headers["Cache-Control"] = "no-store"


auth_router = APIRouter(prefix="/auth", tags=["auth"], dependencies=[Depends(no_store)])
users_router = APIRouter(prefix="/users", tags=["users"])

REGISTERED = (
    "If this e-mail address was not registered yet, the account now exists. Sign in to continue."
)


def _set_refresh_cookie(response: Response, auth: AuthComponents, pair: TokenPair) -> None:
    settings = auth.settings
    if settings.refresh_cookie_enabled:
        response.set_cookie(
            settings.refresh_cookie_name,
            pair.refresh_token,
            max_age=settings.refresh_token_ttl_seconds,
            path=auth.refresh_cookie_path,
            secure=settings.refresh_cookie_secure,
            httponly=True,
            samesite=settings.refresh_cookie_samesite,
        )


def _refresh_token_from(request: Request, body: RefreshRequest | None, auth: AuthComponents) -> str:
    if body is not None and body.refresh_token:
        return body.refresh_token
    if auth.settings.refresh_cookie_enabled:
        cookie = request.cookies.get(auth.settings.refresh_cookie_name)
        if cookie:
            return cookie
    raise AuthenticationError("Refresh token missing")


async def _login(
    request: Request,
    response: Response,
    auth: AuthComponents,
    service: AuthServiceDep,
    email: str,
    password: str,
) -> TokenPair:
    response.headers.update(await auth.limiter.hit("login", ip=client_ip(request), account=email))
    pair = await service.login(email, password)
    _set_refresh_cookie(response, auth, pair)
    return pair


@auth_router.post("/register", status_code=status.HTTP_202_ACCEPTED)
async def register(
    payload: RegisterRequest,
    request: Request,
    response: Response,
    auth: AuthDep,
    service: AuthServiceDep,
) -> Accepted:
    """Same answer whether or not the e-mail exists: registration cannot enumerate users."""
    ip = client_ip(request)
    response.headers.update(await auth.limiter.hit("register", ip=ip, account=payload.email))
    await service.register(payload.email, payload.password, payload.full_name)
    return Accepted(detail=REGISTERED)


@auth_router.post("/token")
async def token(
    form: Annotated[PasswordForm, Depends()],
    request: Request,
    response: Response,
    auth: AuthDep,
    service: AuthServiceDep,
) -> TokenPair:
    """OAuth2 password flow (form fields `username`, `password`): Swagger's *Authorize*."""
    return await _login(request, response, auth, service, form.username.lower(), form.password)


@auth_router.post("/login")
async def login(
    payload: Credentials,
    request: Request,
    response: Response,
    auth: AuthDep,
    service: AuthServiceDep,
) -> TokenPair:
    return await _login(request, response, auth, service, payload.email, payload.password)


@auth_router.post("/refresh")
async def refresh(
    request: Request,
    response: Response,
    auth: AuthDep,
    service: AuthServiceDep,
    payload: Annotated[RefreshRequest | None, Body()] = None,
) -> TokenPair:
    """Spend a refresh token for a new pair. Replaying a spent one ends the session."""
    token_value = _refresh_token_from(request, payload, auth)
    try:  # the account is the token's owner; garbage still counts against the IP
        account: str | None = str(auth.codec.decode(token_value, TokenType.REFRESH).user_id)
    except InvalidTokenError:
        account = None
    response.headers.update(
        await auth.limiter.hit("refresh", ip=client_ip(request), account=account)
    )
    pair = await service.refresh(token_value)
    _set_refresh_cookie(response, auth, pair)
    return pair


@auth_router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(
    request: Request,
    response: Response,
    auth: AuthDep,
    service: AuthServiceDep,
    payload: Annotated[RefreshRequest | None, Body()] = None,
) -> None:
    """End this session: its refresh-token family is revoked."""
    await service.logout(_refresh_token_from(request, payload, auth))
    if auth.settings.refresh_cookie_enabled:
        response.delete_cookie(auth.settings.refresh_cookie_name, path=auth.refresh_cookie_path)


@auth_router.post("/logout-all", status_code=status.HTTP_204_NO_CONTENT)
async def logout_all(user: ActiveUser, service: AuthServiceDep) -> None:
    """End every session of this user; outstanding access tokens fail at once."""
    await service.logout_all(user)


@users_router.get("/me")
async def read_me(user: ActiveUser) -> UserRead:
    return UserRead.model_validate(user)


@users_router.patch("/me")
async def update_me(user: ActiveUser, payload: MeUpdate, service: AuthServiceDep) -> MeUpdated:
    tokens = await service.update_me(user, payload)
    return MeUpdated(user=UserRead.model_validate(user), tokens=tokens)


@users_router.get("")
async def list_users(
    _: AdminUser, params: Annotated[UserListParams, Query()], service: AuthServiceDep
) -> UserPage:
    return UserPage.from_page(await service.list_users(list_query(params)))


@users_router.patch("/{user_id}")
async def update_user(
    user_id: UUID, payload: UserAdminUpdate, admin: AdminUser, service: AuthServiceDep
) -> UserRead:
    return UserRead.model_validate(await service.update_user(admin, user_id, payload))
