"""Thumbnails: the project's thumbnailer on camera-frame medium jpgs, against a full decode then resize.

The jpgs are the sample data's star fields rendered at a camera frame's size (``--jpg-size``): sky
noise and stars, so the compressed data is as dense as a real night's, not a flat test card. The
measured path is ``make_thumbnail`` as the ingest calls it, which asks libjpeg for a draft (a decode
at 1/2, 1/4 or 1/8 scale) before resizing. The baseline does the same work the plain way: decode
every pixel, then the same resize and encode. Both run on the same bytes, alternating, in one
thread, and are timed by that thread's CPU clock: both are pure CPU work in the calling thread, so
CPU seconds are what they cost, and unlike wall time they do not count the slices other processes
on a shared machine take. So the rate is thumbnails per second of one core, and the ratio holds
whatever else the machine is doing.

Draft mode saves the inverse DCT, colour conversion and resize of the pixels it never makes, but
not the Huffman decoding of every coefficient, which no decode scale can skip. So the ratio falls
as the bits per pixel rise: a star field with visible sky noise at quality 85 (about 2.5 bits per
pixel) sits below the ratio's goal, with the thumbnailer's time nearly all in that decode (the
report shows the draft decode alone beside it). To show that on every run, the same frames with the sky noise
smoothed away (a blur, re-encoded at the same quality: a fraction of the bits) are measured too, as
context without a goal.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from PIL import Image, ImageFilter, ImageOps

from bench.common import Figure, busy_warning
from photon_archive.thumbnails import decode_for_thumbnail, make_thumbnail, thumbnail_size
from photon_archive_workshop.sample import sample_exposures

# The ingest's goal is 300 objects/s and one object in five is a medium jpg: 60 thumbnails/s on one
# core keeps the thumbnails within that budget.
THUMBNAILS_GOAL = ">= 60"
RATIO_GOAL = ">= 5"
GOALS = {"thumbnails_per_s": THUMBNAILS_GOAL, "thumbnail_ratio_vs_full_decode": RATIO_GOAL}
HEIGHT = 128  # the project's default thumbnail height
QUALITY = 85  # make_thumbnail's default
NIGHT = date(2026, 11, 24)
SMOOTHING_RADIUS = 1.5  # pixels of gaussian blur that take the sky noise out of the context frames


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
    """The baseline: the thumbnailer without draft mode. Every pixel decoded, then the same upright
    turn, resize and encode; no copy of the full frame the thumbnailer would not make either."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        ImageOps.exif_transpose(image, in_place=True)
        upright = image if image.mode == "RGB" else image.convert("RGB")
        small = upright.resize(
            thumbnail_size(upright.size, height), Image.Resampling.LANCZOS, reducing_gap=3.0
        )
    out = io.BytesIO()
    small.save(out, format="JPEG", quality=QUALITY)
    return out.getvalue()


def smoothed(data: bytes) -> bytes:
    """The same frame with its sky noise blurred away, re-encoded at the same quality."""
    with Image.open(io.BytesIO(data)) as image:
        blurred = image.filter(ImageFilter.GaussianBlur(SMOOTHING_RADIUS))
    out = io.BytesIO()
    blurred.save(out, format="JPEG", quality=QUALITY)
    return out.getvalue()


@dataclass
class Timings:
    """Seconds per thumbnail of the project's thumbnailer and of the baseline, on the same jpgs."""

    thumbnailer: list[float] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)
    draft_decode: list[float] = field(default_factory=list)  # the thumbnailer's decode step alone

    @classmethod
    def measure(cls, jpgs: list[bytes], rounds: int) -> Timings:
        """Both thumbnailers, alternating on each jpg, so load on the machine hits both alike."""
        timings = cls()
        for _ in range(rounds):
            for data in jpgs:
                timings.thumbnailer.append(_seconds(make_thumbnail, data))
                timings.baseline.append(_seconds(full_decode_thumbnail, data))
                timings.draft_decode.append(_seconds(decode_for_thumbnail, data))
        return timings

    @property
    def ratio(self) -> float:
        return sum(self.baseline) / sum(self.thumbnailer)


