"""Loguru correlation: every record gets the request id and the trace/span ids.

`correlate` is a Loguru *patcher*: it runs for every record, whatever sink formats it,
before formatting. Outside a request the fields hold "-" so formats never break.
"""

from typing import TYPE_CHECKING

from loguru import logger
from opentelemetry import trace

from app.telemetry.context import current_request_id

if TYPE_CHECKING:
    from loguru import Record

NO_VALUE = "-"


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


def install_log_correlation() -> None:
    """Process-wide (Loguru has one core); calling it again changes nothing."""
    logger.configure(patcher=correlate)
