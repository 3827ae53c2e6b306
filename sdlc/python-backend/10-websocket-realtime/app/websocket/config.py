"""Settings of the real-time step (`WebSocketSettings`), read from the environment.

Every knob the hub needs has a safe default; staging and production refuse values that
would let one client exhaust the server (no bound on frames, queues or rate).
"""

from functools import lru_cache
from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.core.config import STRICT_ENVIRONMENTS, Environment, get_settings


class WebSocketSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    app_env: Environment = Environment.DEVELOPMENT

    ws_path: str = "/ws"  # the endpoint is f"{path}/v{PROTOCOL_VERSION}"
    # Largest text frame the app accepts; larger closes with 1009 (message too big).
    ws_max_message_bytes: int = Field(default=16_384, ge=256, le=1_048_576)
    # Frames waiting for one slow client; when full the client is disconnected.
    ws_send_queue_size: int = Field(default=256, ge=1, le=10_000)
    # Per-connection token bucket for incoming frames: `rate` per second, `burst` at once.
    ws_rate_per_second: float = Field(default=10.0, gt=0)
    ws_rate_burst: int = Field(default=30, ge=1)
    ws_heartbeat_seconds: float = Field(default=20.0, gt=0)
    ws_idle_timeout_seconds: float = Field(default=60.0, gt=0)
    ws_max_rooms: int = Field(default=20, ge=1, le=1000)
    ws_typing_throttle_seconds: float = Field(default=2.0, ge=0)
    ws_typing_ttl_seconds: float = Field(default=6.0, gt=0)
    # Presence entries live this long in Redis unless their instance refreshes them.
    ws_presence_ttl_seconds: float = Field(default=30.0, ge=3)
    # Remembered message ids (per sender) for de-duplicating re-sent messages.
    ws_dedupe_ttl_seconds: int = Field(default=600, ge=1)
    # Redis Pub/Sub channels are global to a server, not per database: the prefix (and
    # the database number, added automatically) keeps deployments apart.
    ws_channel_prefix: str = Field(default="ws", pattern=r"^[A-Za-z0-9_.-]{1,32}$")
    # How often every open socket's session is checked again (logout, logout-all,
    # password change, deactivation end it: 1008 "session revoked" within this time).
    ws_session_check_seconds: float = Field(default=5.0, gt=0, le=300)
    # Close sockets with 1001 on SIGTERM/SIGINT before the server's own shutdown.
    ws_shutdown_timeout_seconds: float = Field(default=5.0, gt=0)
    # The demo page (`/ws/demo`) - development and testing only unless set explicitly.
    ws_demo_enabled: bool | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.ws_idle_timeout_seconds <= self.ws_heartbeat_seconds:
            msg = "WS_IDLE_TIMEOUT_SECONDS must be longer than WS_HEARTBEAT_SECONDS"
            raise ValueError(msg)
        if self.app_env in STRICT_ENVIRONMENTS and self.ws_demo_enabled:
            msg = f"refusing to start ({self.app_env.value}): WS_DEMO_ENABLED must be false"
            raise ValueError(msg)
        return self

    @property
    def demo(self) -> bool:
        if self.ws_demo_enabled is None:
            return self.app_env in (Environment.DEVELOPMENT, Environment.TESTING)
        return self.ws_demo_enabled


@lru_cache
def get_websocket_settings() -> WebSocketSettings:
    env = get_settings().app_env
    return WebSocketSettings(_env_file=(".env", f".env.{env.value}"), app_env=env)
