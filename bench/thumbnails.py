"""Thumbnails: the project's thumbnailer on camera-frame medium jpgs, against a full decode then resize.

The jpgs are the sample data's star fields rendered at a camera frame's size (``--jpg-size``): sky
noise and stars, so the compressed data is as dense as a real night's, not a flat test card. The
measured path is ``make_thumbnail`` as the ingest calls it, which asks libjpeg for a draft (a decode
at 1/2, 1/4 or 1/8 scale) before resizing. The baseline does the same work the plain way: decode
every pixel, then the same resize and encode. Both run on the same bytes, alternating, one thread,
so the ratio holds whatever else the machine is doing.

Draft mode saves the inverse DCT, colour conversion and resize of the pixels it never makes, but
not the Huffman decoding of every coefficient, which no decode scale can skip. So the ratio falls
as the bits per pixel rise: a star field with visible sky noise at quality 85 (about 2.5 bits per
pixel) sits near the ratio's goal, a smooth picture of a fraction of the bits far above it.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Callable
from datetime import date

from PIL import Image, ImageOps

from bench.common import Figure, busy_warning
from photon_archive.local.sample import sample_exposures
from photon_archive.thumbnails import decode_for_thumbnail, make_thumbnail, thumbnail_size

# The ingest's goal is 300 objects/s and one object in five is a medium jpg: 60 thumbnails/s on one
# core keeps the thumbnails within that budget.
THUMBNAILS_GOAL = ">= 60"
RATIO_GOAL = ">= 5"
GOALS = {"thumbnails_per_s": THUMBNAILS_GOAL, "thumbnail_ratio_vs_full_decode": RATIO_GOAL}
HEIGHT = 128  # the project's default thumbnail height
QUALITY = 85  # make_thumbnail's default
NIGHT = date(2026, 11, 24)


def add_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--jpg-size",
        default="3072x2048",
        help="width x height of the medium jpgs (default 3072x2048, a 6 Mpx camera frame)",
    )
    group.add_argument("--jpgs", type=int, default=4, help="distinct star-field jpgs thumbnailed (default 4)")
    group.add_argument(
        "--rounds", type=int, default=10, help="times each jpg goes through both thumbnailers (default 10)"
    )


def full_decode_thumbnail(data: bytes, height: int = HEIGHT) -> bytes:
    """The baseline: every pixel decoded, then the thumbnailer's own resize and encode."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        upright = ImageOps.exif_transpose(image).convert("RGB")
    small = upright.resize(thumbnail_size(upright.size, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
    out = io.BytesIO()
    small.save(out, format="JPEG", quality=QUALITY)
    return out.getvalue()


def jpg_size(text: str) -> tuple[int, int]:
    width, _, height = text.lower().partition("x")
    return int(width), int(height)


def run(options: argparse.Namespace) -> list[Figure]:
    width, height = jpg_size(options.jpg_size)
    if min(width, height, options.jpgs, options.rounds) < 1:
        raise ValueError("--jpg-size sides, --jpgs and --rounds must be at least 1")
    began = time.perf_counter()
    samples = sample_exposures(count=options.jpgs, night=NIGHT, files=("jpg",), jpeg_size=(width, height))
    jpgs = [sample.body for sample in samples]
    megabytes = sum(map(len, jpgs)) / len(jpgs) / 1e6
    bits_per_pixel = 8e6 * megabytes / (width * height)
    print(
        f"sample: {len(jpgs)} star-field jpgs of {width}x{height} ({width * height / 1e6:.1f} Mpx, "
        f"{megabytes:.2f} MB = {bits_per_pixel:.2f} bits per pixel on average) written in "
        f"{time.perf_counter() - began:.1f} s",
        flush=True,
    )
    decoded, full_size = decode_for_thumbnail(jpgs[0], HEIGHT)
    print(f"draft mode decodes a {full_size[0]}x{full_size[1]} jpg at {decoded.size[0]}x{decoded.size[1]}")
    for data in jpgs:
        drafted, full = Image.open(io.BytesIO(make_thumbnail(data, HEIGHT))), full_decode_thumbnail(data)
        if drafted.size != Image.open(io.BytesIO(full)).size:
            raise RuntimeError(f"the two thumbnailers disagree on the size: {drafted.size}")
    print(busy_warning(), flush=True)

    thumbnailer: list[float] = []
    baseline: list[float] = []
    for _ in range(options.rounds):
        for data in jpgs:
            thumbnailer.append(_seconds(make_thumbnail, data))
            baseline.append(_seconds(full_decode_thumbnail, data))
    rate = len(thumbnailer) / sum(thumbnailer)
    baseline_rate = len(baseline) / sum(baseline)
    ratio = sum(baseline) / sum(thumbnailer)
    print(
        f"\nthumbnailer (draft mode): {1000 * statistics.median(thumbnailer):.1f} ms median per jpg, "
        f"{rate:,.1f} thumbnails/s\n"
        f"full decode then resize:  {1000 * statistics.median(baseline):.1f} ms median per jpg, "
        f"{baseline_rate:,.1f} thumbnails/s\n"
        f"ratio: the thumbnailer is {ratio:.1f} x as fast (goal {RATIO_GOAL}); goal for the rate "
        f"{THUMBNAILS_GOAL}/s, a fifth of the ingest's 300 objects/s",
        flush=True,
    )
    conditions = {
        "jpg_size": f"{width}x{height}",
        "jpg_bytes": round(megabytes * 1e6),
        "bits_per_pixel": round(bits_per_pixel, 2),
        "jpgs": len(jpgs),
        "thumbnails": len(thumbnailer),
        "height": HEIGHT,
    }
    return [
        Figure("thumbnails_per_s", rate, "thumbnails/s", THUMBNAILS_GOAL, conditions),
        Figure("full_decode_thumbnails_per_s", baseline_rate, "thumbnails/s", None, conditions),
        Figure("thumbnail_ratio_vs_full_decode", ratio, "x", RATIO_GOAL, conditions),
    ]


def _seconds(thumbnail: Callable[[bytes], bytes], data: bytes) -> float:
    started = time.perf_counter()
    thumbnail(data)
    return time.perf_counter() - started
