"""S3 requests: the CPU boto3 spends on one GET and one PUT, in the client's process, against the emulator.

An exposure costs the ingest three S3 requests whatever else it does: the ``.txt`` header's GET, the
medium jpg's GET and the thumbnail's PUT. What botocore spends on each (building and signing the
request, the checksum, parsing the answer) is CPU of the run process, a floor under the ingest's
CPU per object that no change to the project's own code moves. The requests go through the
project's shared client (``photon_archive.aws.clients``, its retry and pool settings), one at a
time from one thread, timed by this process's CPU clock; the emulator's CPU for the same requests
is printed beside them. GETs and PUTs take turns, round after round, and the figures are the
medians of the rounds, so other work on the machine weighs on both alike.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import Figure, busy_warning, pointing_at, process_cpu_seconds
from bench.ingest import FILES_PER_EXPOSURE
from photon_archive.aws.clients import client
from photon_archive_workshop.emulator import Emulator

BUCKET = "photon-archive-bench-requests"
JPG_BYTES = 122_000  # the size of a sample medium jpg
THUMBNAIL_BYTES = 4_000  # and of its thumbnail
WARM_UP = 20


def add_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--requests", type=int, default=100, help="GETs, and as many PUTs, per round (default 100)"
    )
    group.add_argument("--request-rounds", type=int, default=5, help="rounds of each (default 5)")


def run(options: argparse.Namespace) -> list[Figure]:
    if min(options.requests, options.request_rounds) < 1:
        raise ValueError("--requests and --request-rounds must be at least 1")
    with tempfile.TemporaryDirectory(prefix="photon-archive-bench-") as workdir:
        emulator = Emulator(log_path=Path(workdir) / "moto.log").start()
        try:
            with pointing_at(emulator):
                return _measure(options, emulator)
        finally:
            emulator.stop()


def _measure(options: argparse.Namespace, emulator: Emulator) -> list[Figure]:
    assert emulator.process is not None
    s3 = client("s3")
    s3.create_bucket(Bucket=BUCKET)
    jpg = os.urandom(JPG_BYTES)
    thumbnail = os.urandom(THUMBNAIL_BYTES)
    s3.put_object(Bucket=BUCKET, Key="medium.jpg", Body=jpg)

    def get(_: int) -> None:
        s3.get_object(Bucket=BUCKET, Key="medium.jpg")["Body"].read()

    def put(index: int) -> None:
        s3.put_object(Bucket=BUCKET, Key=f"thumbnail-{index}.jpg", Body=thumbnail)

    for index in range(WARM_UP):
        get(index)
        put(index)
    print(busy_warning(), flush=True)
    server = emulator.process.pid
    timings: dict[str, list[tuple[float, float]]] = {"GET": [], "PUT": []}
    for _ in range(options.request_rounds):
        for name, request in (("GET", get), ("PUT", put)):
            timings[name].append(_round(request, options.requests, server))
    client_ms = {name: statistics.median(c for c, _ in rounds) for name, rounds in timings.items()}
    emulator_ms = {name: statistics.median(e for _, e in rounds) for name, rounds in timings.items()}
    for name in timings:
        print(
            f"S3 {name}: {client_ms[name]:.2f} ms of this process's CPU a request "
            f"(the emulator {emulator_ms[name]:.2f} ms), median of {options.request_rounds} rounds "
            f"of {options.requests}"
        )
    exposure_ms = 2 * client_ms["GET"] + client_ms["PUT"]
    per_object = exposure_ms / FILES_PER_EXPOSURE
    print(
        f"an exposure's three requests (two GETs, one PUT): {exposure_ms:.2f} ms of client CPU, "
        f"{per_object:.2f} ms per object of its {FILES_PER_EXPOSURE}"
    )
    conditions = {"rounds": options.request_rounds, "requests": options.requests, "server": "moto"}
    return [
        Figure("s3_get_client_cpu_ms", client_ms["GET"], "ms", None, conditions),
        Figure("s3_put_client_cpu_ms", client_ms["PUT"], "ms", None, conditions),
        Figure("s3_requests_client_cpu_ms_per_object", per_object, "ms", None, conditions),
    ]


def _round(request: Callable[[int], None], count: int, server: int) -> tuple[float, float]:
    """(this process's, the emulator's) CPU milliseconds per request over ``count`` requests."""
    server_before = process_cpu_seconds(server)
    before = time.process_time()
    for index in range(count):
        request(index)
    spent = time.process_time() - before
    server_spent = process_cpu_seconds(server) - server_before
    return spent / count * 1000, server_spent / count * 1000
