"""Peak memory: the resident set of an ingest run process given a 200 MB ``.fits.bz2``, against a tiny one.

An exposure's large fits can be hundreds of megabytes, and the ingest needs only its header: the
header is read through ranged GETs, streaming through bz2, so the run's memory should not grow with
the file. Each file is ingested by the real ``ingest`` job in a process of its own
(``bench._ingest_process``), against moto's server and a fresh PostgreSQL catalog, with no ``.txt``
header beside it, so the fits header is what the ingest reads. The figure is that process's peak
resident set (``VmHWM``); the same run on a file of under 1 MB, measured in the same invocation, is
what importing the code location and running any ingest costs anyway.

The file is cheap to make: noise does not compress, so a bz2 of int16 noise is as large as the
data, and the file is a first bz2 stream (the header and a first chunk of noise) followed by one
compressed chunk of noise repeated as further streams, as parallel bzip2 tools write them. Only two
chunks are ever compressed; decompressed, it is a valid FITS image of the stated size.
"""

from __future__ import annotations

import argparse
import bz2
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import Figure, Stack, busy_warning, local_stack
from photon_archive.aws.clients import client
from photon_archive.catalog.engine import engine_for
from photon_archive.catalog.store import header_sources
from photon_archive.headers import BLOCK_SIZE
from photon_archive.settings import ENVIRONMENT
from photon_archive_workshop.sample import observatory_header

PEAK_GOAL = "<= 300"
GOALS = {"peak_rss_mb": PEAK_GOAL}
SITE, INSTRUMENT, NIGHT = "sro", "kb001ms", "20261124"
COLUMNS = 4096  # int16, so 8 kB a row
CHUNK_ROWS = 100  # 800 kB of noise a chunk: one bz2 block at level 9 (900 kB), so one stream a chunk
TINY_MB = 0.5  # one chunk of noise


@dataclass(frozen=True)
class IngestProcess:
    """What one ingest process reported about itself."""

    key: str
    compressed_bytes: int
    rss_before_run_mib: float
    peak_rss_mib: float
    ranged_bytes: int
    whole_bytes: int
    seconds: float


def add_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--fits-mb",
        type=float,
        default=200.0,
        help="compressed size of the large .fits.bz2 in MB (default 200)",
    )


def noise_fits_bz2(counter: int, compressed_mb: float) -> bytes:
    """An ``EX01.fits.bz2`` of about ``compressed_mb`` MB: the sample header over an int16 noise image."""
    chunk = np.random.default_rng(counter).integers(-(2**15), 2**15, (CHUNK_ROWS, COLUMNS), np.int16)
    noise = chunk.astype(">i2").tobytes()
    repeated = bz2.compress(noise, compresslevel=9)
    chunks = max(1, math.ceil(compressed_mb * 1e6 / len(repeated)))
    header = observatory_header(
        SITE, INSTRUMENT, datetime(2026, 11, 24, 4, 30), counter, "EX", random.Random(counter)
    )
    header["NAXIS1"], header["NAXIS2"] = COLUMNS, chunks * CHUNK_ROWS
    data_bytes = chunks * len(noise)
    padding = -data_bytes % BLOCK_SIZE  # the data ends on a whole FITS block
    parts = [bz2.compress(header.tostring().encode("ascii") + noise, compresslevel=9)]
    parts += [repeated] * (chunks - 1)
    if padding:
        parts.append(bz2.compress(bytes(padding), compresslevel=9))
    return b"".join(parts)


def key_for(counter: int) -> str:
    return f"data/{SITE}-{INSTRUMENT}-{NIGHT}-{counter:08d}-EX01.fits.bz2"


