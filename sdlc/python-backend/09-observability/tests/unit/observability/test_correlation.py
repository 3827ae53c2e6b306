"""Request ids: accepted or replaced, in the response, in every log line of the request
(background work and outgoing calls included), next to the trace id."""

import asyncio
import json
import re

import httpx
import pytest
from fastapi import BackgroundTasks, FastAPI
from httpx import AsyncClient
from loguru import logger

from app.core.config import Settings
from app.core.logging import setup_logging
from app.telemetry.context import accept_request_id, current_request_id
from app.telemetry.http import instrumented_client
from tests.observability_support import capture_spans, captured_logs

HEX32 = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture
def app(app: FastAPI) -> FastAPI:
    """The real app plus a route that logs from the handler, a task and a background job."""

    async def work() -> None:
        logger.info("inside a task")

    async def later() -> None:
        logger.info("background job")

    @app.get("/test/work/{item_id}")
    async def do_work(item_id: int, background: BackgroundTasks) -> dict[str, str | None]:
        logger.info("handler for {}", item_id)
        await asyncio.create_task(work())
        background.add_task(later)
        return {"request_id": current_request_id()}

    return app


@pytest.mark.parametrize(
    "candidate",
    ["abcdefgh", "0f8c3e5a-9d2b-4b61-a2a4-7f1c1b0d9e3e", "trace:42.alpha_beta", "A" * 128],
)
def test_well_formed_ids_are_kept(candidate: str) -> None:
    assert accept_request_id(candidate) == candidate


@pytest.mark.parametrize(
    "candidate",
    [
        None,
        "",
        "short",
        "A" * 129,
        "has space inside",
        'quote"inside',
        "new\nline-injected",
        "ümlaut-chars",
        "semi;colon;x",
        "<script>alert(1)</script>",
    ],
)
def test_malformed_ids_are_replaced(candidate: str | None) -> None:
    replaced = accept_request_id(candidate)
    assert replaced != candidate
    assert HEX32.match(replaced)


async def test_incoming_id_is_in_response_and_every_log_line(client: AsyncClient) -> None:
    with captured_logs() as records:
        response = await client.get("/test/work/7", headers={"X-Request-ID": "client-id-0001"})
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "client-id-0001"
    assert response.json() == {"request_id": "client-id-0001"}

    messages = {record["message"]: record for record in records}
    for expected in ("handler for 7", "inside a task", "background job"):
        assert messages[expected]["request_id"] == "client-id-0001", expected
    access = [record for record in records if record.get("http_route")]
    assert [record["http_route"] for record in access] == ["/test/work/{item_id}"]
    assert access[0]["http_status"] == 200
    assert all(record["request_id"] == "client-id-0001" for record in records)


async def test_invalid_incoming_id_is_replaced_not_echoed(client: AsyncClient) -> None:
    with captured_logs() as records:
        response = await client.get("/test/work/1", headers={"X-Request-ID": "bad id\r\nx"})
    generated = response.headers["X-Request-ID"]
    assert HEX32.match(generated)
    assert {record["request_id"] for record in records} == {generated}


async def test_each_request_gets_its_own_id(client: AsyncClient) -> None:
    ids = {(await client.get("/health/live")).headers["X-Request-ID"] for _ in range(5)}
    assert len(ids) == 5


async def test_lines_outside_a_request_have_no_id() -> None:
    with captured_logs() as records:
        logger.info("not in a request")
    assert records[0]["request_id"] == "-"
    assert records[0]["trace_id"] == "-"


async def test_log_lines_carry_the_trace_id_of_the_request_span(
    app: FastAPI, client: AsyncClient
) -> None:
    spans = capture_spans(app)
    with captured_logs() as records:
        await client.get("/test/work/3")
    [server] = [span for span in spans.get_finished_spans() if span.kind.name == "SERVER"]
    trace_id = f"{server.context.trace_id:032x}"
    handler_line = next(record for record in records if record["message"] == "handler for 3")
    assert handler_line["trace_id"] == trace_id
    access = next(record for record in records if record.get("http_route"))
    assert access["trace_id"] == trace_id
    assert server.attributes is not None
    assert server.attributes["app.request_id"] == handler_line["request_id"]


async def test_outgoing_calls_carry_request_id_and_traceparent(
    app: FastAPI, client: AsyncClient
) -> None:
    seen: list[httpx.Request] = []

    def downstream(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    @app.get("/test/call-out")
    async def call_out() -> dict[str, str]:
        async with instrumented_client(transport=httpx.MockTransport(downstream)) as http:
            await http.get("http://downstream.invalid/ping")
        return {}

    spans = capture_spans(app)
    await client.get("/test/call-out", headers={"X-Request-ID": "outgoing-0001"})
    [request] = seen
    assert request.headers["X-Request-ID"] == "outgoing-0001"
    [server] = [span for span in spans.get_finished_spans() if span.kind.name == "SERVER"]
    _version, trace_id, _parent, _flags = request.headers["traceparent"].split("-")
    assert trace_id == f"{server.context.trace_id:032x}"


def test_json_lines_hold_request_and_trace_fields(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_logging(settings.model_copy(update={"log_json": True, "log_level": "INFO"}))
    from app.telemetry.logging import install_log_correlation

    install_log_correlation()
    logger.info("json line")
    [line] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert line["extra"]["request_id"] == "-"
    assert line["extra"]["trace_id"] == "-"


def test_human_lines_show_request_and_trace(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_logging(settings.model_copy(update={"log_level": "INFO"}))
    logger.info("human line")
    assert "[req=- trace=-]" in capsys.readouterr().out
