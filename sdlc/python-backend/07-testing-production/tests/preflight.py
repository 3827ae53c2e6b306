"""`make test` runs this first: can the integration tests get a PostgreSQL server on
which they may CREATE DATABASE? If not, it says exactly what to do and exits 2, before
a long run fails test by test.

It takes the decision `tests/services.py` takes (same variables, same order), then, for
a configured server, connects once and asks for the privilege the tests need.

Usage: python -m tests.preflight
"""

import asyncio
import os
import sys

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from tests.integration.helpers import server_url
from tests.services import (
    POSTGRES_VARIABLES,
    PROJECT_ROOT,
    Source,
    docker_problem,
    resolve,
)

CONNECT_TIMEOUT_SECONDS = 5
EXIT_NO_SERVER = 2
MAY_CREATE_DATABASE = text(
    "SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user"
)


def _reason(exc: Exception) -> str:
    """The driver's own message, first line only (no SQL, no background link)."""
    original = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    message = str(original).strip().splitlines()
    return message[0] if message else original.__class__.__name__


async def server_problem(server: URL) -> str | None:
    """None when `server` answers and its role may CREATE DATABASE, else why not."""
    engine = create_async_engine(
        server, poolclass=NullPool, connect_args={"timeout": CONNECT_TIMEOUT_SECONDS}
    )
    try:
        async with engine.connect() as connection:
            allowed = await connection.scalar(MAY_CREATE_DATABASE)
    except (OSError, DBAPIError) as exc:  # refused, timed out, auth, unknown role/db
        return _reason(exc)
    finally:
        await engine.dispose()
    if not allowed:
        return (
            f"role {server.username!r} may not CREATE DATABASE "
            "(each test session creates a throwaway database)"
        )
    return None


def say(line: str, *, error: bool = False) -> None:
    (sys.stderr if error else sys.stdout).write(line + "\n")


def guidance(tried: str, problem: str, server: URL | None) -> str:
    """What to do, with the tried server's host, port, role and database in the examples."""
    host = server.host if server is not None and server.host else "127.0.0.1"
    port = server.port if server is not None and server.port else 5432
    role = server.username if server is not None and server.username else "app"
    database = server.database if server is not None and server.database else "app"
    return "\n".join(
        (
            "make test: the integration tests need a PostgreSQL server on which they may "
            "CREATE DATABASE.",
            f"  tried {tried}: {problem}",
            "Pick one, then run `make test` again:",
            "  make db-up",
            "      PostgreSQL in Docker, with the user and password in .env (make install).",
            f"  TEST_DATABASE_URL=postgresql://postgres@{host}:{port}/postgres make test",
            "      a server you run already; the role needs CREATEDB (or superuser).",
            f"  createuser --createdb --pwprompt {role} && createdb --owner {role} {database}",
            "      on that server, as its superuser: the role and database the URL names",
            "      (for .env: POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB); `make run` uses",
            "      them too.",
            "`make test-unit` runs the unit tests, which need no server.",
        )
    )


def check_postgres(source: Source, docker: str | None) -> str | None:
    """None when the integration tests will get a usable server, else the guidance."""
    if source.kind == "container":
        say("PostgreSQL for the integration tests: a testcontainers one (Docker answers)")
        return None
    if source.kind == "skip":
        configured = " or ".join(POSTGRES_VARIABLES[:2])
        return guidance("nothing", f"no {configured}, no .env, and {docker}", None)
    server = server_url()
    where = server.render_as_string(hide_password=True)
    problem = asyncio.run(server_problem(server))
    if problem is not None:
        return guidance(f"{where} (from {source.detail})", problem, server)
    say(f"PostgreSQL for the integration tests: {where} (from {source.detail})")
    return None


def main() -> int:
    docker = docker_problem()
    postgres = resolve(
        POSTGRES_VARIABLES,
        os.environ,
        configured=(PROJECT_ROOT / ".env").is_file(),
        docker=docker,
        what="PostgreSQL",
    )
    problem = check_postgres(postgres, docker)
    if problem is not None:
        say(problem, error=True)
        return EXIT_NO_SERVER
    return 0


if __name__ == "__main__":
    sys.exit(main())
