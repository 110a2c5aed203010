"""The small jpg (`...11.jpg`) that the web frontend lists, made from the medium jpg (`...10.jpg`).

Source bytes come from S3 and are untrusted: any of them may be junk, truncated by a failed upload, or a
decompression bomb whose header claims billions of pixels. So the pixel count is checked from the header
before anything is decoded, and every failure to read the bytes becomes a ``Rejected`` with a reason, never
another exception. Pillow's process-wide settings (``Image.MAX_IMAGE_PIXELS``,
``ImageFile.LOAD_TRUNCATED_IMAGES``) are left as they are, so a truncated upload is refused rather than
thumbnailed with a grey bottom half.

Medium jpgs of a full camera frame are large, and only 128 rows survive; JPEG draft mode lets libjpeg decode
at 1/2, 1/4 or 1/8 scale, which is most of the speed of a thumbnail.
"""

from __future__ import annotations

import io
import re
import warnings
from typing import cast

from PIL import Image, ImageOps, UnidentifiedImageError

from photon_archive.errors import Rejected

# Comfortably above a full frame of the largest cameras in use (a 9576x6388 sensor is 61 Mpx) and below
# Pillow's own bomb warning threshold (89.5 Mpx), so that threshold never refuses an image this limit allows.
# SPEC §4: thumbnails are 128 px high unless configured otherwise.
DEFAULT_HEIGHT: int = 128
DEFAULT_MAX_PIXELS: int = 80_000_000
# The largest source file handed to the thumbnailer: a medium jpg is a few megabytes, a full frame as a
# high-quality JPEG or PNG a few tens.
DEFAULT_MAX_IMAGE_BYTES: int = 64 * 1024 * 1024

# Raster formats a camera, an all-sky station or an info-image pipeline can produce. Other formats Pillow
# can open (EPS hands the bytes to Ghostscript, for one) are no business of a thumbnailer fed from S3.
ACCEPTED_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "TIFF", "WEBP", "GIF", "BMP")

_WHITE = (255, 255, 255)
# EXIF orientations whose upright picture has the stored width and height swapped.
_ORIENTATIONS_SWAPPING_AXES = frozenset({5, 6, 7, 8})
_EXIF_ORIENTATION_TAG = 0x0112
_HIGH_BIT_DEPTH_MODES = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N", "F"})
_PILLOW_BOMB_MESSAGE = re.compile(r"\((\d+) pixels\) exceeds limit of (\d+) pixels")


def make_thumbnail(
    data: bytes, height: int = DEFAULT_HEIGHT, max_pixels: int = DEFAULT_MAX_PIXELS, quality: int = 85
) -> bytes:
    """JPEG bytes of the upright picture, ``height`` pixels high with the aspect kept.

    A picture already no higher than ``height`` keeps its size: enlarging would only add blur and bytes.
    Raises ``Rejected`` when the bytes are not a decodable image or the picture has more than
    ``max_pixels`` pixels (Pillow's own bomb limit, ``Image.MAX_IMAGE_PIXELS``, applies as well).
    """
    if not 1 <= quality <= 100:
        raise ValueError(f"quality must be between 1 and 100, not {quality}")
    image, full_size = decode_for_thumbnail(data, height, max_pixels)
    target = thumbnail_size(full_size, height)
    if image.size != target:
        image = image.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
    out = io.BytesIO()
    try:
        image.save(out, format="JPEG", quality=quality)
    except (OSError, ValueError) as exc:
        raise Rejected(f"cannot encode a {target[0]}x{target[1]} thumbnail as JPEG: {exc}") from exc
    return out.getvalue()


def thumbnail_size(full_size: tuple[int, int], height: int) -> tuple[int, int]:
    """Width and height of the thumbnail of an upright picture of ``full_size``; never larger than it."""
    width, full_height = full_size
    if full_height <= height:
        return width, full_height
    return max(1, round(width * height / full_height)), height


