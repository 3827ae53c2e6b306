"""Image processing with Pillow: orientation, metadata stripping, thumbnails, bomb guard.

Everything here blocks (decoding is CPU work): the service calls `process_image` in a
worker thread. The stored image is always a re-encoding of the decoded pixels, so EXIF
(GPS position, camera serial), XMP, comments and anything hidden between chunks are gone.
"""

import io
import warnings
from dataclasses import dataclass, field
from typing import BinaryIO

from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from app.storage.detection import GIF, JPEG, PNG, WEBP, FileType
from app.storage.errors import ImageTooLargeError, InvalidFileError

THUMBNAIL = FileType("image/webp", ".webp", is_image=True)
_PIL_FORMATS = {JPEG: "JPEG", PNG: "PNG", GIF: "GIF", WEBP: "WEBP"}
# Frame timing and looping of animations; everything else in `info` is dropped.
_ANIMATION_INFO = ("duration", "loop", "background", "transparency", "disposal")


@dataclass(frozen=True)
class ImageLimits:
    max_pixels: int
    pixel_budget: int
    max_frames: int
    thumbnail_sizes: tuple[int, ...]
    jpeg_quality: int = 88


@dataclass
class ProcessedImage:
    data: bytes
    file_type: FileType
    width: int
    height: int
    frames: int
    thumbnails: dict[int, bytes] = field(default_factory=dict)


def _open(source: BinaryIO, limits: ImageLimits) -> Image.Image:
    """Open (headers only) and refuse what would be too big to decode."""
    Image.MAX_IMAGE_PIXELS = limits.max_pixels
    try:
        with warnings.catch_warnings():
            # Pillow warns above MAX_IMAGE_PIXELS and raises above twice that: refuse both.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(source)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLargeError(f"Image has too many pixels (limit {limits.max_pixels})") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InvalidFileError("The image cannot be decoded") from exc
    width, height = image.size
    frames = getattr(image, "n_frames", 1)
    if width * height > limits.max_pixels:
        raise ImageTooLargeError(f"Image has too many pixels (limit {limits.max_pixels})")
    if frames > limits.max_frames or width * height * frames > limits.pixel_budget:
        msg = f"Animation too large ({frames} frames of {width}x{height})"
        raise ImageTooLargeError(msg)
    return image


def _display_mode(image: Image.Image) -> Image.Image:
    """RGB or RGBA: CMYK, palette, 16-bit and grey images become what browsers show."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    target = "RGBA" if has_alpha else "RGB"
    return image if image.mode == target else image.convert(target)


def _encode(image: Image.Image, file_type: FileType, limits: ImageLimits) -> bytes:
    out = io.BytesIO()
    if file_type is JPEG:
        image.convert("RGB").save(out, "JPEG", quality=limits.jpeg_quality, optimize=True)
    elif file_type is PNG:
        keep = image if image.mode in ("1", "L", "LA", "P", "RGB", "RGBA") else _display_mode(image)
        keep.save(out, "PNG", optimize=True)
    else:
        _display_mode(image).save(out, _PIL_FORMATS[file_type])
    return out.getvalue()


def _encode_animation(image: Image.Image, file_type: FileType) -> bytes:
    frames = [frame.copy() for frame in ImageSequence.Iterator(image)]
    info = {key: image.info[key] for key in _ANIMATION_INFO if key in image.info}
    if file_type is WEBP:
        frames = [_display_mode(frame) for frame in frames]
        info.pop("transparency", None)
        info.pop("background", None)
    out = io.BytesIO()
    frames[0].save(out, _PIL_FORMATS[file_type], save_all=True, append_images=frames[1:], **info)
    return out.getvalue()


def _thumbnail(image: Image.Image, size: int) -> bytes:
    thumb = _display_mode(image.copy())
    thumb.thumbnail((size, size), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    thumb.save(out, "WEBP", quality=80, method=4)
    return out.getvalue()


def process_image(source: BinaryIO, file_type: FileType, limits: ImageLimits) -> ProcessedImage:
    """Decode, apply EXIF orientation, strip metadata, re-encode, make thumbnails."""
    with _open(source, limits) as image:
        frames = getattr(image, "n_frames", 1)
        try:
            if frames > 1:
                data = _encode_animation(image, file_type)
                image.seek(0)
                first = image.copy()
            else:
                image.load()
                # The camera's "rotate me" tag becomes real rotation; the tag itself goes.
                first = ImageOps.exif_transpose(image)
                # Nothing of the original's metadata reaches the encoder but transparency.
                first.info = {k: v for k, v in first.info.items() if k == "transparency"}
                data = _encode(first, file_type, limits)
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise InvalidFileError("The image cannot be decoded") from exc
    result = ProcessedImage(data, file_type, first.width, first.height, frames)
    for size in limits.thumbnail_sizes:
        result.thumbnails[size] = _thumbnail(first, size)
    return result
