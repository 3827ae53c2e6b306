"""Access and refresh tokens: every forgery and misuse below must be refused."""

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from app.auth.errors import InvalidTokenError
from app.auth.tokens import TokenCodec, TokenType
from tests.auth_support import TEST_SECRET, auth_settings

USER = uuid.UUID("0b5e6a57-6a2e-4c3c-9d57-3f1a2b4c5d6e")
FAMILY = uuid.UUID("7d1f3c2a-1b2c-4d5e-8f90-a1b2c3d4e5f6")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(**overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "iss": "backend-service",
        "aud": "backend-service-api",
        "sub": str(USER),
        "type": "access",
        "jti": str(uuid.uuid4()),
        "sid": str(FAMILY),
        "ver": 0,
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=5),
    } | overrides


def hs256(payload: dict[str, Any], secret: str = TEST_SECRET) -> str:
    return jwt.encode(payload, secret, algorithm="HS256")


@pytest.fixture(scope="module")
def rsa_keys() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


@pytest.fixture
def codec() -> TokenCodec:
    return TokenCodec(auth_settings())


def test_round_trip(codec: TokenCodec) -> None:
    issued = codec.issue_access(USER, 3, FAMILY)
    decoded = codec.decode(issued.token, TokenType.ACCESS)
    assert (decoded.user_id, decoded.version, decoded.family_id) == (USER, 3, FAMILY)
    assert decoded.token_id == issued.token_id
    header = jwt.get_unverified_header(issued.token)
    assert header["alg"] == "HS256"
    payload = jwt.decode(issued.token, options={"verify_signature": False})
    assert set(payload) >= {"iss", "aud", "exp", "iat", "nbf", "jti", "sub", "type"}
    assert payload["exp"] - payload["iat"] == 900


def test_each_token_has_its_own_id(codec: TokenCodec) -> None:
    first, second = codec.issue_refresh(USER, FAMILY), codec.issue_refresh(USER, FAMILY)
    assert first.token_id != second.token_id
    assert first.token != second.token


@pytest.mark.parametrize(
    ("name", "payload"),
    [
        ("expired", claims(exp=datetime.now(UTC) - timedelta(minutes=1))),
        ("not yet valid (nbf)", claims(nbf=datetime.now(UTC) + timedelta(minutes=5))),
        ("issued in the future (iat)", claims(iat=datetime.now(UTC) + timedelta(minutes=5))),
        ("wrong audience", claims(aud="another-api")),
        ("wrong issuer", claims(iss="https://evil.example")),
        ("no expiry", {k: v for k, v in claims().items() if k != "exp"}),
        ("no jti", {k: v for k, v in claims().items() if k != "jti"}),
        ("no type", {k: v for k, v in claims().items() if k != "type"}),
        ("subject not a UUID", claims(sub="admin")),
    ],
)
def test_rejects_bad_claims(codec: TokenCodec, name: str, payload: dict[str, Any]) -> None:
    with pytest.raises(InvalidTokenError):
        codec.decode(hs256(payload), TokenType.ACCESS)


def test_rejects_wrong_secret(codec: TokenCodec) -> None:
    with pytest.raises(InvalidTokenError):
        codec.decode(hs256(claims(), secret="x" * 64), TokenType.ACCESS)


def test_rejects_tampered_payload(codec: TokenCodec) -> None:
    header, _, signature = codec.issue_access(USER, 0, FAMILY).token.split(".")
    forged = b64(json.dumps(claims(ver=0, sub=str(uuid.uuid4())), default=str).encode())
    with pytest.raises(InvalidTokenError):
        codec.decode(f"{header}.{forged}.{signature}", TokenType.ACCESS)


def test_rejects_alg_none(codec: TokenCodec) -> None:
    payload = {k: int(v.timestamp()) if isinstance(v, datetime) else v for k, v in claims().items()}
    token = f"{b64(b'{"alg":"none","typ":"JWT"}')}.{b64(json.dumps(payload).encode())}."
    with pytest.raises(InvalidTokenError):
        codec.decode(token, TokenType.ACCESS)


def test_rejects_hs256_signed_with_the_rsa_public_key(rsa_keys: tuple[str, str]) -> None:
    """Algorithm confusion: the public key is public, so an HMAC made with it is forgeable."""
    private, public = rsa_keys
    codec = TokenCodec(
        auth_settings(
            jwt_algorithm="RS256",
            jwt_private_key=private,
            jwt_public_key=public,
            jwt_secret_key=None,
        )
    )
    assert codec.decode(codec.issue_access(USER, 0, FAMILY).token, TokenType.ACCESS).user_id == USER

    payload = {k: int(v.timestamp()) if isinstance(v, datetime) else v for k, v in claims().items()}
    signing_input = f"{b64(b'{"alg":"HS256","typ":"JWT"}')}.{b64(json.dumps(payload).encode())}"
    signature = hmac.new(public.encode(), signing_input.encode(), hashlib.sha256).digest()
    with pytest.raises(InvalidTokenError):
        codec.decode(f"{signing_input}.{b64(signature)}", TokenType.ACCESS)


def test_refresh_token_is_not_an_access_token(codec: TokenCodec) -> None:
    refresh = codec.issue_refresh(USER, FAMILY).token
    with pytest.raises(InvalidTokenError, match="refresh token cannot be used"):
        codec.decode(refresh, TokenType.ACCESS)
    access = codec.issue_access(USER, 0, FAMILY).token
    with pytest.raises(InvalidTokenError):
        codec.decode(access, TokenType.REFRESH)


def test_garbage_is_an_invalid_token_not_a_crash(codec: TokenCodec) -> None:
    for token in ("", "abc", "a.b.c", "é.é.é", "x" * 5000):
        with pytest.raises(InvalidTokenError):
            codec.decode(token, TokenType.ACCESS)


def test_invalid_token_error_is_a_401_bearer_challenge() -> None:
    error = InvalidTokenError()
    assert error.status == 401
    assert error.headers == {"WWW-Authenticate": 'Bearer error="invalid_token"'}
