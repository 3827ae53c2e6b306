"""Loguru setup: one sink on stdout, JSON lines in production, stdlib logs intercepted.

Uvicorn, FastAPI, SQLAlchemy and every other library log through the stdlib `logging`
module; `InterceptHandler` forwards those records to Loguru so the whole process writes
one consistent format.
"""

import json
import logging
import sys
import traceback
from typing import TYPE_CHECKING, Any

from loguru import logger

from app.core.config import Settings

if TYPE_CHECKING:
    from loguru import Record

DEV_FORMAT = (
    "<green>{time:YYYY-MM-DD HH:mm:ss.SSS}</green> | <level>{level: <8}</level> | "
    "<cyan>{name}</cyan>:<cyan>{function}</cyan>:<cyan>{line}</cyan> - <level>{message}</level>"
    " <dim>[req={extra[request_id]} trace={extra[trace_id]}]</dim>"
)

# Loggers that install their own handlers; they must propagate to the root handler instead.
INTERCEPTED_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "fastapi")

_JSON_KEY = "_json"


class InterceptHandler(logging.Handler):
    """Route stdlib `logging` records to Loguru, keeping the original caller location."""

    def emit(self, record: logging.LogRecord) -> None:
        level: str | int
        try:
            level = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno

        def caller(entry: "Record") -> None:
            # The stdlib record already knows its caller, and honours `stacklevel`
            # (SQLAlchemy uses it to point past its logging wrapper). Guessing from the
            # stack instead would name that wrapper.
            entry["name"] = record.name
            entry["module"] = record.module
            entry["function"] = record.funcName
            entry["line"] = record.lineno

        logger.patch(caller).opt(exception=record.exc_info).log(level, record.getMessage())


def _json_format(record: "Record") -> str:
    payload: dict[str, Any] = {
        "time": record["time"].isoformat(),
        "level": record["level"].name,
        "message": record["message"],
        "logger": record["name"],
        "function": record["function"],
        "line": record["line"],
        "process": record["process"].id,
    }
    extra = {key: value for key, value in record["extra"].items() if key != _JSON_KEY}
    if extra:
        payload["extra"] = extra
    exception = record["exception"]
    if exception is not None and exception.type is not None:
        payload["exception"] = {
            "type": exception.type.__name__,
            "message": str(exception.value),
            "traceback": "".join(
                traceback.format_exception(exception.type, exception.value, exception.traceback)
            ),
        }
    record["extra"][_JSON_KEY] = json.dumps(payload, default=str, ensure_ascii=False)
    # Loguru formats the returned string again: hand it a placeholder, not raw JSON braces.
    return "{extra[" + _JSON_KEY + "]}\n"


def setup_logging(settings: Settings) -> None:
    """Configure Loguru and the stdlib bridge. Safe to call more than once."""
    logger.remove()
    # Step 09 fills these per request; every other line shows "-", never a KeyError.
    logger.configure(extra={"request_id": "-", "trace_id": "-"})
    logger.add(
        sys.stdout,
        level=settings.log_level,
        format=_json_format if settings.json_logs else DEV_FORMAT,
        backtrace=not settings.is_production,
        diagnose=not settings.is_production,  # never print local variables in production
    )

    logging.basicConfig(
        handlers=[InterceptHandler()], level=logger.level(settings.log_level).no, force=True
    )
    for name in INTERCEPTED_LOGGERS:
        stdlib_logger = logging.getLogger(name)
        stdlib_logger.handlers.clear()
        stdlib_logger.propagate = True
    logging.captureWarnings(True)
