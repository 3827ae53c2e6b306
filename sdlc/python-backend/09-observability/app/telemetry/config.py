"""Settings of step 09 (logs, traces, metrics, health, Sentry), read from the environment.

Standard OpenTelemetry variables keep their names (`OTEL_SERVICE_NAME`,
`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_TRACES_SAMPLER_ARG`, `OTEL_RESOURCE_ATTRIBUTES`), so
an operator who knows OpenTelemetry needs no new vocabulary.
"""

from functools import lru_cache

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# What a client may send as X-Request-ID: short, printable, no spaces or quotes, so it
# can never break a log line, a header or a query in the log store.
REQUEST_ID_PATTERN = r"^[A-Za-z0-9._:\-]{8,128}$"


def parse_attributes(value: str) -> dict[str, str]:
    """`key=value,key2=value2` (the OTEL_RESOURCE_ATTRIBUTES format) as a dict."""
    pairs: dict[str, str] = {}
    for item in value.split(","):
        if not item.strip():
            continue
        key, sep, attribute = item.partition("=")
        if not sep or not key.strip():
            msg = "OTEL_RESOURCE_ATTRIBUTES must look like key=value,key2=value2"
            raise ValueError(msg)
        pairs[key.strip()] = attribute.strip()
    return pairs


class ObservabilitySettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    request_id_header: str = "X-Request-ID"

    # Tracing. No endpoint: spans are still created (trace ids in the logs) but not sent.
    otel_enabled: bool = True
    otel_service_name: str | None = None  # default: APP_NAME
    otel_exporter_otlp_endpoint: str | None = None  # e.g. http://jaeger:4318
    otel_exporter_otlp_timeout: float = Field(default=10.0, gt=0)
    otel_traces_sampler_arg: float = Field(default=1.0, ge=0.0, le=1.0)  # sampling ratio
    otel_resource_attributes: str = ""  # key=value,key2=value2

    # Metrics.
    metrics_enabled: bool = True
    metrics_path: str = "/metrics"
    # Bearer token Prometheus sends; required to serve /metrics in production.
    metrics_token: SecretStr | None = None
    metrics_sample_seconds: float = Field(default=5.0, gt=0)

    # Health.
    health_timeout_seconds: float = Field(default=2.0, gt=0)
    # After SIGTERM, readiness answers 503 this long before the server stops accepting.
    drain_seconds: float = Field(default=0.0, ge=0)

    # Sentry: off unless a DSN is given.
    sentry_dsn: SecretStr | None = None
    sentry_environment: str | None = None  # default: APP_ENV
    sentry_release: str | None = None  # default: APP_NAME@VERSION
    sentry_traces_sample_rate: float = Field(default=0.0, ge=0.0, le=1.0)

    @field_validator("otel_resource_attributes")
    @classmethod
    def _check_resource_attributes(cls, value: str) -> str:
        parse_attributes(value)
        return value

    @property
    def resource_attributes(self) -> dict[str, str]:
        return parse_attributes(self.otel_resource_attributes)

    @field_validator("sentry_dsn", "metrics_token", "otel_exporter_otlp_endpoint", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("metrics_path")
    @classmethod
    def _absolute_path(cls, value: str) -> str:
        if not value.startswith("/"):
            msg = "METRICS_PATH must start with /"
            raise ValueError(msg)
        return value


@lru_cache
def get_observability_settings() -> ObservabilitySettings:
    return ObservabilitySettings()
