"""Errors of the file-management step; `app.api.errors` renders them as problem+json."""

from http import HTTPStatus

from app.domain.exceptions import DomainError, NotFoundError


class UploadTooLargeError(DomainError):
    code = "upload_too_large"
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE


class UnsupportedFileTypeError(DomainError):
    """The content is not one of the types allowed for this use (whatever its name says)."""

    code = "unsupported_file_type"
    status = HTTPStatus.UNSUPPORTED_MEDIA_TYPE


class InvalidFileError(DomainError):
    """Empty, truncated, a polyglot, or an image Pillow cannot decode."""

    code = "invalid_file"
    status = HTTPStatus.UNPROCESSABLE_ENTITY


class ImageTooLargeError(DomainError):
    """Too many pixels (or frames) to decode safely: a decompression bomb or close to one."""

    code = "image_too_large"
    status = HTTPStatus.UNPROCESSABLE_ENTITY


class InvalidSignatureError(DomainError):
    """A download URL that was tampered with, signed for another key, or has expired."""

    code = "invalid_signature"
    status = HTTPStatus.FORBIDDEN


class StoredFileNotFoundError(NotFoundError):
    """Unknown id, or a file of another user (the answer does not tell which)."""

    code = "file_not_found"


class StorageUnavailableError(DomainError):
    code = "storage_unavailable"
    status = HTTPStatus.SERVICE_UNAVAILABLE


class StorageIntegrityError(DomainError):
    """The storage kept other bytes than the ones sent; nothing was stored."""

    code = "storage_integrity_error"
    status = HTTPStatus.BAD_GATEWAY
