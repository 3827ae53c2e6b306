"""Where integration tests get their servers (tests/services.py): a given URL wins,
then testcontainers, else a skip whose reason says what to do."""

import pytest

from tests.services import POSTGRES_VARIABLES, REDIS_VARIABLES, docker_problem, resolve


def test_a_given_url_wins_over_docker() -> None:
    source = resolve(
        POSTGRES_VARIABLES,
        {"DATABASE_URL": "postgresql://x"},
        configured=False,
        docker=None,
        what="PostgreSQL",
    )
    assert (source.kind, source.detail) == ("given", "DATABASE_URL")


def test_a_dotenv_file_is_used_when_docker_is_not_there() -> None:
    source = resolve(POSTGRES_VARIABLES, {}, configured=True, docker=None, what="PostgreSQL")
    assert source.kind == "container"
    source = resolve(POSTGRES_VARIABLES, {}, configured=True, docker="no", what="PostgreSQL")
    assert (source.kind, source.detail) == ("given", ".env")


def test_docker_is_used_when_nothing_is_given() -> None:
    source = resolve(REDIS_VARIABLES, {}, configured=False, docker=None, what="Redis")
    assert source.kind == "container"


def test_without_server_and_docker_the_skip_says_what_to_do() -> None:
    source = resolve(
        POSTGRES_VARIABLES, {}, configured=False, docker="no Docker engine", what="PostgreSQL"
    )
    assert source.kind == "skip"
    for hint in ("TEST_DATABASE_URL or DATABASE_URL", "make docker-up", "pytest -m unit"):
        assert hint in source.detail


def test_an_unreachable_docker_engine_is_a_reason_not_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    problem = docker_problem()
    assert problem is not None
    assert "Docker" in problem
