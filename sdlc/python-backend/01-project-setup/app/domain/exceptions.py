"""Domain errors. The API layer maps them to HTTP responses (`app.api.errors`)."""


class DomainError(Exception):
    """Base class for errors that carry a stable, client-facing `code`."""

    code = "domain_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(DomainError):
    code = "not_found"

    @classmethod
    def for_entity(cls, entity: str, key: object) -> "NotFoundError":
        return cls(f"{entity} {key} not found")


class ConflictError(DomainError):
    code = "conflict"


class BusinessRuleError(DomainError):
    code = "business_rule_violation"


class InvalidQueryError(DomainError):
    """A filter or sort on a field that is not allowed."""

    code = "invalid_query"
