"""Storage settings refuse configurations that cannot work or are unsafe."""

import pytest
from pydantic import ValidationError

from app.core.config import Environment
from app.storage.config import StorageSettings


def test_defaults_are_local_and_sane() -> None:
    settings = StorageSettings(_env_file=None)
    assert settings.storage_backend.value == "local"
    assert settings.max_bytes("image") < settings.max_bytes("document")
    assert settings.image_thumbnail_sizes == [256, 1024]


def test_s3_needs_a_bucket() -> None:
    with pytest.raises(ValidationError, match="S3_BUCKET"):
        StorageSettings(_env_file=None, storage_backend="s3", s3_bucket="")


def test_parts_below_the_s3_minimum_are_refused() -> None:
    with pytest.raises(ValidationError):
        StorageSettings(_env_file=None, s3_part_size_bytes=1024 * 1024)


def test_thumbnail_sizes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMAGE_THUMBNAIL_SIZES", "512, 64,64")
    assert StorageSettings(_env_file=None).image_thumbnail_sizes == [64, 512]
    monkeypatch.setenv("IMAGE_THUMBNAIL_SIZES", "8")
    with pytest.raises(ValidationError, match="between 16 and 4096"):
        StorageSettings(_env_file=None)


def test_production_refuses_a_short_signing_key() -> None:
    with pytest.raises(ValidationError, match="STORAGE_SIGNING_KEY"):
        StorageSettings(_env_file=None, app_env=Environment.PRODUCTION, storage_signing_key="short")
    StorageSettings(_env_file=None, app_env=Environment.PRODUCTION, storage_signing_key="k" * 32)
