"""JSON Web Tokens (PyJWT): short-lived access tokens and rotating refresh tokens.

Every decode names the one algorithm the deployment uses (`algorithms=[...]`), so a
token cannot choose its own (`alg=none`, or HS256 signed with the public RSA key), and
requires every claim we rely on: issuer, audience, expiry, issued-at, not-before, id,
subject and type. A refresh token is never accepted where an access token is expected.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import jwt

from app.auth.config import AuthSettings
from app.auth.errors import InvalidTokenError

REQUIRED_CLAIMS = ("iss", "aud", "exp", "iat", "nbf", "jti", "sub", "type")


class TokenType(StrEnum):
    ACCESS = "access"
    REFRESH = "refresh"


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    token_id: uuid.UUID
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: uuid.UUID
    token_id: uuid.UUID
    family_id: uuid.UUID  # the login session: every refresh token of one login shares it
    version: int  # access tokens: the user's token version when it was issued
    expires_at: datetime


class TokenCodec:
    def __init__(self, settings: AuthSettings) -> None:
        self._settings = settings

    def issue_access(self, user_id: uuid.UUID, version: int, family_id: uuid.UUID) -> IssuedToken:
        ttl = timedelta(seconds=self._settings.access_token_ttl_seconds)
        return self._issue(TokenType.ACCESS, user_id, ttl, {"ver": version, "sid": str(family_id)})

    def issue_refresh(self, user_id: uuid.UUID, family_id: uuid.UUID) -> IssuedToken:
        ttl = timedelta(seconds=self._settings.refresh_token_ttl_seconds)
        return self._issue(TokenType.REFRESH, user_id, ttl, {"sid": str(family_id)})

    def decode(self, token: str, expected: TokenType) -> TokenClaims:
        """Verified claims of `token`, or `InvalidTokenError` (never anything else)."""
        settings = self._settings
        try:
            payload: dict[str, Any] = jwt.decode(
                token,
                settings.verification_key,
                algorithms=[settings.jwt_algorithm],
                audience=settings.jwt_audience,
                issuer=settings.jwt_issuer,
                leeway=settings.jwt_leeway_seconds,
                options={"require": list(REQUIRED_CLAIMS), "strict_aud": True},
            )
            if payload["type"] != expected.value:
                raise InvalidTokenError(f"A {payload['type']} token cannot be used here")
            return TokenClaims(
                user_id=uuid.UUID(payload["sub"]),
                token_id=uuid.UUID(payload["jti"]),
                family_id=uuid.UUID(payload["sid"]),
                version=int(payload.get("ver", 0)),
                expires_at=datetime.fromtimestamp(payload["exp"], UTC),
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidTokenError("Token has expired") from exc
        except (jwt.PyJWTError, KeyError, TypeError, ValueError) as exc:
            raise InvalidTokenError from exc

    def _issue(
        self, kind: TokenType, user_id: uuid.UUID, ttl: timedelta, extra: dict[str, Any]
    ) -> IssuedToken:
        settings = self._settings
        now = datetime.now(UTC)
        token_id = uuid.uuid4()
        expires_at = now + ttl
        payload = {
            "iss": settings.jwt_issuer,
            "aud": settings.jwt_audience,
            "sub": str(user_id),
            "type": kind.value,
            "jti": str(token_id),
            "iat": now,
            "nbf": now,
            "exp": expires_at,
            **extra,
        }
        token = jwt.encode(payload, settings.signing_key, algorithm=settings.jwt_algorithm)
        return IssuedToken(token=token, token_id=token_id, expires_at=expires_at)
