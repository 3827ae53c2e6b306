"""One error shape for every error response: RFC 9457 Problem Details.

Request validation (422), HTTP errors from FastAPI/Starlette or a route (404, 405, ...),
every `DomainError` (its own `status`) and any unhandled exception (500, internals never
shown) are answered with `application/problem+json`:

    {"type": "about:blank", "title": "Not Found", "status": 404,
     "detail": "Product 7 not found", "code": "not_found"}

Validation errors add `"errors": [{"loc": [...], "msg": "...", "type": "..."}]`.
`problem_response()` is the only function that builds such a body.
"""

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from loguru import logger
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.domain.exceptions import DomainError

PROBLEM_MEDIA_TYPE = "application/problem+json"


class FieldError(BaseModel):
    """One invalid input: where (`loc`), why (`msg`) and a machine-readable `type`."""

    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """The body of every error response (RFC 9457 Problem Details)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldError] | None = None


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_MEDIA_TYPE


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _code_for_status(status: int) -> str:
    """`404` -> `not_found`, `405` -> `method_not_allowed`: a stable code for HTTP errors."""
    try:
        return HTTPStatus(status).name.lower()
    except ValueError:
        return "http_error"


def problem_response(
    status: int,
    code: str,
    detail: str,
    *,
    errors: Sequence[Mapping[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """The problem+json response for `status`; the only place an error body is built."""
    problem = Problem.model_validate(
        {
            "title": _title(status),
            "status": status,
            "detail": detail,
            "code": code,
            "errors": errors,
        }
    )
    return ProblemResponse(
        problem.model_dump(mode="json", exclude_none=True),
        status_code=status,
        headers=dict(headers) if headers else None,
    )


async def _domain_error(request: Request, exc: DomainError) -> JSONResponse:
    logger.info("{} {} -> {} ({})", request.method, request.url.path, exc.status.value, exc.code)
    return problem_response(exc.status, exc.code, exc.message, headers=exc.headers)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    # Only loc/msg/type: the rejected `input` may be huge, secret or not JSON at all.
    errors = [
        {"loc": list(error["loc"]), "msg": error["msg"], "type": error["type"]}
        for error in exc.errors()
    ]
    return problem_response(
        HTTPStatus.UNPROCESSABLE_ENTITY,
        "validation_error",
        f"The request is invalid ({len(errors)} error(s)); see `errors`.",
        errors=errors,
    )


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    detail = exc.detail if isinstance(exc.detail, str) else _title(exc.status_code)
    return problem_response(
        exc.status_code, _code_for_status(exc.status_code), detail, headers=exc.headers
    )


def _internal_error() -> JSONResponse:
    return problem_response(
        HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "An unexpected error occurred."
    )


async def _unhandled_error(request: Request, exc: Exception) -> JSONResponse:
    # Only errors raised by middleware itself get here (Starlette's outermost layer,
    # which re-raises so the server logs them); the client gets no internals.
    return _internal_error()


class UnhandledErrorMiddleware:
    """Innermost middleware: an exception no handler took becomes the problem+json 500
    here, inside every other middleware, so their headers apply to it too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception:
            if started:  # too late for another response: let the server close it
                raise
            logger.exception("Unhandled error in {} {}", scope["method"], scope["path"])
            await _internal_error()(scope, receive, send)


def register_exception_handlers(app: FastAPI) -> None:
    app.exception_handler(DomainError)(_domain_error)
    app.exception_handler(RequestValidationError)(_validation_error)
    app.exception_handler(StarletteHTTPException)(_http_error)
    app.exception_handler(Exception)(_unhandled_error)
    # Added before any extension's middleware, so it runs innermost.
    app.add_middleware(UnhandledErrorMiddleware)
