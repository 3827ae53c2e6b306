"""File endpoints (step 05): upload, list, metadata, download links, delete, content.

Every route needs a signed-in, active user, except `GET /files/content/...`: that URL
carries its own HMAC signature (local backend; with S3 the link goes to S3 directly).
"""

import uuid
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Query, Request, Response, UploadFile, status
from fastapi.responses import FileResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.types import Message, Receive

from app.api.deps import SessionDep, UnitOfWorkDep
from app.auth.dependencies import ActiveUser
from app.middleware.body_limit import allow_body_up_to
from app.storage.detection import Purpose
from app.storage.errors import StoredFileNotFoundError, UploadTooLargeError
from app.storage.filenames import content_disposition
from app.storage.local import LocalStorage
from app.storage.repository import StoredFileRepository
from app.storage.schemas import DownloadLink, FilePage, FileRead
from app.storage.service import FileService, StorageComponents

# Room for the multipart boundaries and part headers around the file itself.
MULTIPART_OVERHEAD = 64 * 1024


def _storage(request: Request) -> StorageComponents:
    return cast(StorageComponents, request.app.state.storage)


def _body_limit(request: Request) -> int:
    settings = _storage(request).settings
    try:
        purpose = Purpose(request.query_params.get("purpose", ""))
    except ValueError:  # the endpoint answers 422; until then, the largest limit applies
        return max(settings.max_bytes(item.value) for item in Purpose) + MULTIPART_OVERHEAD
    return settings.max_bytes(purpose.value) + MULTIPART_OVERHEAD


class _BodyTooLarge(HTTPException):
    """Raised by `receive`; an HTTPException, so FastAPI's form parsing lets it through."""

    def __init__(self, limit: int) -> None:
        super().__init__(status.HTTP_413_CONTENT_TOO_LARGE)
        self.limit = limit


def _limited(receive: Receive, limit: int) -> Receive:
    received = 0

    async def receive_within_limit() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise _BodyTooLarge(limit)
        return message

    return receive_within_limit


class UploadLimitRoute(APIRoute):
    """Bounds the request body *while it arrives*, before FastAPI parses the form.

    A `Content-Length` above the limit is refused before one byte is read; a body without
    it (chunked) is refused as soon as the running count crosses the limit. So an
    oversized upload never reaches memory or a temporary file whole.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def limited_handler(request: Request) -> Response:
            if request.method != "POST":
                return await handler(request)
            limit = _body_limit(request)
            # Step 01's app-wide limit is sized for JSON; one byte above ours, so our
            # own 413 (`upload_too_large`) answers first.
            allow_body_up_to(request, limit + 1)
            declared = request.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise UploadTooLargeError(f"The request body is larger than {limit} bytes")
            try:
                return await handler(Request(request.scope, _limited(request.receive, limit)))
            except _BodyTooLarge:
                msg = f"The request body is larger than {limit} bytes"
                raise UploadTooLargeError(msg) from None

        return limited_handler


router = APIRouter(prefix="/files", tags=["files"], route_class=UploadLimitRoute)


async def get_file_service(
    request: Request, session: SessionDep, uow: UnitOfWorkDep
) -> FileService:
    return FileService(StoredFileRepository(session), uow, _storage(request))


ServiceDep = Annotated[FileService, Depends(get_file_service)]


@router.post("", status_code=status.HTTP_201_CREATED)
async def upload_file(
    file: UploadFile,
    purpose: Purpose,
    user: ActiveUser,
    service: ServiceDep,
    request: Request,
    response: Response,
) -> FileRead:
    """Upload one file as `multipart/form-data` (field `file`) for `purpose`.

    The type comes from the content; the name is kept (sanitised) for display only.
    """
    stored = await service.upload(
        user, purpose, file.file, filename=file.filename, size=file.size or 0
    )
    response.headers["Location"] = str(request.url_for("get_file", file_id=str(stored.id)))
    return FileRead.model_validate(stored)


@router.get("")
async def list_files(
    user: ActiveUser,
    service: ServiceDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> FilePage:
    """The caller's files, newest first (an admin sees everyone's)."""
    rows, total = await service.page(user, limit=limit, offset=offset)
    items = [FileRead.model_validate(row) for row in rows]
    return FilePage(items=items, total=total, limit=limit, offset=offset)


@router.get("/content/{key:path}")
async def signed_content(
    key: str,
    expires: int,
    signature: Annotated[str, Query(max_length=128)],
    service: ServiceDep,
    request: Request,
) -> FileResponse:
    """Serve a local-storage object through a signed URL (supports `Range`)."""
    backend = _storage(request).backend
    if not isinstance(backend, LocalStorage):
        raise StoredFileNotFoundError("File not found")
    path = backend.verify(key, expires, signature)
    content_type, name = await service.for_signed_key(key)
    return FileResponse(
        path,
        media_type=content_type,
        headers={
            "Content-Disposition": content_disposition(name),
            "Cache-Control": "private, no-transform",
        },
    )


@router.get("/{file_id}", name="get_file")
async def get_file(file_id: uuid.UUID, user: ActiveUser, service: ServiceDep) -> FileRead:
    return FileRead.model_validate(await service.get(user, file_id))


@router.get("/{file_id}/url")
async def file_url(
    file_id: uuid.UUID,
    user: ActiveUser,
    service: ServiceDep,
    request: Request,
    thumbnail: Annotated[int | None, Query(ge=16, le=4096)] = None,
) -> DownloadLink:
    """A short-lived download URL: S3 presigned GET, or a signed URL of this API."""
    url, expires_at = await service.download_url(user, file_id, thumbnail=thumbnail)
    if url.startswith("/"):
        url = str(request.base_url).rstrip("/") + url
    return DownloadLink(url=url, expires_at=expires_at)


@router.delete("/{file_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_file(file_id: uuid.UUID, user: ActiveUser, service: ServiceDep) -> None:
    await service.delete(user, file_id)
