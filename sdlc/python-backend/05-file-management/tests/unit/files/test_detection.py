"""Type by content: real files of each allowed type, and what must be refused."""

import io

import pytest

from app.storage.detection import GIF, JPEG, PDF, PNG, WEBP, FileType, Purpose, inspect
from app.storage.errors import InvalidFileError, UnsupportedFileTypeError
from tests.file_samples import (
    ELF_EXECUTABLE,
    WINDOWS_EXECUTABLE,
    animated_gif,
    image_bytes,
    pdf_bytes,
    zip_bytes,
)


def check(data: bytes, purpose: Purpose) -> FileType:
    return inspect(io.BytesIO(data), purpose)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (image_bytes("JPEG"), JPEG),
        (image_bytes("PNG"), PNG),
        (image_bytes("GIF"), GIF),
        (animated_gif(), GIF),
        (image_bytes("WEBP"), WEBP),
        (image_bytes("JPEG", mode="CMYK"), JPEG),
    ],
    ids=["jpeg", "png", "gif", "animated-gif", "webp", "cmyk-jpeg"],
)
def test_real_images_are_recognised(data: bytes, expected: FileType) -> None:
    assert check(data, Purpose.IMAGE) is expected


def test_real_pdf_is_a_document() -> None:
    assert check(pdf_bytes(), Purpose.DOCUMENT) is PDF


def test_the_allow_list_is_per_purpose() -> None:
    with pytest.raises(UnsupportedFileTypeError):
        check(pdf_bytes(), Purpose.IMAGE)
    with pytest.raises(UnsupportedFileTypeError):
        check(image_bytes("PNG"), Purpose.DOCUMENT)


@pytest.mark.parametrize("data", [ELF_EXECUTABLE, WINDOWS_EXECUTABLE], ids=["elf", "exe"])
def test_renamed_executables_are_refused(data: bytes) -> None:
    # Name and Content-Type are never passed in: only the bytes decide.
    for purpose in Purpose:
        with pytest.raises(UnsupportedFileTypeError):
            check(data, purpose)


def test_unknown_bytes_and_text_are_refused() -> None:
    with pytest.raises(UnsupportedFileTypeError):
        check(b"just some text, no magic number at all\n", Purpose.DOCUMENT)
    with pytest.raises(UnsupportedFileTypeError):
        check(b"<html><body>hello</body></html>", Purpose.IMAGE)


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(InvalidFileError, match="empty"):
        check(b"", Purpose.IMAGE)


@pytest.mark.parametrize(
    ("data", "purpose"),
    [
        (image_bytes("JPEG") + zip_bytes(), Purpose.IMAGE),  # JPEG + ZIP ("GIFAR" style)
        (image_bytes("PNG") + zip_bytes(), Purpose.IMAGE),
        (image_bytes("GIF") + b"<script>alert(1)</script>", Purpose.IMAGE),
        (pdf_bytes() + zip_bytes(), Purpose.DOCUMENT),
    ],
    ids=["jpeg+zip", "png+zip", "gif+script", "pdf+zip"],
)
def test_data_after_the_end_is_a_polyglot(data: bytes, purpose: Purpose) -> None:
    with pytest.raises(InvalidFileError):
        check(data, purpose)


def test_a_zip_inside_a_pdf_before_eof_is_refused() -> None:
    # Ends with %%EOF like a PDF, and a ZIP reader still finds its directory.
    pdf = pdf_bytes()
    data = pdf[: -len(b"%%EOF\n")] + zip_bytes() + b"\n%%EOF\n"
    with pytest.raises(InvalidFileError, match="ZIP"):
        check(data, Purpose.DOCUMENT)


def test_markup_a_browser_would_sniff_is_refused() -> None:
    gif = image_bytes("GIF")
    # A GIF comment is legal, but this one makes the file a page for a sniffing browser.
    data = gif[:13] + b"<html><script>alert(1)</script>" + gif[13:]
    with pytest.raises(InvalidFileError, match="markup"):
        check(data, Purpose.IMAGE)


def test_pdf_header_must_start_the_file() -> None:
    with pytest.raises((UnsupportedFileTypeError, InvalidFileError)):
        check(b"<html>" + pdf_bytes(), Purpose.DOCUMENT)


def test_truncated_webp_is_refused() -> None:
    with pytest.raises(InvalidFileError):
        check(image_bytes("WEBP")[:-4], Purpose.IMAGE)


def test_inspect_rewinds_the_file() -> None:
    source = io.BytesIO(image_bytes("PNG"))
    inspect(source, Purpose.IMAGE)
    assert source.tell() == 0
