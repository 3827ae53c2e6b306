"""HTTP shapes of the file endpoints."""

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class FileRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    owner_id: uuid.UUID
    purpose: str
    name: str = Field(validation_alias="original_name")
    content_type: str
    size: int
    sha256: str | None
    status: str
    width: int | None
    height: int | None
    thumbnails: list[int]
    created_at: datetime


class FilePage(BaseModel):
    items: list[FileRead]
    total: int
    limit: int
    offset: int


class DownloadLink(BaseModel):
    url: str
    expires_at: datetime
