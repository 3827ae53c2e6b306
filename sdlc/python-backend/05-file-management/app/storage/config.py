"""Settings of the file-management step (`StorageSettings`), separate from the core `Settings`.

Same sources as the core settings (environment, `.env`, `.env.<APP_ENV>`). The app
refuses to start with an S3 backend without a bucket, a pixel budget below the per-image
limit, or (staging/production) a signing key shorter than 32 bytes.
"""

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.core.config import STRICT_ENVIRONMENTS, Environment, get_settings

MIB = 1024 * 1024
# S3 refuses multipart parts below 5 MiB (except the last one).
MIN_PART_BYTES = 5 * MIB
MIN_SIGNING_KEY_BYTES = 32

IntList = Annotated[list[int], NoDecode]


class StorageBackend(StrEnum):
    LOCAL = "local"
    S3 = "s3"


class StorageSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    app_env: Environment = Environment.DEVELOPMENT

    storage_backend: StorageBackend = StorageBackend.LOCAL
    # Local backend: objects live under this folder (created on first write).
    storage_local_root: Path = Path("var/storage")
    # Key of the HMAC that signs local download URLs; unset: derived from SECRET_KEY.
    storage_signing_key: SecretStr | None = None
    # Lifetime of a signed download URL (local HMAC URL or S3 presigned GET).
    storage_url_ttl_seconds: int = Field(default=300, ge=10, le=7 * 24 * 3600)

    # S3 backend (AWS, MinIO, moto): credentials come from boto3's usual chain
    # (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile, an instance role).
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None  # e.g. http://127.0.0.1:9000 for MinIO
    s3_region: str = "us-east-1"
    s3_addressing_style: Literal["path", "virtual", "auto"] = "path"  # MinIO, moto: path
    # Uploads above one part go up as multipart uploads of this part size.
    s3_part_size_bytes: int = Field(default=8 * MIB, ge=MIN_PART_BYTES, le=512 * MIB)
    # At most this many boto3 calls run at once (each in a worker thread).
    s3_max_concurrency: int = Field(default=8, ge=1, le=64)
    s3_connect_timeout_seconds: float = Field(default=5.0, gt=0)
    s3_read_timeout_seconds: float = Field(default=30.0, gt=0)

    # --- Uploads ---
    upload_max_image_bytes: int = Field(default=10 * MIB, ge=1)
    upload_max_document_bytes: int = Field(default=25 * MIB, ge=1)
    # Bytes read from the upload (and written to storage) per step.
    upload_chunk_bytes: int = Field(default=MIB, ge=64 * 1024, le=64 * MIB)
    # A `pending` upload older than this is abandoned: cleanup removes it and its object.
    upload_pending_ttl_seconds: int = Field(default=3600, ge=60)
    # Cleanup leaves objects younger than this alone even without a row.
    cleanup_grace_seconds: int = Field(default=900, ge=0)

    # --- Images ---
    # Pillow's own bomb guard; anything above it is refused before decoding.
    image_max_pixels: int = Field(default=40_000_000, ge=1)
    # Width x height x frames of one image (animated GIF/WebP), decoded.
    image_pixel_budget: int = Field(default=120_000_000, ge=1)
    image_max_frames: int = Field(default=200, ge=1)
    image_thumbnail_sizes: IntList = Field(default_factory=lambda: [256, 1024])
    image_jpeg_quality: int = Field(default=88, ge=30, le=100)

    @field_validator("image_thumbnail_sizes", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(item) for item in value.split(",") if item.strip()]
        return value

    @field_validator("image_thumbnail_sizes")
    @classmethod
    def _sizes(cls, value: list[int]) -> list[int]:
        if any(size < 16 or size > 4096 for size in value):
            msg = "IMAGE_THUMBNAIL_SIZES must be between 16 and 4096 pixels"
            raise ValueError(msg)
        return sorted(set(value))

    @field_validator("storage_signing_key", "s3_bucket", "s3_endpoint_url", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _check(self) -> Self:
        problems: list[str] = []
        if self.storage_backend is StorageBackend.S3 and not self.s3_bucket:
            problems.append("STORAGE_BACKEND=s3 needs S3_BUCKET")
        if self.image_pixel_budget < self.image_max_pixels:
            problems.append("IMAGE_PIXEL_BUDGET must be at least IMAGE_MAX_PIXELS")
        if self.app_env in STRICT_ENVIRONMENTS:
            key = self.storage_signing_key.get_secret_value() if self.storage_signing_key else ""
            if key and len(key.encode()) < MIN_SIGNING_KEY_BYTES:
                problems.append(
                    f"STORAGE_SIGNING_KEY must be at least {MIN_SIGNING_KEY_BYTES} bytes"
                )
        if problems:
            raise ValueError(f"refusing to start ({self.app_env.value}): " + "; ".join(problems))
        return self

    def max_bytes(self, purpose: str) -> int:
        """The size limit of one upload for `purpose` (`image` or `document`)."""
        limit: int = getattr(self, f"upload_max_{purpose}_bytes")
        return limit


def load_storage_settings() -> StorageSettings:
    """The same sources as the core settings, for the same APP_ENV."""
    env = get_settings().app_env
    return StorageSettings(_env_file=(".env", f".env.{env.value}"), app_env=env)


@lru_cache
def get_storage_settings() -> StorageSettings:
    """Process-wide storage settings (cached), like `app.core.config.get_settings`."""
    return load_storage_settings()
