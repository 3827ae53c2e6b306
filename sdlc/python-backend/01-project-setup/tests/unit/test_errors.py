"""Every error is one problem+json shape: validation, HTTP, domain and unhandled."""

from collections.abc import AsyncIterator
from http import HTTPStatus

import pytest
from fastapi import FastAPI, HTTPException
from httpx import ASGITransport, AsyncClient
from loguru import logger
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.domain.exceptions import (
    BusinessRuleError,
    ConflictError,
    DomainError,
    InvalidQueryError,
    NotFoundError,
)

# The standard phrase changed in Python 3.13 ("Unprocessable Entity" -> "... Content").
UNPROCESSABLE = HTTPStatus(422).phrase


class RateLimitedError(DomainError):
    """A later step's error: its own status and headers, nothing central edited."""

    code = "rate_limited"
    status = HTTPStatus.TOO_MANY_REQUESTS


@pytest.fixture
async def raw_client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    """A client that receives the 500 response instead of re-raising the app's error."""
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


def problem(status: int, title: str, code: str, detail: str) -> dict[str, object]:
    return {"type": "about:blank", "title": title, "status": status, "detail": detail, "code": code}


@pytest.mark.parametrize(
    ("error", "status", "title", "code"),
    [
        (NotFoundError.for_entity("Thing", 1), 404, "Not Found", "not_found"),
        (ConflictError("taken"), 409, "Conflict", "conflict"),
        (BusinessRuleError("nope"), 422, UNPROCESSABLE, "business_rule_violation"),
        (InvalidQueryError("bad sort"), 400, "Bad Request", "invalid_query"),
        (DomainError("generic"), 400, "Bad Request", "domain_error"),
    ],
)
async def test_domain_errors_are_problems(
    app: FastAPI, raw_client: AsyncClient, error: DomainError, status: int, title: str, code: str
) -> None:
    @app.get("/boom")
    async def boom() -> None:
        raise error

    response = await raw_client.get("/boom")
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == problem(status, title, code, error.message)


async def test_a_new_domain_error_brings_its_status_and_headers(
    app: FastAPI, raw_client: AsyncClient
) -> None:
    @app.get("/limited")
    async def limited() -> None:
        raise RateLimitedError("slow down", headers={"Retry-After": "30"})

    response = await raw_client.get("/limited")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "30"
    assert response.json() == problem(429, "Too Many Requests", "rate_limited", "slow down")


async def test_validation_error_lists_each_field(app: FastAPI, raw_client: AsyncClient) -> None:
    @app.get("/items")
    async def items(limit: int) -> int:
        return limit

    response = await raw_client.get("/items", params={"limit": "many"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert (body["code"], body["title"], body["status"]) == ("validation_error", UNPROCESSABLE, 422)
    [error] = body["errors"]
    assert error["loc"] == ["query", "limit"]
    assert error["type"] == "int_parsing"
    assert set(error) == {"loc", "msg", "type"}  # the rejected input is never echoed


async def test_http_errors_keep_their_status_and_headers(
    app: FastAPI, raw_client: AsyncClient
) -> None:
    @app.get("/teapot")
    async def teapot() -> None:
        raise HTTPException(status_code=418, detail="short and stout", headers={"X-Pot": "1"})

    unknown = await raw_client.get("/no/such/route")
    assert unknown.json() == problem(404, "Not Found", "not_found", "Not Found")

    wrong_method = await raw_client.post("/health/live")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["allow"] == "GET"
    assert wrong_method.json()["code"] == "method_not_allowed"

    teapot_response = await raw_client.get("/teapot")
    assert teapot_response.headers["x-pot"] == "1"
    assert teapot_response.json() == problem(418, "I'm a Teapot", "im_a_teapot", "short and stout")


async def test_unhandled_error_is_a_500_without_internals(
    app: FastAPI, raw_client: AsyncClient
) -> None:
    @app.get("/crash")
    async def crash() -> None:
        raise RuntimeError("password=hunter2 in a stack trace")

    response = await raw_client.get("/crash")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == problem(
        500, "Internal Server Error", "internal_error", "An unexpected error occurred."
    )
    assert "hunter2" not in response.text


async def test_a_500_passes_through_the_middleware_of_later_steps(
    app: FastAPI, raw_client: AsyncClient
) -> None:
    """Security headers (04) and request ids (09) are middleware: a 500 must get them."""
    logged: list[str] = []
    logger.add(logged.append, level="ERROR", format="{message}")

    class StampMiddleware:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            async def stamp(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [*message.get("headers", []), (b"x-stamp", b"1")]
                await send(message)

            await self.app(scope, receive, stamp)

    app.add_middleware(StampMiddleware)  # as an extension's install() would

    @app.get("/crash")
    async def crash() -> None:
        raise RuntimeError("password=hunter2 in a stack trace")

    response = await raw_client.get("/crash")
    assert response.status_code == 500
    assert response.headers["x-stamp"] == "1"
    assert response.json()["code"] == "internal_error"
    assert "hunter2" not in response.text
    # The server's log keeps what the client must not see.
    assert any("RuntimeError" in line and "hunter2" in line for line in logged), logged
