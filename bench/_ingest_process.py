"""``python -m bench._ingest_process KEY``: one ingest run of one object, as a run process does it,
then one JSON line on stdout with the process's memory and what it read from S3.

Without KEY it reads the run's keys from stdin, one a line, after printing ``ready`` once the code
location is imported: a benchmark can start several of these and set their runs off together, so
that what it times is the runs and not the interpreters' start.

Its own process so that its peak RSS is the ingest's alone: it imports only the code location
(``photon_archive.definitions``, configured by the environment like a run worker) and Dagster, and
none of the benchmark's sample-making. Not a benchmark itself (the leading underscore).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from photon_archive.aws import bucket
from photon_archive.definitions import defs
from photon_archive.defs.ingest import ingest_run_config
from photon_archive.ingest.objects import ObjectRef


def status_mib(field: str) -> float:
    """A memory figure of this process from Linux ``/proc/self/status`` (``VmRSS``, ``VmHWM``), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/self/status has no {field}")


def cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def ingest(*keys: str) -> dict[str, Any]:
    fetched = {"ranged": 0, "whole": 0}
    ranged_get, whole_read = bucket.RangeReader._get, bucket.Bucket.read

    def counted_get(self: bucket.RangeReader, start: int, end: int) -> bytes:
        data = ranged_get(self, start, end)
        fetched["ranged"] += len(data)
        return data

    def counted_read(self: bucket.Bucket, key: str, max_bytes: int, limit: str) -> bytes:
        data = whole_read(self, key, max_bytes, limit)
        fetched["whole"] += len(data)
        return data

    bucket.RangeReader._get = counted_get  # type: ignore[method-assign]
    bucket.Bucket.read = counted_read  # type: ignore[method-assign]
    job = defs.resolve_job_def("ingest")
    before = status_mib("VmRSS")
    run_config = {
        **ingest_run_config([ObjectRef(key) for key in keys]),
        "loggers": {"console": {"config": {"log_level": "WARNING"}}},
    }
    cpu, began = cpu_seconds(), time.time()
    result = job.execute_in_process(run_config=run_config)
    finished, run_cpu_seconds = time.time(), cpu_seconds() - cpu
    outcome = result.output_for_node("ingest_objects")
    return {
        "rss_before_run_mib": before,
        # The high-water mark of this process's own memory. Not ``ru_maxrss``: Linux carries the
        # parent's high-water mark at fork into it across exec, so a child of a large parent (the
        # benchmark, holding the 200 MB file it uploaded) would report the parent's size.
        "peak_rss_mib": status_mib("VmHWM"),
        "ranged_bytes": fetched["ranged"],
        "whole_bytes": fetched["whole"],
        # Clock time, so that a parent can line up the runs of several of these processes.
        "run_began_at": began,
        "run_finished_at": finished,
        "run_cpu_seconds": run_cpu_seconds,
        "ingested": outcome.ingested,
        "rejections": outcome.rejections,
    }


def keys_from_stdin() -> list[str]:
    print("ready", flush=True)
    return sys.stdin.read().split()


if __name__ == "__main__":
    print(json.dumps(ingest(*(sys.argv[1:] or keys_from_stdin()))), flush=True)
