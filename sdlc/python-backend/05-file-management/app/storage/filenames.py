"""Client file names are metadata, never paths.

Objects are stored under generated keys (`files/<uuid>/original`); the name the client
sent is kept, sanitised, only to be shown and offered on download.
"""

import re
import unicodedata
from urllib.parse import quote

MAX_NAME_LENGTH = 200
FALLBACK_NAME = "file"

_UNSAFE = re.compile(r'[\x00-\x1f\x7f"*/:<>?\\|]+')
_SPACES = re.compile(r"\s+")
# Names Windows refuses whatever the extension (CON, CON.txt, ...).
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.IGNORECASE)


def sanitize_filename(raw: str | None, *, extension: str | None = None) -> str:
    """A display name safe in any file system and header: no path, no control characters.

    `extension` (from the detected type, e.g. `.png`) replaces whatever the client
    claimed, so `invoice.pdf.exe` sent as a PNG is kept as `invoice.pdf.png`.
    """
    name = unicodedata.normalize("NFC", raw or "")
    # Only the last path component: `../../etc/passwd` and `C:\boot.ini` lose their folders.
    name = re.split(r"[/\\]", name)[-1]
    name = _UNSAFE.sub("_", name)
    name = _SPACES.sub(" ", name).strip(" .")  # no hidden `.htaccess`, no trailing dot
    # Format characters (bidi overrides such as U+202E) and other invisibles.
    name = "".join(char for char in name if unicodedata.category(char)[0] != "C")
    if extension:
        stem = name.rsplit(".", 1)[0] if "." in name else name
        name = f"{stem or FALLBACK_NAME}{extension}"
    if not name or _RESERVED.match(name):
        name = f"{FALLBACK_NAME}{extension or ''}"
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, ext = name.rpartition(".")
        keep = ext if dot and len(ext) <= 10 else ""
        name = name[: MAX_NAME_LENGTH - len(keep) - 1].rstrip(" .") + (f".{keep}" if keep else "")
    return name


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """RFC 6266: an ASCII `filename` fallback plus the exact UTF-8 `filename*`."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    ascii_name = re.sub(r"[^A-Za-z0-9._ ()\[\]-]", "_", ascii_name).strip() or FALLBACK_NAME
    disposition = "inline" if inline else "attachment"
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
