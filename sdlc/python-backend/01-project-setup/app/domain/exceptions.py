"""Domain errors. Each class names its client-facing `code` and its HTTP `status`.

The API layer (`app.api.errors`) turns any `DomainError` into one problem+json response
from these two attributes, so a new error is one subclass here and nothing else to edit.
`HTTPStatus` is a standard-library enum of numbers; the domain does not import a web
framework for it.
"""

from collections.abc import Mapping
from http import HTTPStatus
from typing import ClassVar


class DomainError(Exception):
    """Base class for errors that carry a stable, client-facing `code` and a `status`."""

    code: ClassVar[str] = "domain_error"
    status: ClassVar[HTTPStatus] = HTTPStatus.BAD_REQUEST

    def __init__(self, message: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        # Extra response headers, e.g. `WWW-Authenticate` (step 04) or `Retry-After`.
        self.headers: dict[str, str] = dict(headers or {})


class NotFoundError(DomainError):
    code = "not_found"
    status = HTTPStatus.NOT_FOUND

    @classmethod
    def for_entity(cls, entity: str, key: object) -> "NotFoundError":
        return cls(f"{entity} {key} not found")


class ConflictError(DomainError):
    code = "conflict"
    status = HTTPStatus.CONFLICT


class BusinessRuleError(DomainError):
    code = "business_rule_violation"
    status = HTTPStatus.UNPROCESSABLE_ENTITY


class InvalidQueryError(DomainError):
    """A filter or sort on a field that is not allowed."""

    code = "invalid_query"
    status = HTTPStatus.BAD_REQUEST
