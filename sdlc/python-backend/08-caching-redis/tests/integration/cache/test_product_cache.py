"""Cache-aside of the product routes, through the real app, on PostgreSQL and Redis.

`reads` counts the reads that reach the database repository the generated router
builds: a cache hit leaves it unchanged. No generated file is touched — the extension
decorates the product service's parts through the composition seam.
"""

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text

from app.api.v1.endpoints import product as product_endpoints
from app.cache.cache import Namespace
from app.core.database import Database
from app.domain.models.product import Product
from app.domain.query import ListQuery, Page
from app.extensions import redis as redis_extension
from app.repository.product_repository import SQLAlchemyProductRepository
from tests.redis_support import RedisServer, redis_settings, redis_url

URL = "/api/v1/products"


@dataclass
class Reads:
    gets: int = 0
    finds: int = 0
    delay: float = 0.0  # seconds each database read takes (to make misses overlap)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Reads:
    counter = Reads()

    class CountingRepository(SQLAlchemyProductRepository):
        async def get(self, entity_id: uuid.UUID) -> Product | None:
            counter.gets += 1
            await asyncio.sleep(counter.delay)
            return await super().get(entity_id)

        async def find(self, query: ListQuery) -> Page[Product]:
            counter.finds += 1
            return await super().find(query)

    monkeypatch.setattr(product_endpoints, "SQLAlchemyProductRepository", CountingRepository)
    return counter


async def create(client: AsyncClient, **overrides: Any) -> dict[str, Any]:
    body = {"name": f"Lamp {uuid.uuid4().hex[:8]}", "price": "19.90", "stock": 3}
    response = await client.post(URL, json={"is_active": True, **body, **overrides})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_get_and_list_are_read_through(
    client: AsyncClient, app: FastAPI, reads: Reads
) -> None:
    product = await create(client)
    first = await client.get(f"{URL}/{product['id']}")
    second = await client.get(f"{URL}/{product['id']}")
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json() == product
    assert reads.gets == 1

    pages = [await client.get(URL, params={"sort": "name"}) for _ in range(3)]
    assert {response.status_code for response in pages} == {200}
    assert pages[0].json() == pages[2].json()
    assert pages[0].json()["items"] == [product]
    assert reads.finds == 1
    other = await client.get(URL, params={"sort": "-name"})  # another query, another key
    assert other.status_code == 200
    assert reads.finds == 2
    assert app.state.cache.stats.hits >= 3


async def test_the_cache_stays_on_when_the_overrides_are_cleared(
    app: FastAPI, client: AsyncClient, reads: Reads
) -> None:
    product = await create(client)
    hits = app.state.cache.stats.hits
    app.dependency_overrides.clear()  # tests do; the cache is no dependency override
    first = await client.get(f"{URL}/{product['id']}")
    second = await client.get(f"{URL}/{product['id']}")
    assert first.status_code == second.status_code == 200
    assert second.json() == product
    assert reads.gets == 1
    assert app.state.cache.stats.hits == hits + 1


async def test_not_found_is_cached_briefly(client: AsyncClient, reads: Reads) -> None:
    missing = uuid.uuid4()
    assert (await client.get(f"{URL}/{missing}")).status_code == 404
    assert (await client.get(f"{URL}/{missing}")).status_code == 404
    assert reads.gets == 1
    created = await create(client, name="Created later")  # a write bumps the namespace
    assert (await client.get(f"{URL}/{created['id']}")).status_code == 200


async def test_a_committed_write_is_read_back_not_the_stale_entry(
    client: AsyncClient, reads: Reads
) -> None:
    product = await create(client)
    await client.get(f"{URL}/{product['id']}")
    await client.get(URL)
    assert (reads.gets, reads.finds) == (1, 1)

    response = await client.patch(f"{URL}/{product['id']}", json={"price": "25.00"})
    assert response.status_code == 200, response.text
    assert (await client.get(f"{URL}/{product['id']}")).json()["price"] == "25.00"
    assert (await client.get(URL)).json()["items"][0]["price"] == "25.00"
    assert (reads.gets, reads.finds) == (3, 2)  # the PATCH loaded its row itself (no cache)

    assert (await client.delete(f"{URL}/{product['id']}")).status_code == 204
    assert (await client.get(f"{URL}/{product['id']}")).status_code == 404
    assert (await client.get(URL)).json()["total"] == 0