def decode_for_thumbnail(
    data: bytes, height: int = DEFAULT_HEIGHT, max_pixels: int = DEFAULT_MAX_PIXELS
) -> tuple[Image.Image, tuple[int, int]]:
    """The upright RGB picture decoded at the smallest scale that still covers the thumbnail, and its
    upright full size read from the header.

    Separate from ``make_thumbnail`` so that what was actually decoded (how far draft mode reduced a
    large JPEG) can be seen; the full size is what the thumbnail width is computed from, since a
    reduced decode rounds its sides up.
    """
    if height < 1:
        raise ValueError(f"height must be at least 1 pixel, not {height}")
    if max_pixels < 1:
        raise ValueError(f"max_pixels must be at least 1, not {max_pixels}")
    if not data:
        raise Rejected("not a decodable image: the file is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            # Pillow warns, rather than refuses, between its limit and twice its limit; refuse there too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return _decode(data, height, max_pixels)
    except Rejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise Rejected(_bomb_reason(exc, max_pixels)) from exc
    except UnidentifiedImageError as exc:
        raise Rejected(
            f"not a decodable image: {len(data)} bytes that no reader for "
            f"{', '.join(ACCEPTED_FORMATS)} recognises"
        ) from exc
    except Exception as exc:
        # Pillow's decoders answer malformed bytes with OSError, SyntaxError, ValueError, struct.error,
        # EOFError, IndexError and more; each is the same fact about the input.
        raise Rejected(f"not a decodable image: {_describe(exc)}") from exc


def _decode(data: bytes, height: int, max_pixels: int) -> tuple[Image.Image, tuple[int, int]]:
    with Image.open(io.BytesIO(data), formats=_openable_formats()) as image:
        stored_width, stored_height = image.size
        pixels = stored_width * stored_height
        if pixels > max_pixels:
            raise Rejected(
                f"image is {stored_width}x{stored_height} = {pixels:,} pixels, "
                f"above the limit of {max_pixels:,} pixels (max_image_pixels)"
            )
        orientation = image.getexif().get(_EXIF_ORIENTATION_TAG, 1)
        swaps_axes = orientation in _ORIENTATIONS_SWAPPING_AXES
        full_size = (stored_height, stored_width) if swaps_axes else (stored_width, stored_height)
        target_width, target_height = thumbnail_size(full_size, height)
        # draft() works in stored orientation; formats other than JPEG ignore it.
        image.draft("RGB", (target_height, target_width) if swaps_axes else (target_width, target_height))
        image.load()
        upright = ImageOps.exif_transpose(image)
    return _to_rgb(upright), full_size


def _openable_formats() -> tuple[str, ...]:
    """The accepted formats this Pillow build can read; naming one it lacks makes ``Image.open`` fail."""
    Image.init()
    return tuple(name for name in ACCEPTED_FORMATS if name in Image.OPEN)


def _to_rgb(image: Image.Image) -> Image.Image:
    """JPEG holds no transparency and a browser shows 8-bit colour; map every mode onto that."""
    if image.mode == "RGB":
        return image
    if image.mode in _HIGH_BIT_DEPTH_MODES:
        return _stretch_to_8_bit(image).convert("RGB")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        flattened = Image.new("RGB", rgba.size, _WHITE)
        flattened.paste(rgba, mask=rgba.getchannel("A"))
        return flattened
    return image.convert("RGB")


def _stretch_to_8_bit(image: Image.Image) -> Image.Image:
    """16-bit and float pictures (a raw sensor PNG or TIFF) would clip to white if cut to 8 bits as is."""
    values = image.convert("F")
    low, high = cast(tuple[float, float], values.getextrema())
    scale = 255.0 / (high - low) if high > low else 0.0
    return values.point(lambda value: (value - low) * scale).convert("L")


def _bomb_reason(exc: Exception, max_pixels: int) -> str:
    match = _PILLOW_BOMB_MESSAGE.search(str(exc))
    if match is None:
        return f"image too large to decode safely: {exc}"
    pixels, pillow_limit = int(match.group(1)), int(match.group(2))
    if pixels > max_pixels:
        return f"image is {pixels:,} pixels, above the limit of {max_pixels:,} pixels (max_image_pixels)"
    return f"image is {pixels:,} pixels, above Pillow's own limit of {pillow_limit:,} pixels"


def _describe(exc: Exception) -> str:
    message = str(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
