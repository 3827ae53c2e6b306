"""Gunicorn configuration: `gunicorn -c gunicorn.conf.py` (the image's entrypoint).

Nothing is set here by hand: every value comes from the environment through the core
`Settings` (HOST, PORT, WORKERS, SHUTDOWN_TIMEOUT) and `ServerSettings` (GUNICORN_*).
Server hooks are plain functions at the end of this file; later steps add lines to them.
"""

import os
import sys
import tempfile
from pathlib import Path

from gunicorn.arbiter import Arbiter
from gunicorn.workers.base import Worker
from loguru import logger
from pydantic import ValidationError

from app.__main__ import describe
from app.core.config import get_settings
from app.core.logging import setup_logging
from app.server.config import get_server_settings

try:
    _settings = get_settings()
    _server = get_server_settings()
except ValidationError as exc:  # refuse to start, as `python -m app` does: no traceback
    sys.stderr.write(f"Invalid configuration, not starting:\n{describe(exc)}\n")
    raise SystemExit(2) from None
setup_logging(_settings)

wsgi_app = "app.main:app"
bind = [f"{_settings.host}:{_settings.port}"]
workers = _settings.workers
worker_class = "app.server.worker.AppWorker"
logger_class = "app.server.gunicorn_logging.LoguruLogger"
accesslog = None  # request lines come from Uvicorn's access logger, through Loguru
proc_name = _settings.app_name

timeout = _server.timeout
# Uvicorn drains in-flight requests for SHUTDOWN_TIMEOUT, then runs the lifespan
# shutdown; the master waits that long plus a margin before it SIGKILLs a worker.
graceful_timeout = _settings.shutdown_timeout + _server.shutdown_grace
keepalive = _server.keepalive
max_requests = _server.max_requests
max_requests_jitter = _server.max_requests_jitter
# False: every worker imports the app itself after the fork. Nothing created at import
# time (settings, loggers, extension state) is shared between processes, and a HUP
# reloads new code. Preloading saves memory but is only safe when nothing at import
# opens sockets, threads or event loops; set GUNICORN_PRELOAD=true knowingly.
preload_app = _server.preload
worker_tmp_dir = _server.worker_tmp_dir
# Gunicorn >= 25 opens a control socket under $HOME; nothing here uses it, and the
# image runs with a read-only root filesystem.
control_socket_disable = True

# Step 09: Prometheus multiprocess mode. Each worker writes its metric values to files in
# this folder and /metrics merges all of them, so a scrape answered by any worker counts
# the whole server. Set before any worker (or a preloaded app) imports prometheus_client.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="prometheus-"))


def on_starting(server: Arbiter) -> None:
    """In the master, before the first worker is forked."""
    # Values a previous run left behind would be added to this run's: start empty.
    metrics_dir = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    metrics_dir.mkdir(parents=True, exist_ok=True)
    for stale in metrics_dir.glob("*.db"):
        stale.unlink()
    logger.info("Starting {} worker(s) on {}", workers, ", ".join(bind))


def post_fork(server: Arbiter, worker: Worker) -> None:
    """In a new worker process, right after the fork."""
    logger.debug("Worker {} forked", worker.pid)


def worker_exit(server: Arbiter, worker: Worker) -> None:
    """In a worker process, just before it exits."""
    logger.debug("Worker {} exiting", worker.pid)


def child_exit(server: Arbiter, worker: Worker) -> None:
    """In the master, after a worker process exited (shutdown, crash or max_requests)."""
    # Its live gauges (in-progress requests, workers, pool) stop counting (step 09).
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
    logger.info("Worker {} exited", worker.pid)
