"""The Uvicorn worker class Gunicorn runs (`worker_class` in `gunicorn.conf.py`)."""

from typing import Any, ClassVar

from uvicorn_worker import UvicornWorker

from app.core.config import get_settings


class AppWorker(UvicornWorker):  # type: ignore[misc]  # uvicorn-worker ships no types
    """`uvicorn_worker.UvicornWorker` with the choices `python -m app` makes.

    - `proxy_headers=False`: the application decides which proxies to believe
      (`TRUSTED_PROXIES`, step 04); Uvicorn would otherwise rewrite the client address
      from `X-Forwarded-For` sent by 127.0.0.1.
    - no `Server:` header;
    - h11 with a bounded request head (`HTTP_MAX_HEAD_BYTES`): httptools, the default
      when installed, buffers a request line and headers of any size;
    - on SIGTERM, in-flight requests get `SHUTDOWN_TIMEOUT` seconds to finish (Uvicorn's
      default is to wait forever, until Gunicorn's `graceful_timeout` kills the worker
      before its lifespan shutdown could run).
    """

    CONFIG_KWARGS: ClassVar[dict[str, Any]] = {
        "loop": "auto",
        "http": "h11",
        "proxy_headers": False,
        "server_header": False,
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # noqa: ANN401 (Gunicorn's signature)
        super().__init__(*args, **kwargs)
        settings = get_settings()
        self.config.timeout_graceful_shutdown = settings.shutdown_timeout
        self.config.h11_max_incomplete_event_size = settings.http_max_head_bytes
