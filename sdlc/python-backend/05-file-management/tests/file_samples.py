"""Small real files for step 05's tests, made on the spot (nothing binary is committed)."""

import io
import zipfile
import zlib

from PIL import Image

ORIENTATION = 0x0112
GPS_IFD = 0x8825
MAKE = 0x010F


def image_bytes(fmt: str, size: tuple[int, int] = (32, 16), mode: str = "RGB") -> bytes:
    color: object = (200, 30, 30) if mode in ("RGB", "RGBA") else 1
    if mode == "CMYK":
        color = (0, 200, 200, 0)
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, fmt)  # type: ignore[arg-type]
    return out.getvalue()


def rotated_jpeg_with_gps() -> bytes:
    """A 40x20 landscape JPEG, left half blue, tagged 'rotate 90° clockwise' + GPS."""
    image = Image.new("RGB", (40, 20), (250, 0, 0))
    image.paste((0, 0, 250), (0, 0, 20, 20))
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[MAKE] = "Test Camera"
    exif[GPS_IFD] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), quality=95)
    return out.getvalue()


def animated_gif(frames: int = 3, size: tuple[int, int] = (24, 24)) -> bytes:
    colors = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)]
    images = [Image.new("RGB", size, colors[index % len(colors)]) for index in range(frames)]
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=80, loop=0)
    return out.getvalue()


def palette_png_with_transparency() -> bytes:
    image = Image.new("P", (16, 16), 0)
    image.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    image.paste(1, (0, 0, 8, 16))
    out = io.BytesIO()
    image.save(out, "PNG", transparency=0)
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")


def decompression_bomb_png(edge: int = 30_000) -> bytes:
    """A valid 1-bit PNG of `edge`² pixels (900 megapixels by default), ~100 KB on disk."""
    compressor = zlib.compressobj(6)
    row = b"\x00" * (1 + (edge + 7) // 8)  # filter byte + packed pixels
    rows = row * 1000
    data = b"".join(compressor.compress(rows) for _ in range(edge // 1000))
    data += compressor.compress(row * (edge % 1000)) + compressor.flush()
    header = edge.to_bytes(4, "big") * 2 + bytes([1, 0, 0, 0, 0])  # 1 bit, greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", data)
        + _chunk(b"IEND", b"")
    )


def pdf_bytes(padding: int = 0) -> bytes:
    body = b"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    body += b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
    filler = b"% " + b"x" * 78 + b"\n"
    body += filler * (padding // len(filler))
    return b"%PDF-1.7\n" + body + b"trailer << /Root 1 0 R >>\n%%EOF\n"


def zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.js", "fetch('/steal?c=' + document.cookie)")
    return out.getvalue()


ELF_EXECUTABLE = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 44
WINDOWS_EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 50
