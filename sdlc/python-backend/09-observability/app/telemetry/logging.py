"""Loguru correlation: every record gets the request id and the trace/span ids.

`correlate` is a Loguru *patcher*: it runs for every record, whatever sink formats it,
before formatting. Outside a request the fields hold "-" so formats never break.
"""

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from loguru import logger
from opentelemetry import trace

from app.telemetry.context import current_request_id

if TYPE_CHECKING:
    from loguru import Record

NO_VALUE = "-"
ERROR_LEVEL = logging.ERROR  # Loguru's ERROR has the stdlib's number, 40


def correlate(record: "Record") -> None:
    extra = record["extra"]
    # A value bound explicitly (`logger.bind(request_id=...)`) wins over the context.
    if extra.get("request_id", NO_VALUE) == NO_VALUE:
        extra["request_id"] = current_request_id() or NO_VALUE
    if extra.get("trace_id", NO_VALUE) == NO_VALUE:
        context = trace.get_current_span().get_span_context()
        valid = context.is_valid
        extra["trace_id"] = trace.format_trace_id(context.trace_id) if valid else NO_VALUE
        extra["span_id"] = trace.format_span_id(context.span_id) if valid else NO_VALUE


def install_log_correlation(on_error: Callable[["Record"], None] | None = None) -> None:
    """Process-wide (Loguru has one core, and `logger.remove()` keeps patchers).

    `on_error` sees every record logged with an exception at ERROR or above - the
    problem+json 500 of step 01 logs the unhandled exception that way, and Sentry gets
    it from here (see `app.telemetry.errors.report_logged_error`).
    """
    if on_error is None:
        logger.configure(patcher=correlate)
        return

    def correlate_and_report(record: "Record") -> None:
        correlate(record)
        if record["exception"] is not None and record["level"].no >= ERROR_LEVEL:
            on_error(record)

    logger.configure(patcher=correlate_and_report)
