"""Where the integration tests' servers come from, in this order:

1. a URL in the environment: `TEST_DATABASE_URL`, `DATABASE_URL` (or `POSTGRES_HOST` /
   `POSTGRES_PASSWORD`), `TEST_REDIS_URL`, `REDIS_URL`;
2. otherwise a throwaway container started by testcontainers, when a Docker engine
   answers;
3. otherwise, for PostgreSQL, the server `.env` configures (`make db-up`), if there is
   a `.env`; an unreachable one fails the tests with the reason (step 03);
4. otherwise the tests that need the server are skipped, with a reason that says what
   to do. The runner's checks and CI always give the URLs, and fail on any skip.
"""

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
POSTGRES_IMAGE = "postgres:17-alpine"
REDIS_IMAGE = "redis:7-alpine"
POSTGRES_VARIABLES = ("TEST_DATABASE_URL", "DATABASE_URL", "POSTGRES_HOST", "POSTGRES_PASSWORD")
REDIS_VARIABLES = ("TEST_REDIS_URL", "REDIS_URL")


@dataclass(frozen=True, slots=True)
class Source:
    """How a server is obtained: `given` (configured), `container`, or `skip`."""

    kind: str
    detail: str


def docker_problem() -> str | None:
    """None when a Docker engine answers a ping within 3 s, else why it does not."""
    try:
        import docker  # testcontainers brings it; imported only here
        from docker.errors import DockerException
    except ImportError:
        return "the `docker` package is missing (it comes with testcontainers: `make install`)"
    try:
        client = docker.from_env(timeout=3)
        try:
            client.ping()
        finally:
            client.close()
    except (DockerException, OSError) as exc:  # requests' errors are OSErrors
        return f"no Docker engine answers ({exc.__class__.__name__})"
    return None


def resolve(
    variables: tuple[str, ...],
    environ: Mapping[str, str],
    *,
    configured: bool,
    docker: str | None,
    what: str,
) -> Source:
    """The decision alone, without side effects (unit-tested)."""
    for name in variables:
        if environ.get(name):
            return Source("given", name)
    if docker is None:
        return Source("container", what)
    if configured:
        return Source("given", ".env")
    hint = f"set {' or '.join(variables[:2])}"
    return Source(
        "skip",
        f"no {what} for integration tests: {hint} to a server you started (e.g. "
        f"`make docker-up`), or start Docker so testcontainers can run one; {docker}. "
        "`pytest -m unit` needs no server.",
    )


@contextmanager
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server URL for the whole test session (see the module docstring)."""
    from tests.integration.helpers import server_url

    source = resolve(
        POSTGRES_VARIABLES,
        os.environ,
        configured=(PROJECT_ROOT / ".env").is_file(),
        docker=docker_problem(),
        what="PostgreSQL",
    )
    if source.kind == "given":
        yield server_url().render_as_string(hide_password=False)
    elif source.kind == "container":
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer(POSTGRES_IMAGE, driver="asyncpg") as container:
            yield container.get_connection_url()
    else:
        pytest.skip(source.detail)


@contextmanager
def redis_server() -> Iterator[str]:
    """A Redis server URL for the whole test session (see the module docstring)."""
    source = resolve(
        REDIS_VARIABLES, os.environ, configured=False, docker=docker_problem(), what="Redis"
    )
    if source.kind == "given":
        yield os.environ[source.detail]
    elif source.kind == "container":
        from testcontainers.redis import RedisContainer

        with RedisContainer(REDIS_IMAGE) as container:
            host = container.get_container_host_ip()
            yield f"redis://{host}:{container.get_exposed_port(6379)}/0"
    else:
        pytest.skip(source.detail)
