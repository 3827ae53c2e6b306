"""Gunicorn's own log lines (master and workers) through the application's Loguru sink."""

from gunicorn.config import Config
from gunicorn.glogging import Logger

from app.core.logging import InterceptHandler


class LoguruLogger(Logger):
    """`logger_class` for Gunicorn: one format (JSON lines in production) for everything.

    Request lines come from Uvicorn's `uvicorn.access` logger, which `setup_logging`
    already routes to Loguru; Gunicorn's own access log stays off (`accesslog = None`).
    """

    def setup(self, cfg: Config) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            log.handlers = [InterceptHandler()]
            log.propagate = False
