"""Fuzzing the thumbnailer: real pictures in every accepted format and colour mode, EXIF-rotated,
then cut short, bit-flipped, overwritten in their headers, given a huge frame size, or spliced;
nothing but ``Rejected`` escapes, and what is accepted is an RGB JPEG of at most the height asked."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from photon_archive.thumbnails import make_thumbnail
from photon_archive_tests.fuzz.budget import fuzz, survives
from photon_archive_tests.test_thumbnails import encode, open_thumbnail, with_sof0_size

# Pillow warns about each oddity of a damaged TIFF it reads past; the fuzz run would drown in them.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:PIL.TiffImagePlugin")

MODES = {
    "JPEG": ["L", "RGB", "CMYK"],
    "PNG": ["1", "L", "LA", "P", "RGB", "RGBA", "I;16"],
    "GIF": ["L", "P"],
    "TIFF": ["1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "I;16", "I", "F"],
    "BMP": ["1", "L", "P", "RGB", "RGBA"],
    "WEBP": ["RGB", "RGBA"],
}
HIGH_BIT_DEPTH = {"I;16": np.uint16, "I": np.int32, "F": np.float32}


@st.composite
def pictures(draw: st.DrawFn) -> bytes:
    """A small picture as a camera, an all-sky station or a pipeline could have written it."""
    fmt = draw(st.sampled_from(sorted(MODES)))
    mode = draw(st.sampled_from(MODES[fmt]))
    width, height = draw(st.integers(1, 200)), draw(st.integers(1, 200))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    if mode in HIGH_BIT_DEPTH:
        values = rng.integers(0, 65535, (height, width)).astype(HIGH_BIT_DEPTH[mode])
        if mode == "F" and draw(st.booleans()):
            special = draw(st.sampled_from([np.nan, np.inf, -np.inf, 1e38]))
            values.flat[rng.integers(0, values.size, 3)] = special
        image = Image.fromarray(values)
    else:
        noise = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        image = Image.fromarray(noise, "RGB").convert(mode)
    orientation = draw(st.integers(1, 8)) if fmt in ("JPEG", "PNG", "TIFF", "WEBP") else 1
    return encode(image, fmt, orientation)


damage = st.lists(
    st.one_of(
        st.tuples(st.just("cut"), st.integers(min_value=0), st.none()),
        st.tuples(st.just("flip"), st.integers(min_value=0), st.integers(0, 7)),
        st.tuples(st.just("header byte"), st.integers(0, 255), st.integers(0, 255)),
        st.tuples(st.just("byte"), st.integers(min_value=0), st.integers(0, 255)),
        st.tuples(st.just("delete"), st.integers(min_value=0), st.integers(1, 64)),
        st.tuples(st.just("duplicate"), st.integers(min_value=0), st.integers(1, 64)),
        st.tuples(st.just("frame size"), st.integers(0, 65535), st.integers(0, 65535)),
    ),
    min_size=1,
    max_size=4,
)


def damaged(data: bytes, changes: list[tuple[str, Any, Any]]) -> bytes:
    """The upload as it may arrive: cut, flipped, overwritten, or claiming another frame size."""
    out = bytearray(data)
    for kind, where, what in changes:
        at = where % max(len(out), 1)
        if kind == "cut":
            del out[where % (len(out) + 1) :]
        elif kind == "flip" and out:
            out[at] ^= 1 << what
        elif kind in ("byte", "header byte") and out:
            out[at] = what
        elif kind == "delete":
            del out[at : at + what]
        elif kind == "duplicate":
            out[at:at] = out[at : at + what]
        elif kind == "frame size" and b"\xff\xc0" in out[:-9]:
            out = bytearray(with_sof0_size(bytes(out), where, what))
    return bytes(out)


targets = st.integers(1, 300)
pixel_limits = st.integers(1, 4_000_000)


def thumbnail_or_rejection(data: bytes, height: int, max_pixels: int) -> tuple[int, int] | None:
    """The size of the thumbnail made of ``data``, or None when it was refused with a reason."""
    made = survives("thumbnails", lambda: make_thumbnail(data, height, max_pixels))
    if made is None:
        return None
    thumbnail = open_thumbnail(made)
    assert thumbnail.mode == "RGB"
    assert 1 <= thumbnail.height <= height and thumbnail.width >= 1
    return thumbnail.size


@fuzz("thumbnails")
@given(pictures(), damage, targets, pixel_limits)
def test_damaged_pictures_give_a_jpeg_or_a_rejection(
    picture: bytes, changes: list[tuple[str, Any, Any]], height: int, max_pixels: int
) -> None:
    thumbnail_or_rejection(damaged(picture, changes), height, max_pixels)


@fuzz("thumbnails")
@given(pictures(), st.integers(min_value=0), targets)
def test_a_picture_cut_anywhere_gives_its_thumbnail_or_is_refused_as_undecodable(
    picture: bytes, cut: int, height: int
) -> None:
    whole = thumbnail_or_rejection(picture, height, 4_000_000)
    assert whole is not None, "an intact picture must make a thumbnail"
    truncated = picture[: cut % len(picture)]
    size = thumbnail_or_rejection(truncated, height, 4_000_000)
    assert size is None or size == whole


@fuzz("thumbnails")
@given(
    st.one_of(
        st.binary(max_size=4096),
        st.binary(max_size=4096).map(lambda tail: b"\xff\xd8\xff" + tail),
        st.binary(max_size=4096).map(lambda tail: b"\x89PNG\r\n\x1a\n" + tail),
        st.binary(max_size=4096).map(lambda tail: b"II*\x00" + tail),
        st.binary(max_size=4096).map(lambda tail: b"GIF89a" + tail),
        st.binary(max_size=4096).map(lambda tail: b"BM" + tail),
        st.binary(max_size=4096).map(lambda tail: b"RIFF\x00\x10\x00\x00WEBPVP8 " + tail),
    )
)
def test_any_bytes_give_a_jpeg_or_a_rejection(data: bytes) -> None:
    thumbnail_or_rejection(data, 128, 4_000_000)
