"""Database settings, secrets and query builder, without a database server."""

from typing import Any

import pytest
from loguru import logger
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.config import Settings
from app.core.database import Database
from app.domain.exceptions import InvalidQueryError
from app.domain.models.product import Product
from app.domain.query import Filter, FilterOp, SortField
from app.main import create_app
from app.utils.query import apply_filters, apply_sorting, column_for


def make(**values: Any) -> Settings:
    """Settings from `values` only: not even a DATABASE_URL from the environment."""
    return Settings(_env_file=None, **({"database_url": None} | values))


@pytest.mark.parametrize(
    "raw",
    [
        "postgresql://u:p@db.internal:5433/shop",
        "postgres://u:p@db.internal:5433/shop",
        "postgresql+asyncpg://u:p@db.internal:5433/shop",
    ],
)
def test_database_url_is_normalised_to_asyncpg(raw: str) -> None:
    url = make(database_url=raw).database_dsn
    assert url.drivername == "postgresql+asyncpg"
    assert (url.username, url.password, url.host, url.port, url.database) == (
        "u",
        "p",
        "db.internal",
        5433,
        "shop",
    )


def test_invalid_database_url_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="not a valid database URL"):
        make(database_url="not a url")


def test_database_url_built_from_postgres_parts() -> None:
    settings = make(
        database_url="",
        postgres_user="svc",
        postgres_password="s3cr:t@/",
        postgres_host="10.0.0.5",
        postgres_db="orders",
    )
    url = settings.database_dsn
    assert url.drivername == "postgresql+asyncpg"
    assert (url.username, url.password, url.host, url.database) == (
        "svc",
        "s3cr:t@/",
        "10.0.0.5",
        "orders",
    )
    assert "s3cr" not in url.render_as_string(hide_password=True)


def test_engine_uses_pool_settings() -> None:
    settings = make(
        database_url="postgresql://u:secret@localhost/db",
        db_pool_size=7,
        db_max_overflow=3,
        db_pool_timeout=4.5,
    )
    database = Database.from_settings(settings)
    pool: Any = database.engine.pool
    assert pool.size() == 7
    assert pool._max_overflow == 3
    assert pool._timeout == 4.5
    assert "secret" not in database.safe_url


POSTGRES = create_async_engine("postgresql+asyncpg://").dialect


def compiled(stmt: Any) -> str:
    return str(stmt.compile(dialect=POSTGRES))


def test_filters_compile_to_where_clauses() -> None:
    stmt = apply_filters(
        select(Product),
        Product,
        [
            Filter("name", FilterOp.CONTAINS, "lamp"),
            Filter("price", FilterOp.GE, 10),
            Filter("stock", FilterOp.IN, [1, 2]),
            Filter("description", FilterOp.IS_NULL, False),
        ],
    )
    sql = compiled(stmt)
    assert "products.name ILIKE '%' || " in sql
    assert "products.price >=" in sql
    assert "products.stock IN" in sql
    assert "products.description IS NOT NULL" in sql


def test_sorting_ends_with_primary_key() -> None:
    sql = compiled(apply_sorting(select(Product), Product, [SortField("price", descending=True)]))
    assert sql.endswith("ORDER BY products.price DESC, products.id ASC")


@pytest.mark.parametrize("field", ["nope", "__class__", "metadata", "_sa_instance_state"])
def test_unknown_fields_are_rejected(field: str) -> None:
    with pytest.raises(InvalidQueryError):
        column_for(Product, field)


def test_in_filter_needs_a_list() -> None:
    with pytest.raises(InvalidQueryError):
        apply_filters(select(Product), Product, [Filter("stock", FilterOp.IN, "12")])


STRONG_KEY = "k" * 48
STRONG_PASSWORD = "Zq8vL2rT9wX4yB7n"


def test_database_url_never_shows_its_password() -> None:
    settings = make(database_url=f"postgresql://svc:{STRONG_PASSWORD}@db.internal/shop")
    assert settings.database_dsn.password == STRONG_PASSWORD  # still usable...
    for rendered in (
        repr(settings),
        str(settings),
        str(settings.model_dump()),
        settings.model_dump_json(),
        repr(settings.database_dsn),
    ):
        assert STRONG_PASSWORD not in rendered  # ...but never displayed


async def test_startup_log_hides_the_password() -> None:
    settings = make(database_url=f"postgresql://svc:{STRONG_PASSWORD}@db.internal/shop")
    app = create_app(settings)
    messages: list[str] = []
    logger.add(lambda message: messages.append(message.record["message"]), level="DEBUG")
    async with app.router.lifespan_context(app):  # the pool connects lazily: no server needed
        pass
    assert any("db.internal" in message for message in messages)
    assert not any(STRONG_PASSWORD in message for message in messages)


def test_invalid_database_url_error_does_not_repeat_it() -> None:
    with pytest.raises(ValidationError) as excinfo:
        make(database_url=f"not a url {STRONG_PASSWORD}")
    assert "not a valid database URL" in str(excinfo.value)
    assert all(STRONG_PASSWORD not in str(error["msg"]) for error in excinfo.value.errors())


@pytest.mark.parametrize("env", ["staging", "production"])
@pytest.mark.parametrize(
    ("database", "problem"),
    [
        ({"database_url": "postgresql://app@db.internal/app"}, "must include a password"),
        ({}, "must include a password"),  # built from POSTGRES_* without a password
        ({"database_url": "postgresql://app:password@db.internal/app"}, "placeholder"),
        ({"postgres_user": "svc", "postgres_password": "svc"}, "placeholder"),
    ],
)
def test_strict_environments_refuse_a_weak_database_password(
    env: str, database: dict[str, str], problem: str
) -> None:
    with pytest.raises(ValidationError, match=problem):
        make(app_env=env, secret_key=STRONG_KEY, **database)


@pytest.mark.parametrize("env", ["staging", "production"])
def test_strict_environments_accept_a_real_database_password(env: str) -> None:
    url = f"postgresql://svc:{STRONG_PASSWORD}@db.internal/shop"
    assert make(app_env=env, secret_key=STRONG_KEY, database_url=url).is_strict
    assert make(app_env=env, secret_key=STRONG_KEY, postgres_password=STRONG_PASSWORD).is_strict
