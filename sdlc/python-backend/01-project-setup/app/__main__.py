"""Production entry point: `python -m app` (or the `backend-service` script).

Graceful shutdown: on SIGTERM/SIGINT uvicorn stops accepting connections, waits up to
`SHUTDOWN_TIMEOUT` seconds for in-flight requests, runs the lifespan shutdown (which
closes our resources) and returns. The process then exits with status 0.
"""

import signal
import sys
from types import FrameType

import uvicorn
from pydantic import ValidationError

from app.core.config import get_settings
from app.core.logging import setup_logging


def describe(error: ValidationError) -> str:
    """One line per problem, WITHOUT the rejected values (they may be secrets)."""
    lines = []
    for item in error.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in item["loc"]).upper()
        lines.append(f"  {where}: {item['msg']}" if where else f"  {item['msg']}")
    return "\n".join(lines)


def _exit_after_graceful_shutdown(signum: int, frame: FrameType | None) -> None:
    # Uvicorn handles the signal itself, then re-raises it once the shutdown finished:
    # reaching this handler means every request drained and the lifespan closed.
    raise SystemExit(0)


def serve(app: str = "app.main:app") -> None:
    try:
        settings = get_settings()
    except ValidationError as exc:  # refuse to start, with the reason and no traceback
        sys.stderr.write(f"Invalid configuration, not starting:\n{describe(exc)}\n")
        raise SystemExit(2) from None
    setup_logging(settings)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _exit_after_graceful_shutdown)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        # h11 refuses a request head above the limit; httptools would buffer any size.
        http="h11",
        h11_max_incomplete_event_size=settings.http_max_head_bytes,
        workers=settings.workers,
        log_config=None,  # keep our Loguru bridge; uvicorn must not install its own handlers
        timeout_graceful_shutdown=settings.shutdown_timeout,
        proxy_headers=True,
        server_header=False,
    )


def main() -> None:
    serve()


if __name__ == "__main__":
    main()
