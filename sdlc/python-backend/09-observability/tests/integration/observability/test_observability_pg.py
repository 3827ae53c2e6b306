"""Against real PostgreSQL: readiness follows the database (through a proxy the test
stops and restarts), SQL child spans, pool and login-failure metrics."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy.engine import URL

from app.core.config import Settings
from app.main import create_app
from app.metrics import names
from tests.observability_support import capture_spans


@dataclass
class TcpProxy:
    """127.0.0.1:<port> -> PostgreSQL; `stop()` closes the port and every connection."""

    target_host: str
    target_port: int
    port: int = 0
    server: asyncio.Server | None = None
    writers: set[asyncio.StreamWriter] = field(default_factory=set)

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.writers):
            writer.transport.abort()
        await self.server.wait_closed()
        self.server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(
            self.target_host, self.target_port
        )
        self.writers.update({writer, upstream_writer})

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.transport.abort()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))
        self.writers.difference_update({writer, upstream_writer})


@pytest.fixture
async def proxy(database_url: URL) -> AsyncIterator[TcpProxy]:
    proxy = TcpProxy(database_url.host or "127.0.0.1", database_url.port or 5432)
    await proxy.start()
    yield proxy
    if proxy.server is not None:
        await proxy.stop()


async def test_readiness_follows_postgresql(
    proxy: TcpProxy, database_url: URL, settings: Settings
) -> None:
    through_proxy = database_url.set(host="127.0.0.1", port=proxy.port)
    url = SecretStr(through_proxy.render_as_string(hide_password=False))
    app = create_app(settings.model_copy(update={"database_url": url}))
    transport = ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=transport, base_url="http://t") as client,
    ):
        ready = await client.get("/health/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["database"]["status"] == "ok"

        await proxy.stop()
        down = await client.get("/health/ready")
        assert down.status_code == 503
        body = down.json()
        assert body["status"] == "fail"
        assert body["checks"]["database"]["status"] == "fail"
        assert (await client.get("/health/live")).status_code == 200

        await proxy.start()  # same port: PostgreSQL is back
        back = await client.get("/health/ready")
        assert back.status_code == 200, back.text


async def test_request_span_has_a_child_span_per_sql_query(
    app: FastAPI, client: AsyncClient
) -> None:
    spans = capture_spans(app)
    response = await client.get("/api/v1/products")
    assert response.status_code == 200
    finished = spans.get_finished_spans()
    [server] = [span for span in finished if span.kind.name == "SERVER"]
    sql = [span for span in finished if (span.attributes or {}).get("db.system") == "postgresql"]
    assert sql, [span.name for span in finished]
    assert all(span.context.trace_id == server.context.trace_id for span in sql)
    ids = {span.context.span_id: span for span in finished}
    for span in sql:  # each SQL span hangs below the request's server span
        parent = span.parent
        while parent is not None and parent.span_id != server.context.span_id:
            parent = ids[parent.span_id].parent
        assert parent is not None, span.name
    statements = [
        str(attributes.get("db.statement") or attributes.get("db.query.text") or "")
        for attributes in (span.attributes or {} for span in sql)
    ]
    assert any("FROM products" in statement for statement in statements), statements


async def test_readiness_probe_sql_is_not_traced(app: FastAPI, client: AsyncClient) -> None:
    spans = capture_spans(app)
    assert (await client.get("/health/ready")).status_code == 200
    assert spans.get_finished_spans() == ()


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_login_failures_and_pool_metrics(client: AsyncClient) -> None:
    for _ in range(2):
        response = await client.post(
            "/api/v1/auth/login", json={"email": "nobody@example.com", "password": "wrong-one"}
        )
        assert response.status_code == 401
    samples = _samples((await client.get("/metrics")).text)
    failures = frozenset({("reason", "invalid_credentials")})
    assert samples[(names.LOGIN_FAILURES, failures)] == 2
    assert samples[(names.DB_POOL_MAX, frozenset())] >= 1
    assert (names.DB_POOL_IN_USE, frozenset()) in samples
