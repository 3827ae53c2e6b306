"""Use cases: register, log in, rotate refresh tokens, log out, change password, admin.

Transactions follow step 03's rule: the service commits through the unit of work. Where
a request must fail *and* keep a write (a replayed refresh token revokes its family,
then answers 401), the write commits first and the error is raised after the block.
"""

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from loguru import logger

from app.auth.config import AuthSettings
from app.auth.errors import InvalidCredentialsError, InvalidTokenError, PermissionDeniedError
from app.auth.passwords import PasswordHasher
from app.auth.rate_limit import RequestLimiter
from app.auth.repository import RefreshTokenRepository, UserRepository
from app.auth.schemas import MeUpdate, TokenPair, UserAdminUpdate
from app.auth.tokens import TokenClaims, TokenCodec, TokenType
from app.domain.exceptions import BusinessRuleError, NotFoundError
from app.domain.models.user import RefreshToken, Role, User
from app.domain.query import ListQuery, Page
from app.domain.unit_of_work import UnitOfWork


class WrongCurrentPasswordError(PermissionDeniedError):
    code = "wrong_current_password"


@dataclass(frozen=True, slots=True)
class AuthComponents:
    """Process-wide auth machinery, created in the lifespan (`app.state.auth`)."""

    settings: AuthSettings
    hasher: PasswordHasher
    codec: TokenCodec
    limiter: RequestLimiter
    refresh_cookie_path: str  # the cookie is only sent to the /auth endpoints


def token_digest(token: str) -> str:
    """What is stored instead of the refresh token: a leaked table cannot be replayed."""
    return hashlib.sha256(token.encode()).hexdigest()


def check_password_policy(password: str, settings: AuthSettings) -> None:
    if not settings.password_min_length <= len(password) <= settings.password_max_length:
        msg = (
            f"password must be {settings.password_min_length} to "
            f"{settings.password_max_length} characters long"
        )
        raise BusinessRuleError(msg)