async def test_invalidation_runs_after_the_commit(
    client: AsyncClient, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    product = await create(client)
    seen_at_invalidation: list[str] = []
    original = Namespace.bump

    async def bump_and_look(namespace: Namespace) -> None:
        # Another connection: it sees only committed data.
        async with database.engine.connect() as connection:
            price = await connection.scalar(
                text("SELECT price FROM products WHERE id = :id"), {"id": product["id"]}
            )
        seen_at_invalidation.append(str(price))
        await original(namespace)

    monkeypatch.setattr(Namespace, "bump", bump_and_look)
    response = await client.patch(f"{URL}/{product['id']}", json={"price": "31.00"})
    assert response.status_code == 200
    assert seen_at_invalidation == ["31.00"]  # the commit happened before the invalidation


async def test_a_rolled_back_write_invalidates_nothing(
    client: AsyncClient, reads: Reads, monkeypatch: pytest.MonkeyPatch
) -> None:
    product = await create(client)
    await client.get(f"{URL}/{product['id']}")
    bumps = 0
    original = Namespace.bump

    async def counting_bump(namespace: Namespace) -> None:
        nonlocal bumps
        bumps += 1
        await original(namespace)

    monkeypatch.setattr(Namespace, "bump", counting_bump)
    # A supplier that does not exist: the UPDATE fails at flush, the transaction rolls back.
    response = await client.patch(
        f"{URL}/{product['id']}", json={"price": "1.00", "supplier_id": str(uuid.uuid4())}
    )
    assert response.status_code == 409, response.text
    assert bumps == 0
    gets_before = reads.gets
    cached = await client.get(f"{URL}/{product['id']}")
    assert cached.json()["price"] == "19.90"
    assert reads.gets == gets_before  # still a cache hit


async def test_fifty_concurrent_misses_read_the_database_once(
    client: AsyncClient, reads: Reads
) -> None:
    product = await create(client)
    reads.delay = 0.3
    responses = await asyncio.gather(*(client.get(f"{URL}/{product['id']}") for _ in range(50)))
    assert {response.status_code for response in responses} == {200}
    assert all(response.json() == product for response in responses)
    assert reads.gets == 1


async def test_the_default_is_off_under_app_env_testing(
    app: FastAPI, reads: Reads, monkeypatch: pytest.MonkeyPatch
) -> None:
    default = redis_settings(redis_url(), cache_enabled=None)
    monkeypatch.setattr(redis_extension, "get_redis_settings", lambda: default)
    async with app.router.lifespan_context(app):
        assert app.state.cache.enabled is False


async def test_redis_stopped_mid_test_requests_still_succeed_and_caching_resumes(
    app: FastAPI, redis_server: RedisServer, reads: Reads, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = redis_settings(redis_server.url, cache_retry_after=0.3)
    monkeypatch.setattr(redis_extension, "get_redis_settings", lambda: config)
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client,
    ):
        product = await create(client)
        await client.get(f"{URL}/{product['id']}")
        await client.get(f"{URL}/{product['id']}")
        assert reads.gets == 1

        redis_server.stop()
        assert (await client.get(f"{URL}/{product['id']}")).status_code == 200
        assert (await client.get(URL)).status_code == 200
        patched = await client.patch(f"{URL}/{product['id']}", json={"price": "42.00"})
        assert patched.status_code == 200, patched.text
        assert (await client.get(f"{URL}/{product['id']}")).json()["price"] == "42.00"
        assert reads.gets == 4  # both GETs went to the database (and the PATCH's own read)
        assert app.state.cache.stats.errors >= 1

        redis_server.start()
        await asyncio.sleep(0.4)  # past CACHE_RETRY_AFTER
        assert (await client.get(f"{URL}/{product['id']}")).json()["price"] == "42.00"
        assert (await client.get(f"{URL}/{product['id']}")).json()["price"] == "42.00"
        assert reads.gets == 5  # one miss on the fresh server, then a hit again
