"""Sentry error tracking, on only when `SENTRY_DSN` is set.

Unhandled errors reach Sentry twice over, deduplicated: through the SDK's ASGI
integration when they escape the app, and through the log record step 01 writes when
its innermost middleware turns them into the problem+json 500 (see `report_logged_error`).
`before_send` runs on every event in this process before it is sent: secrets and tokens
are replaced by "[Filtered]" wherever they appear (headers, cookies, body, extra data,
breadcrumbs), whatever Sentry's own defaults do. Every event carries the request id as a
tag, so an error in Sentry leads to the request's log lines and, through the trace id
in those lines, to its trace.
"""

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, cast

import sentry_sdk
from sentry_sdk.integrations.fastapi import FastApiIntegration
from sentry_sdk.integrations.starlette import StarletteIntegration
from sentry_sdk.types import Event, Hint

from app.core.config import Settings
from app.telemetry.config import ObservabilitySettings
from app.telemetry.context import current_request_id

if TYPE_CHECKING:
    from loguru import Record

FILTERED = "[Filtered]"

# Any key containing one of these words (case-insensitive, `-` and `_` alike).
SENSITIVE_KEY = re.compile(
    r"authorization|cookie|password|passwd|secret|token|api[-_]?key|credential|session"
    r"|private[-_]?key|jwt|dsn",
    re.IGNORECASE,
)
# Values that are credentials whatever their key: bearer tokens and JWTs.
SENSITIVE_VALUE = re.compile(
    r"(?i)\bbearer\s+\S+|\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"
)
# `?token=...&password=...` inside query strings and URLs.
SENSITIVE_QUERY = re.compile(
    r"(?i)((?:[a-z_-]*(?:token|password|secret|api[-_]?key)[a-z_-]*)=)[^&\s]*"
)


def scrub(value: object) -> object:
    if isinstance(value, Mapping):
        return {
            key: FILTERED if isinstance(key, str) and SENSITIVE_KEY.search(key) else scrub(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        # Sentry sends headers as [name, value] pairs in some places.
        if len(value) == 2 and isinstance(value[0], str) and SENSITIVE_KEY.search(value[0]):
            return [value[0], FILTERED]
        return [scrub(item) for item in value]
    if isinstance(value, str):
        return SENSITIVE_QUERY.sub(r"\1" + FILTERED, SENSITIVE_VALUE.sub(FILTERED, value))
    return value


def scrub_event(event: Event, hint: Hint) -> Event | None:
    scrubbed = cast(Event, scrub(event))
    request_id = current_request_id()
    if request_id is not None:
        scrubbed.setdefault("tags", {})["request_id"] = request_id
    return scrubbed


def report_logged_error(record: "Record") -> None:
    """A log record with an exception becomes a Sentry event (one per exception object:
    Sentry's dedupe drops the same exception reported again by its ASGI middleware)."""
    exception = record["exception"]
    if exception is not None and exception.type is not None and exception.value is not None:
        sentry_sdk.capture_exception((exception.type, exception.value, exception.traceback))


def tag_request_id(request_id: str) -> None:
    """Called by the request middleware: every event of this request carries the id."""
    sentry_sdk.get_isolation_scope().set_tag("request_id", request_id)


def init_sentry(settings: Settings, observability: ObservabilitySettings) -> bool:
    if observability.sentry_dsn is None:
        return False
    sentry_sdk.init(
        dsn=observability.sentry_dsn.get_secret_value(),
        environment=observability.sentry_environment or settings.app_env.value,
        release=observability.sentry_release or f"{settings.app_name}@{settings.version}",
        traces_sample_rate=observability.sentry_traces_sample_rate,
        # send_default_pii stays off (the default): no user IP, cookies or user object.
        before_send=scrub_event,
        before_send_transaction=scrub_event,
        integrations=[StarletteIntegration(), FastApiIntegration()],
    )
    return True
