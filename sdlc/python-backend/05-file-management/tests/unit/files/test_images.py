"""Pillow processing: orientation, metadata, thumbnails, bombs, animation, modes."""

import io
import time

import pytest
from PIL import Image

from app.storage.detection import GIF, JPEG, PNG
from app.storage.errors import ImageTooLargeError, InvalidFileError
from app.storage.images import ImageLimits, ProcessedImage, process_image
from tests.file_samples import (
    GPS_IFD,
    animated_gif,
    decompression_bomb_png,
    image_bytes,
    palette_png_with_transparency,
    rotated_jpeg_with_gps,
)

LIMITS = ImageLimits(
    max_pixels=4_000_000, pixel_budget=8_000_000, max_frames=50, thumbnail_sizes=(16, 64)
)


def process(data: bytes, file_type: object = JPEG, limits: ImageLimits = LIMITS) -> ProcessedImage:
    return process_image(io.BytesIO(data), file_type, limits)  # type: ignore[arg-type]


def test_rotated_jpeg_comes_back_upright_without_exif() -> None:
    original = rotated_jpeg_with_gps()
    with Image.open(io.BytesIO(original)) as source:
        assert source.size == (40, 20)
        assert source.getexif().get_ifd(GPS_IFD)  # the fixture really carries GPS

    result = process(original)

    with Image.open(io.BytesIO(result.data)) as image:
        assert image.size == (20, 40)  # turned upright (portrait)
        assert (result.width, result.height) == (20, 40)
        # Blue was on the left; rotated 90° clockwise it is on top.
        top, bottom = (
            image.convert("RGB").getpixel((10, 2)),
            image.convert("RGB").getpixel((10, 37)),
        )
        assert isinstance(top, tuple)
        assert isinstance(bottom, tuple)
        assert (top[0] < 60, top[2] > 200) == (True, True), top
        assert (bottom[0] > 200, bottom[2] < 60) == (True, True), bottom
        assert not image.getexif()
        assert "exif" not in image.info
    assert b"Exif" not in result.data
    assert b"Test Camera" not in result.data


def test_thumbnails_fit_the_configured_sizes() -> None:
    result = process(image_bytes("JPEG", size=(300, 150)))
    assert sorted(result.thumbnails) == [16, 64]
    for edge, data in result.thumbnails.items():
        with Image.open(io.BytesIO(data)) as thumb:
            assert thumb.format == "WEBP"
            assert max(thumb.size) == edge


def test_a_decompression_bomb_is_refused_quickly() -> None:
    bomb = decompression_bomb_png()
    assert len(bomb) < 200_000  # tiny on disk, 900 megapixels when decoded
    started = time.perf_counter()
    with pytest.raises(ImageTooLargeError):
        process(bomb, PNG)
    assert time.perf_counter() - started < 2.0  # refused from the header, never decoded


def test_pillow_own_limit_applies_too() -> None:
    # Below our limit but above Pillow's, which we set to the same value: refused.
    with pytest.raises(ImageTooLargeError):
        process(image_bytes("PNG", size=(2100, 2000)), PNG)


def test_animation_is_kept_and_budgeted() -> None:
    result = process(animated_gif(frames=3), GIF)
    assert result.frames == 3
    with Image.open(io.BytesIO(result.data)) as image:
        assert getattr(image, "n_frames", 1) == 3
    tight = ImageLimits(
        max_pixels=4_000_000, pixel_budget=24 * 24 * 2, max_frames=50, thumbnail_sizes=()
    )
    with pytest.raises(ImageTooLargeError, match="frames"):
        process(animated_gif(frames=3), GIF, tight)


def test_cmyk_becomes_rgb() -> None:
    result = process(image_bytes("JPEG", mode="CMYK"))
    with Image.open(io.BytesIO(result.data)) as image:
        assert image.mode == "RGB"


def test_palette_transparency_survives() -> None:
    result = process(palette_png_with_transparency(), PNG)
    with Image.open(io.BytesIO(result.data)) as image:
        assert image.mode == "P"
        assert "transparency" in image.info
    with Image.open(io.BytesIO(result.thumbnails[16])) as thumb:
        assert thumb.mode == "RGBA"
        green, clear = thumb.getpixel((2, 8)), thumb.getpixel((12, 8))
        assert isinstance(green, tuple)
        assert isinstance(clear, tuple)
        assert green[1] > 240
        assert green[0] < 10
        assert green[3] == 255
        assert clear[3] == 0  # the transparent half stays transparent


def test_truncated_image_is_invalid() -> None:
    data = image_bytes("PNG", size=(64, 64))
    with pytest.raises(InvalidFileError):
        process(data[: len(data) // 2], PNG)
