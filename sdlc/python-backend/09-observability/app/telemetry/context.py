"""The request id of the request being served, in a contextvar.

A contextvar follows the code that serves one request: every `await`, every task created
with `asyncio.create_task` (it copies the context), Starlette background tasks and
threadpool calls (`anyio.to_thread` copies it too). So any log line, span or outgoing
call can ask `current_request_id()` without the id being passed around by hand.
"""

import re
import uuid
from contextvars import ContextVar, Token

from app.telemetry.config import REQUEST_ID_PATTERN

_VALID = re.compile(REQUEST_ID_PATTERN)
_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


def bind_request_id(request_id: str) -> Token[str | None]:
    return _request_id.set(request_id)


def reset_request_id(token: Token[str | None]) -> None:
    _request_id.reset(token)


def new_request_id() -> str:
    return uuid.uuid4().hex


def accept_request_id(candidate: str | None) -> str:
    """The client's id when it is well-formed, else a fresh one (never the bad value)."""
    if candidate is not None and _VALID.fullmatch(candidate):
        return candidate
    return new_request_id()
