"""Map domain errors to HTTP responses, in one place."""

from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from loguru import logger

from app.domain.exceptions import (
    BusinessRuleError,
    ConflictError,
    DomainError,
    InvalidQueryError,
    NotFoundError,
)

STATUS_BY_ERROR: dict[type[DomainError], HTTPStatus] = {
    NotFoundError: HTTPStatus.NOT_FOUND,
    ConflictError: HTTPStatus.CONFLICT,
    BusinessRuleError: HTTPStatus.UNPROCESSABLE_ENTITY,
    InvalidQueryError: HTTPStatus.BAD_REQUEST,
}


def status_for(error: DomainError) -> HTTPStatus:
    """The status of the most specific mapped class in the error's MRO."""
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return HTTPStatus.BAD_REQUEST


async def domain_error_handler(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, DomainError):  # pragma: no cover - registered for DomainError only
        raise exc
    status_code = status_for(exc)
    logger.info("{} {} -> {} ({})", request.method, request.url.path, status_code.value, exc.code)
    return JSONResponse(status_code=status_code, content={"detail": exc.message, "code": exc.code})


def register_exception_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, domain_error_handler)