def ingest_in_own_process(stack: Stack, key: str, compressed_bytes: int) -> IngestProcess:
    """Run the ingest of ``key`` in a fresh interpreter configured like a run worker, by environment."""
    settings = stack.settings
    environment = {
        **os.environ,  # boto3 is pointed at the emulator here, and the child inherits it
        ENVIRONMENT["database_url"]: settings.database_url,
        ENVIRONMENT["state_dir"]: settings.state_dir,
        "DAGSTER_HOME": str(stack.workdir / "dagster_home"),
    }
    Path(environment["DAGSTER_HOME"]).mkdir(exist_ok=True)
    began = time.perf_counter()
    finished = subprocess.run(
        [sys.executable, "-m", "bench._ingest_process", key],
        capture_output=True,
        text=True,
        env=environment,
        cwd=Path(__file__).parent.parent,
    )
    seconds = time.perf_counter() - began
    if finished.returncode != 0:
        raise RuntimeError(f"the ingest process for {key} failed:\n{finished.stderr[-3000:]}")
    report: dict[str, Any] = json.loads(finished.stdout.strip().splitlines()[-1])
    if report["ingested"] != 1:
        raise RuntimeError(f"{key} was not ingested: {report['rejections']}")
    return IngestProcess(
        key=key,
        compressed_bytes=compressed_bytes,
        rss_before_run_mib=report["rss_before_run_mib"],
        peak_rss_mib=report["peak_rss_mib"],
        ranged_bytes=report["ranged_bytes"],
        whole_bytes=report["whole_bytes"],
        seconds=seconds,
    )


def check_header_from_fits(stack: Stack, keys: list[str]) -> None:
    """Each exposure's catalog row must carry the header read from its large fits."""
    bases = [key.split("/", 1)[1].rsplit("-", 1)[0] for key in keys]
    with engine_for(stack.settings.database_url).connect() as connection:
        sources = header_sources(connection, "images", bases)
    if sorted(sources) != sorted(bases) or set(sources.values()) != {"large_fits"}:
        raise RuntimeError(f"expected headers read from the large fits of {bases}, found {sources}")


def run(options: argparse.Namespace) -> list[Figure]:
    if options.fits_mb <= TINY_MB:
        raise ValueError(f"--fits-mb must be above the tiny file's {TINY_MB} MB")
    with (
        tempfile.TemporaryDirectory(prefix="photon-archive-bench-") as workdir,
        local_stack(Path(workdir), options.postgres, bucket_events=False) as stack,
    ):
        return _measure(options, stack)


def _measure(options: argparse.Namespace, stack: Stack) -> list[Figure]:
    began = time.perf_counter()
    files = {key_for(1): noise_fits_bz2(1, TINY_MB), key_for(2): noise_fits_bz2(2, options.fits_mb)}
    print(f"sample: {len(files)} noise .fits.bz2 written in {time.perf_counter() - began:.1f} s", flush=True)
    s3 = client("s3")
    began = time.perf_counter()
    for key, body in files.items():
        s3.put_object(Bucket=stack.settings.bucket, Key=key, Body=body, ContentType="application/x-bzip2")
    sizes = {key: len(body) for key, body in files.items()}
    del files
    print(
        f"upload: {', '.join(f'{size / 1e6:,.1f} MB' for size in sizes.values())} "
        f"in {time.perf_counter() - began:.1f} s (not measured)",
        flush=True,
    )
    print(busy_warning(), flush=True)

    tiny, large = (ingest_in_own_process(stack, key, size) for key, size in sizes.items())
    check_header_from_fits(stack, [tiny.key, large.key])
    for label, process in (("tiny", tiny), ("large", large)):
        print(
            f"{label:>5} file, {process.compressed_bytes / 1e6:7,.1f} MB: "
            f"peak RSS {process.peak_rss_mib:6.1f} MiB "
            f"({process.rss_before_run_mib:.1f} MiB before the run); "
            f"read from S3 {process.ranged_bytes / 1e3:,.0f} kB by ranged GETs, "
            f"{process.whole_bytes / 1e3:,.0f} kB whole; "
            f"{process.seconds:.1f} s with the interpreter's start",
            flush=True,
        )
    growth = large.peak_rss_mib - tiny.peak_rss_mib
    print(
        f"\nthe {large.compressed_bytes / 1e6:,.0f} MB file costs {growth:+.1f} MiB of peak RSS over the "
        f"{tiny.compressed_bytes / 1e6:.1f} MB one (goal for the peak {PEAK_GOAL} MiB)",
        flush=True,
    )
    conditions = {
        "compressed_bytes": large.compressed_bytes,
        "ranged_bytes_read": large.ranged_bytes,
        "tiny_compressed_bytes": tiny.compressed_bytes,
    }
    return [
        Figure("peak_rss_mb", large.peak_rss_mib, "MiB", PEAK_GOAL, conditions),
        Figure("peak_rss_mb_tiny_fits", tiny.peak_rss_mib, "MiB", None, conditions),
        Figure("peak_rss_growth_mb", growth, "MiB", None, conditions),
    ]