class AuthService:
    def __init__(
        self,
        users: UserRepository,
        tokens: RefreshTokenRepository,
        uow: UnitOfWork,
        components: AuthComponents,
    ) -> None:
        self._users = users
        self._tokens = tokens
        self._uow = uow
        self._hasher = components.hasher
        self._codec = components.codec
        self._settings = components.settings

    # --- accounts -------------------------------------------------------------------
    async def register(self, email: str, password: str, full_name: str | None) -> None:
        """Create the account unless the e-mail is taken — the caller can't tell which.

        Both paths hash the password, so they also take the same time.
        """
        check_password_policy(password, self._settings)
        password_hash = await self._hasher.hash(password)
        user = User(
            id=uuid.uuid4(),
            email=email.lower(),
            password_hash=password_hash,
            full_name=full_name,
            roles=[Role.USER.value],
        )
        async with self._uow:
            created = await self._users.add_if_absent(user)
        logger.info("register: {}", "created" if created else "e-mail already registered")

    async def create_admin(self, email: str, password: str) -> User:
        check_password_policy(password, self._settings)
        if await self._users.get_by_email(email) is not None:
            msg = f"a user with e-mail {email.lower()} already exists"
            raise BusinessRuleError(msg)
        user = User(
            email=email.lower(),
            password_hash=await self._hasher.hash(password),
            roles=[Role.ADMIN.value],
        )
        async with self._uow:
            await self._users.add(user)
        return user

    # --- sessions -------------------------------------------------------------------
    async def login(self, email: str, password: str) -> TokenPair:
        user = await self._users.get_by_email(email)
        if user is None:
            await self._hasher.verify_dummy(password)  # same work, same answer
            raise InvalidCredentialsError
        result = await self._hasher.verify(password, user.password_hash)
        if not result.valid or not user.is_active:
            raise InvalidCredentialsError
        async with self._uow:
            if result.new_hash is not None:  # old parameters or a legacy bcrypt hash
                user.password_hash = result.new_hash
                logger.info("login: password hash of {} upgraded", user.id)
            user.last_login_at = datetime.now(UTC)
            await self._tokens.prune_expired(user.id)
            return await self._issue_pair(user, family_id=uuid.uuid4())

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Rotate: the presented token is spent, its successor joins the same family.

        A token that was already spent is being replayed — by a thief or by the user
        after a thief — so the whole family is revoked and both lose the session.
        """
        claims = self._codec.decode(refresh_token, TokenType.REFRESH)
        async with self._uow:
            row = await self._stored_token(claims, refresh_token)
            if row.used_at is None:
                user = await self._users.get(row.user_id)
                if user is None or not user.is_active:
                    raise InvalidTokenError
                row.used_at = datetime.now(UTC)
                return await self._issue_pair(user, family_id=row.family_id)
            await self._tokens.revoke_family(row.family_id)
        # Only reached on reuse, after the revocation committed: it must survive the 401.
        logger.warning(
            "refresh token reuse: family {} of user {} revoked", row.family_id, row.user_id
        )
        msg = "Refresh token was already used; the session has been revoked"
        raise InvalidTokenError(msg)

    async def logout(self, refresh_token: str) -> None:
        claims = self._codec.decode(refresh_token, TokenType.REFRESH)
        async with self._uow:
            row = await self._stored_token(claims, refresh_token)
            await self._tokens.revoke_family(row.family_id)

    async def logout_all(self, user: User) -> None:
        async with self._uow:
            await self._end_all_sessions(user)

    # --- profile --------------------------------------------------------------------
    async def update_me(self, user: User, changes: MeUpdate) -> TokenPair | None:
        """Apply the changes; a password change returns a new pair for this client."""
        pair: TokenPair | None = None
        new_hash: str | None = None
        if changes.new_password is not None:
            check_password_policy(changes.new_password, self._settings)
            current = await self._hasher.verify(changes.current_password or "", user.password_hash)
            if not current.valid:
                msg = "Current password is incorrect"
                raise WrongCurrentPasswordError(msg)
            new_hash = await self._hasher.hash(changes.new_password)
        async with self._uow:
            if "full_name" in changes.model_fields_set:
                user.full_name = changes.full_name
            if new_hash is not None:
                user.password_hash = new_hash
                user.password_changed_at = datetime.now(UTC)
                await self._end_all_sessions(user)
                pair = await self._issue_pair(user, family_id=uuid.uuid4())
            await self._users.update(user)
        return pair

    # --- administration -------------------------------------------------------------
    async def list_users(self, query: ListQuery) -> Page[User]:
        return await self._users.find(query)

    async def update_user(self, actor: User, user_id: uuid.UUID, changes: UserAdminUpdate) -> User:
        if user_id == actor.id:
            msg = "administrators cannot change their own roles or status"
            raise BusinessRuleError(msg)
        user = await self._users.get(user_id)
        if user is None:
            raise NotFoundError.for_entity("User", user_id)
        async with self._uow:
            if changes.roles is not None:
                user.roles = sorted({role.value for role in changes.roles})
            if changes.is_active is not None:
                was_active, user.is_active = user.is_active, changes.is_active
                if was_active and not user.is_active:
                    await self._end_all_sessions(user)
            await self._users.update(user)
        return user

    # --- helpers --------------------------------------------------------------------
    async def _issue_pair(self, user: User, family_id: uuid.UUID) -> TokenPair:
        access = self._codec.issue_access(user.id, user.token_version, family_id)
        refresh = self._codec.issue_refresh(user.id, family_id)
        await self._tokens.add(
            RefreshToken(
                id=refresh.token_id,
                user_id=user.id,
                family_id=family_id,
                token_hash=token_digest(refresh.token),
                expires_at=refresh.expires_at,
            )
        )
        return TokenPair(
            access_token=access.token,
            refresh_token=refresh.token,
            expires_in=self._settings.access_token_ttl_seconds,
        )

    async def _stored_token(self, claims: TokenClaims, token: str) -> RefreshToken:
        """The live row of a verified refresh token (locked), or `InvalidTokenError`."""
        row = await self._tokens.get_for_update(claims.token_id)
        if (
            row is None
            or row.user_id != claims.user_id
            or not hmac.compare_digest(row.token_hash, token_digest(token))
            or row.revoked_at is not None
        ):
            raise InvalidTokenError
        return row

    async def _end_all_sessions(self, user: User) -> None:
        """Every refresh family revoked; every outstanding access token refused."""
        user.token_version += 1
        await self._tokens.revoke_user(user.id)
        await self._users.update(user)
