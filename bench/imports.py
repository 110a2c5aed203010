"""Code location load: what a fresh run process spends importing ``photon_archive.definitions``.

Every Dagster run is a new interpreter that loads the code location before any op runs, so this is
paid once per run. Each sample is its own interpreter (``python -c``), importing the code location
and resolving the ``ingest`` job, or importing Dagster alone for the baseline: the ratio of their
CPU says how much the project adds to what Dagster itself costs. Medians of ``--import-samples`` processes,
alternating the two, so that a busy machine slows both alike. No stack is needed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

from bench.common import Figure, busy_warning

# What a run process imports before its first op, and what it would import with no project at all.
# The CPU is the interpreter's own (user + system) from its start, so it includes Python's start-up.
_MEASURE = """
import json, os, sys, time
began = time.perf_counter()
{body}
seconds = time.perf_counter() - began
times = os.times()
heavy = ("astropy", "numpy", "PIL", "alembic", "boto3", "sqlalchemy", "psycopg2", "dagster_aws.components")
print(json.dumps({{"wall": seconds, "cpu": times.user + times.system,
                  "loaded": [m for m in heavy if m in sys.modules]}}))
"""
CODE_LOCATION = _MEASURE.format(
    body="import photon_archive.definitions as d; d.defs.resolve_job_def('ingest')"
)
DAGSTER = _MEASURE.format(body="import dagster")


def add_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--import-samples", type=int, default=7, help="interpreters started for each figure (default 7)"
    )


def sample(script: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def run(options: argparse.Namespace) -> list[Figure]:
    if options.import_samples < 1:
        raise ValueError("--import-samples must be at least 1")
    print(busy_warning(), flush=True)
    location: list[dict[str, object]] = []
    dagster: list[dict[str, object]] = []
    for _ in range(options.import_samples):
        location.append(sample(CODE_LOCATION))
        dagster.append(sample(DAGSTER))

    def median(samples: list[dict[str, object]], field: str) -> float:
        return 1000 * statistics.median(float(s[field]) for s in samples)  # type: ignore[arg-type]

    location_ms, dagster_ms = median(location, "wall"), median(dagster, "wall")
    location_cpu, dagster_cpu = median(location, "cpu"), median(dagster, "cpu")
    # On CPU, not wall time: importing is one thread's work, and other work on the machine stretches
    # wall time by however busy the cores happen to be while each interpreter starts.
    ratio = location_cpu / dagster_cpu
    print(
        f"import photon_archive.definitions + resolve the ingest job: {location_ms:,.0f} ms"
        f" (process CPU from start {location_cpu:,.0f} ms)\n"
        f"import dagster alone: {dagster_ms:,.0f} ms (process CPU from start {dagster_cpu:,.0f} ms)\n"
        f"ratio: {ratio:.2f} x Dagster's own import on CPU, {location_ms / dagster_ms:.2f} x on wall time\n"
        f"loaded by the code location: {', '.join(location[-1]['loaded'])}",  # type: ignore[arg-type]
        flush=True,
    )
    conditions = {"samples": options.import_samples}
    return [
        Figure("import_definitions_ms", location_ms, "ms", None, conditions),
        Figure("import_dagster_ms", dagster_ms, "ms", None, conditions),
        Figure("import_definitions_cpu_ms", location_cpu, "ms", None, conditions),
        Figure("import_ratio_vs_dagster", ratio, "x", None, conditions),
    ]
