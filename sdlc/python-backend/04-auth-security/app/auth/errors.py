"""Auth errors: domain errors with their own HTTP status and headers.

The API layer turns every `DomainError` into a Problem Details response (step 01's
`app.api.errors`), using the error's `status`, `code` and `headers` — no table to edit.
"""

from http import HTTPStatus

from app.domain.exceptions import DomainError


class AuthenticationError(DomainError):
    """401: no valid credentials. `WWW-Authenticate` tells the client to use a bearer token."""

    code = "not_authenticated"
    status = HTTPStatus.UNAUTHORIZED

    def __init__(self, message: str = "Not authenticated", *, error: str | None = None) -> None:
        challenge = "Bearer" if error is None else f'Bearer error="{error}"'
        super().__init__(message, headers={"WWW-Authenticate": challenge})


class InvalidCredentialsError(AuthenticationError):
    code = "invalid_credentials"

    def __init__(self) -> None:
        # One message for unknown e-mail, wrong password and disabled account.
        super().__init__("Incorrect e-mail or password")


class InvalidTokenError(AuthenticationError):
    code = "invalid_token"

    def __init__(self, message: str = "Invalid or expired token") -> None:
        super().__init__(message, error="invalid_token")


class PermissionDeniedError(DomainError):
    """403: authenticated, but not allowed."""

    code = "forbidden"
    status = HTTPStatus.FORBIDDEN


class RateLimitExceededError(DomainError):
    code = "rate_limited"
    status = HTTPStatus.TOO_MANY_REQUESTS

    def __init__(self, retry_after: int, headers: dict[str, str]) -> None:
        message = f"Too many requests; retry in {retry_after} s"
        super().__init__(message, headers={"Retry-After": str(retry_after), **headers})
