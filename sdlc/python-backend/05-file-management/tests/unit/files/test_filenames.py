"""Client file names become display metadata: never a path, never a header injection."""

import pytest

from app.storage.filenames import MAX_NAME_LENGTH, content_disposition, sanitize_filename


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system32\\cmd.exe", "cmd.exe"),
        ("C:\\Users\\me\\photo.jpg", "photo.jpg"),
        ("/absolute/path.png", "path.png"),
        (".htaccess", "htaccess"),
        ("name with\x00nul\r\nnewline.txt", "name with_nul_newline.txt"),
        ('quo"te;<>|*?.pdf', "quo_te;_.pdf"),
        ("evil\u202egnp.exe", "evilgnp.exe"),  # right-to-left override removed
        ("  spaced   out  .pdf  ", "spaced out .pdf"),
        ("CON", "file"),
        ("nul.txt", "file"),
        ("", "file"),
        (None, "file"),
        ("...", "file"),
        ("café.pdf", "café.pdf"),
    ],
)
def test_sanitize(raw: str | None, expected: str) -> None:
    assert sanitize_filename(raw) == expected


def test_the_detected_extension_replaces_the_claimed_one() -> None:
    assert sanitize_filename("invoice.pdf.exe", extension=".png") == "invoice.pdf.png"
    assert sanitize_filename("photo", extension=".jpg") == "photo.jpg"
    assert sanitize_filename("CON.exe", extension=".pdf") == "file.pdf"
    assert sanitize_filename("../", extension=".pdf") == "file.pdf"


def test_long_names_are_cut_keeping_the_extension() -> None:
    name = sanitize_filename("a" * 1000 + ".pdf")
    assert len(name) <= MAX_NAME_LENGTH
    assert name.endswith(".pdf")


def test_content_disposition_is_safe_and_exact() -> None:
    header = content_disposition('ra"port\u00e9 \r\n.pdf')
    assert "\r" not in header
    assert "\n" not in header
    assert header.startswith('attachment; filename="')
    ascii_part = header.split('filename="')[1].split('"')[0]
    assert '"' not in ascii_part
    assert ascii_part.isascii()
    assert header.endswith("filename*=UTF-8''ra%22port%C3%A9%20%0D%0A.pdf")
    assert content_disposition("a.png", inline=True).startswith("inline; ")
