"""Settings of the Gunicorn process manager, from `GUNICORN_*` environment variables.

Address, worker count and the drain time come from the core `Settings` (`HOST`, `PORT`,
`WORKERS`, `SHUTDOWN_TIMEOUT`), so `python -m app` and Gunicorn read the same values.
"""

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServerSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="GUNICORN_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # A worker that has not notified the master for this long is killed and replaced.
    timeout: int = Field(default=60, ge=1)
    # Seconds added to SHUTDOWN_TIMEOUT before the master SIGKILLs a draining worker:
    # room for the lifespan shutdown after the last request finished.
    shutdown_grace: int = Field(default=5, ge=1)
    keepalive: int = Field(default=5, ge=0)
    # Recycle a worker after this many requests (0: never), +- a random jitter so the
    # workers do not all restart at the same moment.
    max_requests: int = Field(default=1000, ge=0)
    max_requests_jitter: int = Field(default=100, ge=0)
    preload: bool = False
    # Heartbeat files; a memory-backed directory (/dev/shm, an emptyDir) avoids stalls
    # on slow disks and works with a read-only root filesystem.
    worker_tmp_dir: str | None = None


@lru_cache
def get_server_settings() -> ServerSettings:
    return ServerSettings()
