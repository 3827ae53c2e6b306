import json
import logging
from typing import Any

import pytest
from loguru import logger

from app.core.config import Settings
from app.core.logging import setup_logging
from tests.strict import STRICT_VALUES


def make(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


def json_lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_json_logs_in_production(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging(make(app_env="production", **STRICT_VALUES))
    logger.bind(request_id="abc").info("hello {}", "world")

    [record] = json_lines(capsys.readouterr().out)
    assert record["message"] == "hello world"
    assert record["level"] == "INFO"
    extra = record["extra"]
    assert isinstance(extra, dict)
    assert extra["request_id"] == "abc"
    assert extra["trace_id"] == "-"  # step 09: a line outside a request has no trace


def test_stdlib_and_uvicorn_logs_are_intercepted(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging(make(log_json=True))
    logging.getLogger("uvicorn.error").info("Application startup complete.")
    logging.getLogger("some.library").warning("careful")

    records = json_lines(capsys.readouterr().out)
    assert [r["message"] for r in records] == ["Application startup complete.", "careful"]
    assert [r["level"] for r in records] == ["INFO", "WARNING"]


def test_exceptions_are_serialised(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging(make(log_json=True))
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("failed")

    [record] = json_lines(capsys.readouterr().out)
    exception = record["exception"]
    assert isinstance(exception, dict)
    assert exception["type"] == "ValueError"
    assert "boom" in exception["traceback"]


def warn_through_a_helper() -> None:
    """Like a library's logging wrapper: `stacklevel=2` names the helper's caller."""
    logging.getLogger("some.library").warning("careful", stacklevel=2)


def test_intercepted_records_keep_their_callers_location(
    capsys: pytest.CaptureFixture[str],
) -> None:
    setup_logging(make(log_json=True))
    warn_through_a_helper()

    [record] = json_lines(capsys.readouterr().out)
    assert record["logger"] == "some.library"
    assert record["function"] == "test_intercepted_records_keep_their_callers_location"


def test_level_filter_and_human_format(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging(make(log_level="WARNING"))
    logger.info("hidden")
    logger.warning("shown")

    output = capsys.readouterr().out
    assert "hidden" not in output
    assert "WARNING" in output
    assert "shown" in output
    with pytest.raises(json.JSONDecodeError):
        json.loads(output)
