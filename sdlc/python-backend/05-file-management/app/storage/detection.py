"""What a file *is*, from its bytes: magic numbers, structure, and polyglot tells.

The client's file name and `Content-Type` are never consulted. `puremagic` names the
type from the first bytes; then the type's own structure must hold (a PNG ends with its
`IEND` chunk, a PDF with `%%EOF`), so bytes appended after the end (a ZIP, a script) and
markup a browser would sniff as HTML are refused.
"""

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import BinaryIO

import puremagic

from app.storage.errors import InvalidFileError, UnsupportedFileTypeError

HEAD_BYTES = 8192
TAIL_BYTES = 65_557  # a ZIP's end-of-central-directory record lies within this


class Purpose(StrEnum):
    """What an upload is for; each purpose has its own allow-list and size limit."""

    IMAGE = "image"
    DOCUMENT = "document"


@dataclass(frozen=True)
class FileType:
    mime: str
    extension: str
    is_image: bool


JPEG = FileType("image/jpeg", ".jpg", is_image=True)
PNG = FileType("image/png", ".png", is_image=True)
GIF = FileType("image/gif", ".gif", is_image=True)
WEBP = FileType("image/webp", ".webp", is_image=True)
PDF = FileType("application/pdf", ".pdf", is_image=False)

ALLOWED: dict[Purpose, tuple[FileType, ...]] = {
    Purpose.IMAGE: (JPEG, PNG, GIF, WEBP),
    Purpose.DOCUMENT: (PDF,),
}
_BY_MIME = {file_type.mime: file_type for types in ALLOWED.values() for file_type in types}

# Markup that makes a browser (or a careless proxy) treat the bytes as a page.
_MARKUP = re.compile(rb"<(?:!doctype|html|head|body|script|svg|iframe|\?php|\?xml)", re.I)
_ZIP_END = b"PK\x05\x06"


def detect_type(head: bytes) -> FileType | None:
    """The allowed type the first bytes belong to, or None (unknown or not allowed)."""
    if not head:
        return None
    try:
        mime = puremagic.from_string(head, mime=True)
    except puremagic.PureError:
        return None
    return _BY_MIME.get(mime)


def _ends_like(file_type: FileType, head: bytes, tail: bytes, size: int) -> bool:
    """The format's own end marker is where the file ends (nothing appended after it)."""
    if file_type is PNG:
        return tail.endswith(b"IEND\xaeB`\x82")
    if file_type is JPEG:
        return tail.endswith(b"\xff\xd9")
    if file_type is GIF:
        return tail.endswith(b";")
    if file_type is WEBP:  # RIFF: the length field counts every byte after the first 8
        return len(head) >= 12 and int.from_bytes(head[4:8], "little") + 8 == size
    # PDF: `%PDF-` at byte 0 (readers accept it later; we don't), `%%EOF` at the end.
    return head.startswith(b"%PDF-") and tail.rstrip(b"\r\n\t \x00").endswith(b"%%EOF")


def inspect(source: BinaryIO, purpose: Purpose) -> FileType:
    """Validate the whole file (blocking: call it in a worker thread). Rewinds `source`."""
    source.seek(0, 2)
    size = source.tell()
    if size == 0:
        raise InvalidFileError("The file is empty")
    source.seek(0)
    head = source.read(HEAD_BYTES)
    source.seek(max(0, size - TAIL_BYTES))
    tail = source.read(TAIL_BYTES)
    source.seek(0)

    file_type = detect_type(head)
    allowed = ALLOWED[purpose]
    if file_type not in allowed:
        names = ", ".join(allowed_type.mime for allowed_type in allowed)
        msg = f"The content is not an allowed {purpose.value} type ({names})"
        raise UnsupportedFileTypeError(msg)
    if _MARKUP.search(head[:1024]):
        raise InvalidFileError("The file carries HTML or script markup")
    if not _ends_like(file_type, head, tail, size):
        raise InvalidFileError(f"Data after the end of the {file_type.mime} content")
    if _ZIP_END in tail:
        raise InvalidFileError("The file is also a ZIP archive")
    return file_type
