"""Operator commands: `python -m app.auth create-admin --email …`, `… prune-tokens`.

The password is read from `ADMIN_PASSWORD` or from a prompt — never from the command
line, where it would end up in shell history and in every `ps` listing.
"""

import argparse
import asyncio
import getpass
import os
import sys

from pydantic import TypeAdapter, ValidationError
from pydantic.networks import EmailStr

from app.auth.config import AuthSettings, get_auth_settings
from app.auth.passwords import PasswordHasher
from app.auth.rate_limit import RequestLimiter
from app.auth.repository import RefreshTokenRepository, UserRepository
from app.auth.service import AuthComponents, AuthService
from app.auth.tokens import TokenCodec
from app.core.config import get_settings
from app.core.database import Database, SQLAlchemyUnitOfWork
from app.domain.exceptions import DomainError


def read_password() -> str:
    password = os.environ.get("ADMIN_PASSWORD")
    if password:
        return password
    if not sys.stdin.isatty():
        raise SystemExit("set ADMIN_PASSWORD, or run interactively to be prompted")
    password = getpass.getpass("Password for the new admin: ")
    if getpass.getpass("Repeat the password: ") != password:
        raise SystemExit("passwords do not match")
    return password


async def create_admin(email: str, password: str, auth: AuthSettings) -> str:
    settings = get_settings()
    database = Database.from_settings(settings)
    hasher = PasswordHasher(auth)
    components = AuthComponents(
        auth, hasher, TokenCodec(auth), RequestLimiter(auth), f"{settings.api_v1_prefix}/auth"
    )
    try:
        async with database.session() as session:
            service = AuthService(
                UserRepository(session),
                RefreshTokenRepository(session),
                SQLAlchemyUnitOfWork(session),
                components,
            )
            user = await service.create_admin(email, password)
            return str(user.id)
    finally:
        hasher.close()
        await database.dispose()


async def prune_tokens() -> int:
    database = Database.from_settings(get_settings())
    try:
        async with database.session() as session, SQLAlchemyUnitOfWork(session):
            return await RefreshTokenRepository(session).prune_expired()
    finally:
        await database.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.auth")
    commands = parser.add_subparsers(dest="command", required=True)
    admin = commands.add_parser("create-admin", help="create the first administrator")
    admin.add_argument("--email", required=True)
    commands.add_parser("prune-tokens", help="delete expired refresh tokens")
    args = parser.parse_args(argv)

    if args.command == "prune-tokens":
        print(f"deleted {asyncio.run(prune_tokens())} expired refresh token(s)")  # noqa: T201
        return 0
    try:
        email = TypeAdapter(EmailStr).validate_python(args.email).lower()
    except ValidationError:
        parser.error(f"not an e-mail address: {args.email!r}")
    try:
        user_id = asyncio.run(create_admin(email, read_password(), get_auth_settings()))
    except DomainError as exc:
        print(f"error: {exc.message}", file=sys.stderr)  # noqa: T201
        return 1
    print(f"created admin {email} ({user_id})")  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
