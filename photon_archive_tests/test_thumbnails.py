from __future__ import annotations

import io
import time
from typing import cast

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFile

from photon_archive.errors import Rejected
from photon_archive.thumbnails import DEFAULT_MAX_PIXELS, decode_for_thumbnail, make_thumbnail

RED = (255, 0, 0)
BLUE = (0, 0, 255)


def jpeg(
    width: int, height: int, color: tuple[int, int, int] = (40, 120, 200), orientation: int = 1
) -> bytes:
    image = Image.new("RGB", (width, height), color)
    return encode(image, "JPEG", orientation=orientation)


def encode(image: Image.Image, fmt: str, orientation: int = 1) -> bytes:
    out = io.BytesIO()
    if orientation != 1:
        exif = Image.Exif()
        exif[0x0112] = orientation
        image.save(out, format=fmt, exif=exif.tobytes())
    else:
        image.save(out, format=fmt)
    return out.getvalue()


def two_halves(width: int, height: int) -> Image.Image:
    """Left half red, right half blue: shows which way a picture ended up turned."""
    image = Image.new("RGB", (width, height), BLUE)
    image.paste(RED, (0, 0, width // 2, height))
    return image


def open_thumbnail(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    image.load()
    return image


def with_sof0_size(data: bytes, width: int, height: int) -> bytes:
    """The same JPEG with the frame size in its SOF0 header rewritten; the scan data is left alone."""
    sof = data.index(b"\xff\xc0")
    # FFC0, segment length (2), sample precision (1), height (2), width (2)
    patched = bytearray(data)
    patched[sof + 5 : sof + 7] = height.to_bytes(2, "big")
    patched[sof + 7 : sof + 9] = width.to_bytes(2, "big")
    return bytes(patched)


def color_at(image: Image.Image, xy: tuple[int, int]) -> tuple[int, ...]:
    pixel = image.getpixel(xy)
    assert isinstance(pixel, tuple)
    return pixel


def is_close(pixel: tuple[int, ...], expected: tuple[int, int, int], tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=True))


@pytest.fixture(scope="module")
def big_jpeg() -> bytes:
    return jpeg(6000, 4000)


@pytest.fixture(scope="module")
def camera_jpeg() -> bytes:
    """A phone-style JPEG (EXIF orientation 6, noisy detail) to cut and damage."""
    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 256, size=(96, 144, 3), dtype=np.uint8)
    return encode(Image.fromarray(pixels, "RGB"), "JPEG", orientation=6)


def test_thumbnail_of_a_1536x1024_picture_is_a_192x128_jpeg() -> None:
    thumbnail = open_thumbnail(make_thumbnail(jpeg(1536, 1024)))

    assert thumbnail.size == (192, 128)
    assert thumbnail.mode == "RGB"


def test_thumbnail_keeps_the_colour_of_the_picture() -> None:
    thumbnail = open_thumbnail(make_thumbnail(jpeg(1536, 1024, color=(200, 30, 60))))

    assert is_close(color_at(thumbnail, (96, 64)), (200, 30, 60), tolerance=8)


def test_picture_shorter_than_the_thumbnail_height_is_not_enlarged() -> None:
    thumbnail = open_thumbnail(make_thumbnail(jpeg(100, 60)))

    assert thumbnail.size == (100, 60)


def test_thumbnail_height_is_configurable() -> None:
    assert open_thumbnail(make_thumbnail(jpeg(1536, 1024), height=64)).size == (96, 64)
    assert open_thumbnail(make_thumbnail(jpeg(1536, 1024), height=512)).size == (768, 512)


def test_exif_orientation_6_gives_an_upright_portrait_thumbnail() -> None:
    # Stored landscape, red on the left; orientation 6 means "turn 90 degrees clockwise to view",
    # which brings the stored left side to the top.
    data = encode(two_halves(300, 200), "JPEG", orientation=6)

    thumbnail = open_thumbnail(make_thumbnail(data))

    assert thumbnail.size == (85, 128)
    assert is_close(color_at(thumbnail, (42, 10)), RED)
    assert is_close(color_at(thumbnail, (42, 117)), BLUE)


def test_exif_orientation_8_turns_the_other_way() -> None:
    data = encode(two_halves(300, 200), "JPEG", orientation=8)

    thumbnail = open_thumbnail(make_thumbnail(data))

    assert thumbnail.size == (85, 128)
    assert is_close(color_at(thumbnail, (42, 10)), BLUE)
    assert is_close(color_at(thumbnail, (42, 117)), RED)


def test_large_jpeg_is_decoded_at_one_eighth_scale(big_jpeg: bytes) -> None:
    decoded, full_size = decode_for_thumbnail(big_jpeg, height=128)

    assert full_size == (6000, 4000)
    assert decoded.size == (750, 500)


def test_large_jpeg_thumbnail_has_the_size_computed_from_the_full_picture(big_jpeg: bytes) -> None:
    assert open_thumbnail(make_thumbnail(big_jpeg)).size == (192, 128)


def test_reduced_decode_of_a_rotated_jpeg_is_scaled_along_the_stored_axes() -> None:
    # Upright this is 1000x4000, a 32x128 thumbnail; an 1/8 decode of the stored 4000x1000 still covers it.
    decoded, full_size = decode_for_thumbnail(jpeg(4000, 1000, orientation=6), height=128)

    assert full_size == (1000, 4000)
    assert decoded.size == (125, 500)


def test_decode_is_not_reduced_below_the_thumbnail_size() -> None:
    # A 900x600 thumbnail: a 1/2 decode (768x512) would be too small, so the full picture is decoded.
    decoded, _ = decode_for_thumbnail(jpeg(1536, 1024), height=600)

    assert decoded.size == (1536, 1024)


def test_text_is_rejected_as_not_an_image() -> None:
    with pytest.raises(Rejected, match="not a decodable image"):
        make_thumbnail(b"SIMPLE  =                    T / this is a FITS header, not a jpg")


def test_zero_bytes_are_rejected_as_an_empty_file() -> None:
    with pytest.raises(Rejected, match="not a decodable image: the file is empty"):
        make_thumbnail(b"")


def test_truncated_jpeg_is_rejected_as_truncated(camera_jpeg: bytes) -> None:
    with pytest.raises(Rejected, match="not a decodable image: .*truncated"):
        make_thumbnail(camera_jpeg[: len(camera_jpeg) // 2])


def test_jpeg_cut_inside_its_header_is_rejected(camera_jpeg: bytes) -> None:
    with pytest.raises(Rejected, match="not a decodable image"):
        make_thumbnail(camera_jpeg[:200])


def test_30000x30000_jpeg_is_rejected_by_the_pixel_limit_without_decoding() -> None:
    bomb = with_sof0_size(jpeg(64, 64), 30000, 30000)

    # Processor time, not time on the clock, which on a busy machine counts other processes too:
    # reading the size costs well under a millisecond, decoding 900 million pixels many seconds.
    started = time.process_time()
    with pytest.raises(Rejected) as rejected:
        make_thumbnail(bomb)
    cpu_seconds = time.process_time() - started

    assert cpu_seconds < 0.5
    assert "900,000,000 pixels" in rejected.value.reason
    assert f"limit of {DEFAULT_MAX_PIXELS:,} pixels" in rejected.value.reason


def test_picture_just_above_the_default_limit_is_rejected_naming_the_limit() -> None:
    bomb = with_sof0_size(jpeg(64, 64), 10000, 10000)

    with pytest.raises(Rejected) as rejected:
        make_thumbnail(bomb)

    assert "100,000,000 pixels" in rejected.value.reason
    assert f"limit of {DEFAULT_MAX_PIXELS:,} pixels" in rejected.value.reason


def test_pixel_limit_is_configurable_and_names_the_picture_size() -> None:
    with pytest.raises(Rejected) as rejected:
        make_thumbnail(jpeg(1536, 1024), max_pixels=1_000_000)

    assert "1536x1024" in rejected.value.reason
    assert "limit of 1,000,000 pixels" in rejected.value.reason
    assert open_thumbnail(make_thumbnail(jpeg(1536, 1024), max_pixels=1536 * 1024)).size == (192, 128)


def test_rejections_leave_pillow_safety_settings_alone(camera_jpeg: bytes) -> None:
    before = (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES)
    for bad in (with_sof0_size(jpeg(64, 64), 30000, 30000), camera_jpeg[:-400], b"junk"):
        with pytest.raises(Rejected):
            make_thumbnail(bad)

    assert before == (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_png_is_accepted() -> None:
    thumbnail = open_thumbnail(make_thumbnail(encode(Image.new("RGB", (640, 256), RED), "PNG")))

    assert thumbnail.size == (320, 128)
    assert is_close(color_at(thumbnail, (160, 64)), RED, tolerance=8)


@pytest.mark.parametrize(
    ("mode", "fmt"),
    [
        ("L", "JPEG"),
        ("CMYK", "JPEG"),
        ("P", "PNG"),
        ("P", "GIF"),
        ("RGBA", "PNG"),
        ("LA", "PNG"),
        ("1", "BMP"),
    ],
)
def test_every_colour_mode_becomes_an_rgb_jpeg(mode: str, fmt: str) -> None:
    source = Image.new("RGB", (300, 200), (90, 160, 30)).convert(mode)

    thumbnail = open_thumbnail(make_thumbnail(encode(source, fmt)))

    assert thumbnail.mode == "RGB"
    assert thumbnail.size == (192, 128)


def test_transparent_areas_become_white() -> None:
    source = Image.new("RGBA", (300, 200), (0, 0, 0, 0))
    source.paste((0, 0, 255, 255), (150, 0, 300, 200))

    thumbnail = open_thumbnail(make_thumbnail(encode(source, "PNG")))

    assert is_close(color_at(thumbnail, (20, 64)), (255, 255, 255), tolerance=8)
    assert is_close(color_at(thumbnail, (172, 64)), BLUE)


def test_16_bit_picture_is_stretched_rather_than_clipped_to_white() -> None:
    ramp = (np.arange(256 * 256, dtype=np.uint32).reshape(256, 256) % 256 * 200).astype(np.uint16)
    thumbnail = open_thumbnail(make_thumbnail(encode(Image.fromarray(ramp), "PNG")))

    darkest, brightest = cast(tuple[int, int], thumbnail.convert("L").getextrema())
    assert darkest < 20
    assert brightest > 230


@settings(max_examples=60, deadline=None)
@given(width=st.integers(1, 700), height=st.integers(1, 700), target=st.integers(1, 300))
def test_thumbnail_is_target_high_with_the_aspect_kept_or_the_original_size(
    width: int, height: int, target: int
) -> None:
    thumbnail = open_thumbnail(make_thumbnail(jpeg(width, height), height=target))

    if height <= target:
        assert thumbnail.size == (width, height)
    else:
        assert thumbnail.height == target
        assert abs(thumbnail.width - width * target / height) <= 0.5 + 1e-9 or thumbnail.width == 1