def bits_per_pixel(jpgs: list[bytes], size: tuple[int, int]) -> float:
    return 8 * sum(map(len, jpgs)) / len(jpgs) / (size[0] * size[1])


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
    smooth = [smoothed(data) for data in jpgs]
    megabytes = sum(map(len, jpgs)) / len(jpgs) / 1e6
    bits, smooth_bits = bits_per_pixel(jpgs, (width, height)), bits_per_pixel(smooth, (width, height))
    print(
        f"sample: {len(jpgs)} star-field jpgs of {width}x{height} ({width * height / 1e6:.1f} Mpx, "
        f"{megabytes:.2f} MB = {bits:.2f} bits per pixel on average; {smooth_bits:.2f} with the sky "
        f"smoothed) written in {time.perf_counter() - began:.1f} s",
        flush=True,
    )
    decoded, full_size = decode_for_thumbnail(jpgs[0], HEIGHT)
    print(f"draft mode decodes a {full_size[0]}x{full_size[1]} jpg at {decoded.size[0]}x{decoded.size[1]}")
    for data in jpgs:
        drafted, full = Image.open(io.BytesIO(make_thumbnail(data, HEIGHT))), full_decode_thumbnail(data)
        if drafted.size != Image.open(io.BytesIO(full)).size:
            raise RuntimeError(f"the two thumbnailers disagree on the size: {drafted.size}")
    print(busy_warning(), flush=True)

    timings = Timings.measure(jpgs, options.rounds)
    context = Timings.measure(smooth, options.rounds)
    rate = len(timings.thumbnailer) / sum(timings.thumbnailer)
    baseline_rate = len(timings.baseline) / sum(timings.baseline)
    print(
        f"\nthumbnailer (draft mode): {1000 * statistics.median(timings.thumbnailer):.1f} ms CPU "
        f"median per jpg, {rate:,.1f} thumbnails/s, of which the draft decode alone "
        f"{1000 * statistics.median(timings.draft_decode):.1f} ms\n"
        f"full decode then resize:  {1000 * statistics.median(timings.baseline):.1f} ms CPU median per jpg, "
        f"{baseline_rate:,.1f} thumbnails/s\n"
        f"ratio: the thumbnailer is {timings.ratio:.1f} x as fast (goal {RATIO_GOAL}); goal for the rate "
        f"{THUMBNAILS_GOAL}/s, a fifth of the ingest's 300 objects/s\n"
        f"context: with the sky smoothed ({smooth_bits:.2f} bits per pixel) the ratio is "
        f"{context.ratio:.1f}, the thumbnailer {1000 * statistics.median(context.thumbnailer):.1f} ms "
        "CPU median per jpg",
        flush=True,
    )
    conditions = {
        "jpg_size": f"{width}x{height}",
        "jpg_bytes": round(megabytes * 1e6),
        "bits_per_pixel": round(bits, 2),
        "jpgs": len(jpgs),
        "thumbnails": len(timings.thumbnailer),
        "height": HEIGHT,
    }
    return [
        Figure("thumbnails_per_s", rate, "thumbnails/s", THUMBNAILS_GOAL, conditions),
        Figure("full_decode_thumbnails_per_s", baseline_rate, "thumbnails/s", None, conditions),
        Figure("thumbnail_ratio_vs_full_decode", timings.ratio, "x", RATIO_GOAL, conditions),
        Figure(
            "thumbnail_ratio_smoothed_sky",
            context.ratio,
            "x",
            None,
            {**conditions, "bits_per_pixel": round(smooth_bits, 2), "smoothing_px": SMOOTHING_RADIUS},
        ),
    ]


def _seconds(thumbnail: Callable[[bytes], object], data: bytes) -> float:
    started = time.thread_time()
    thumbnail(data)
    return time.thread_time() - started
