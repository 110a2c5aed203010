"""Concurrent runs: objects/s of 1, 2 and 4 ingest runs at once on the same exposures, on PostgreSQL.

Several runs at once is what a busy night asks of the deployment: the sensor launches a run per
batch and the run queue lets a few go together. The hardest case for the catalog is runs that
share exposures, so here every exposure's four uploads are spread over the concurrent runs (with
four runs, each run gets one file of every exposure): all of them upsert the same ``images`` rows
at the same time.

Each measurement is a fresh stack (moto's server, a fresh, migrated PostgreSQL database, the same
sample uploaded), and each run is a process of its own executing the real ``ingest`` job
(``bench._ingest_process``, configured by the environment like a run worker). The processes are
started first and set off together once imported, so the wall time is the runs', not the
interpreters' start. After the runs: no duplicate catalog rows, no deadlocks in PostgreSQL's
``pg_stat_database``, every ledger row ``ingested``, every row complete with the ``.txt`` header
(the best header must win whichever run wrote last). The CPU of the run processes, the emulator and
PostgreSQL's backends for the database says what bounds the rate on this machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.common import Figure, Stack, busy_warning, local_stack, machine_cpu_seconds, process_cpu_seconds
from bench.ingest import FIRST_COUNTER, Upload, exposure_uploads, sample_templates, upload
from photon_archive.catalog.engine import engine_for
from photon_archive.naming import parse_key
from photon_archive.settings import ENVIRONMENT, Settings

DUPLICATES_GOAL = "<= 0"
DEADLOCKS_GOAL = "<= 0"
GOALS = {"concurrency_duplicate_rows": DUPLICATES_GOAL, "concurrency_deadlocks": DEADLOCKS_GOAL}
RUN_COUNTS = (1, 2, 4)
UPLOADS_PER_EXPOSURE = 4  # .txt header, EX01.fits.bz2, EX10.fits.fz, EX10.jpg
POLL_SECONDS = 0.05


def add_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--concurrent-exposures",
        type=int,
        default=120,
        help="exposures (four uploads each) shared by the concurrent runs; one run alone takes them"
        " all, so at most a quarter of max_objects_per_run (default 120)",
    )


def split_over_runs(uploads: Sequence[Upload], files_per_exposure: int, runs: int) -> list[list[str]]:
    """Every exposure's files spread over ``runs`` runs, each exposure starting on the next run, so
    every run touches every exposure (when an exposure has at least ``runs`` files)."""
    keys: list[list[str]] = [[] for _ in range(runs)]
    for index, item in enumerate(uploads):
        exposure, position = divmod(index, files_per_exposure)
        keys[(exposure + position) % runs].append(item.key)
    return keys


# --------------------------------------------------------------------------------------------------
# CPU of PostgreSQL's backends for one database


class BackendCpu:
    """CPU seconds PostgreSQL's backends for ``database`` spend while it polls, summed over them.

    A backend's process title names its database (``postgres: user database host(port) state``), so
    the backends serving other databases on the same server are left out. A backend that exits
    between two polls loses at most a poll's worth of its CPU.
    """

    def __init__(self, database: str) -> None:
        self.database = database
        self._baseline: dict[int, float] = {}
        self._latest: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _backends(self) -> dict[int, float]:
        found = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if title.startswith("postgres:") and f" {self.database} " in title:
                found[int(entry.name)] = process_cpu_seconds(int(entry.name))
        return found

    def _poll(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            for pid, seconds in self._backends().items():
                self._latest[pid] = max(seconds, self._latest.get(pid, 0.0))

    @contextmanager
    def measuring(self) -> Iterator[None]:
        self._baseline = self._backends()
        self._latest = dict(self._baseline)
        self._thread.start()
        try:
            yield
        finally:
            self._stop.set()
            self._thread.join()

    def seconds(self) -> float:
        return sum(value - self._baseline.get(pid, 0.0) for pid, value in self._latest.items())


# --------------------------------------------------------------------------------------------------
# One measurement: n runs at once


@dataclass
class Measurement:
    runs: int
    objects: int
    wall: float  # from the runs' start to the last run's end
    slowest_run: float
    processes_wall: float  # until the last process had exited, the stretch the CPU is measured over
    own_cpu: float
    runs_cpu: float  # inside the runs (execute_in_process), not the processes' start and exit
    emulator_cpu: float
    postgres_cpu: float
    machine_cpu: float
    duplicate_rows: int
    deadlocks: int
    ledger: dict[str, int]
    rows: int
    complete_rows: int

    @property
    def rate(self) -> float:
        return self.objects / self.wall


def start_run_process(stack: Stack, index: int, stderr: IO[str]) -> subprocess.Popen[str]:
    """An ingest run process, imported and waiting for its keys on stdin."""
    settings = stack.settings
    home = stack.workdir / f"dagster_home_{index}"
    home.mkdir(exist_ok=True)
    environment = {
        **os.environ,  # boto3 is pointed at the emulator here, and the child inherits it
        ENVIRONMENT["database_url"]: settings.database_url,
        ENVIRONMENT["state_dir"]: settings.state_dir,
        "DAGSTER_HOME": str(home),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bench._ingest_process"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        env=environment,
        cwd=Path(__file__).parent.parent,
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if line != "ready":
        process.kill()
        raise RuntimeError(f"run process {index} did not start: {line!r}; see {stderr.name}")
    return process


def own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def deadlocks(stack: Stack) -> int:
    database = make_url(stack.settings.database_url).database
    with engine_for(stack.settings.database_url).connect() as connection:
        value = connection.execute(
            text("SELECT deadlocks FROM pg_stat_database WHERE datname = :name"), {"name": database}
        ).scalar_one()
    return int(value)


def catalog_state(stack: Stack, keys: Sequence[str]) -> tuple[int, int, int, dict[str, int]]:
    """(duplicate base filenames, rows, complete rows, ledger state -> count) for ``keys``' exposures."""
    bases = sorted({parse_key(key).base_filename for key in keys})
    with engine_for(stack.settings.database_url).connect() as connection:
        duplicates = connection.execute(
            text(
                "SELECT count(*) FROM (SELECT base_filename FROM images"
                " GROUP BY base_filename HAVING count(*) > 1) AS duplicated"
            )
        ).scalar_one()
        complete, rows = connection.execute(
            text(
                "SELECT count(*) FILTER (WHERE fits_01_exists AND fits_10_exists AND jpg_medium_exists"
                " AND header_source = 'txt'), count(*) FROM images WHERE base_filename = ANY(:bases)"
            ),
            {"bases": bases},
        ).one()
        ledger = connection.execute(
            text("SELECT state, count(*) FROM object_ledger WHERE key = ANY(:keys) GROUP BY state"),
            {"keys": list(keys)},
        )
        states = {state: int(count) for state, count in ledger}
    return int(duplicates), int(rows), int(complete), states


def measure(options: argparse.Namespace, runs: int) -> Measurement:
    with (
        tempfile.TemporaryDirectory(prefix="photon-archive-bench-") as workdir,
        local_stack(Path(workdir), options.postgres, bucket_events=False) as stack,
    ):
        templates = sample_templates(min(20, options.concurrent_exposures))
        counters = range(FIRST_COUNTER, FIRST_COUNTER + options.concurrent_exposures)
        uploads = exposure_uploads(templates, counters)
        upload(stack.settings.bucket, uploads, threads=8)
        shares = split_over_runs(uploads, UPLOADS_PER_EXPOSURE, runs)
        keys = [key for share in shares for key in share]
        print(f"{runs} run(s): {len(keys):,} objects uploaded; starting the run processes", flush=True)

        logs = [(Path(workdir) / f"run_{index}.log").open("w") for index in range(runs)]
        processes: list[subprocess.Popen[str]] = []
        try:
            for index, log in enumerate(logs):
                processes.append(start_run_process(stack, index, log))
            return _run_together(stack, Path(workdir), processes, shares, keys)
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                    process.wait()
            for log in logs:
                log.close()


def _run_together(
    stack: Stack,
    workdir: Path,
    processes: list[subprocess.Popen[str]],
    shares: list[list[str]],
    keys: list[str],
) -> Measurement:
    """Hand every waiting run process its keys at once, and measure until the last one is done."""
    runs = len(processes)
    emulator_pid = stack.emulator.process.pid  # type: ignore[union-attr]
    backends = BackendCpu(str(make_url(stack.settings.database_url).database))
    deadlocks_before = deadlocks(stack)
    emulator_before, machine_before = process_cpu_seconds(emulator_pid), machine_cpu_seconds()[0]
    own_before = own_cpu_seconds()
    with backends.measuring():
        began = time.time()
        for process, share in zip(processes, shares, strict=True):
            assert process.stdin is not None
            process.stdin.write("\n".join(share) + "\n")
            process.stdin.close()
        outputs = []
        for process in processes:
            assert process.stdout is not None
            outputs.append(process.stdout.read())
            process.wait()
        processes_wall = time.time() - began
    emulator_cpu = process_cpu_seconds(emulator_pid) - emulator_before
    machine_cpu = machine_cpu_seconds()[0] - machine_before
    own_cpu = own_cpu_seconds() - own_before
    reports: list[dict[str, Any]] = []
    for index, (process, output, share) in enumerate(zip(processes, outputs, shares, strict=True)):
        if process.returncode != 0:
            log_text = (workdir / f"run_{index}.log").read_text()[-3000:]
            raise RuntimeError(f"run process {index} of {runs} failed:\n{log_text}")
        report: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
        if report["ingested"] != len(share):
            raise RuntimeError(
                f"run {index} of {runs} ingested {report['ingested']} of {len(share)} objects: "
                f"{report['rejections'][:3]}"
            )
        reports.append(report)

    time.sleep(1.0)  # PostgreSQL publishes a backend's counters at most once a second
    duplicates, rows, complete, ledger = catalog_state(stack, keys)
    return Measurement(
        runs=runs,
        objects=len(keys),
        wall=max(report["run_finished_at"] for report in reports) - began,
        slowest_run=max(report["run_finished_at"] - report["run_began_at"] for report in reports),
        processes_wall=processes_wall,
        own_cpu=own_cpu,
        runs_cpu=sum(report["run_cpu_seconds"] for report in reports),
        emulator_cpu=emulator_cpu,
        postgres_cpu=backends.seconds(),
        machine_cpu=machine_cpu,
        duplicate_rows=duplicates,
        deadlocks=deadlocks(stack) - deadlocks_before,
        ledger=ledger,
        rows=rows,
        complete_rows=complete,
    )


# --------------------------------------------------------------------------------------------------


def cpu_split(measurement: Measurement) -> str:
    wall = measurement.processes_wall
    rest = max(
        measurement.machine_cpu
        - measurement.runs_cpu
        - measurement.emulator_cpu
        - measurement.postgres_cpu
        - measurement.own_cpu,
        0.0,
    )
    parts = [
        ("run processes inside their runs (Dagster, project)", measurement.runs_cpu),
        ("AWS emulator (moto server)", measurement.emulator_cpu),
        ("PostgreSQL backends of this database", measurement.postgres_cpu),
        ("the benchmark itself (polling /proc)", measurement.own_cpu),
        ("the rest: runs' start and exit, other work", rest),
        ("machine total", measurement.machine_cpu),
    ]
    title = f"    CPU over the {wall:.1f} s until the last run process had exited:\n"
    per_object = 1000 / measurement.objects
    return title + "\n".join(
        f"    {label:<50} {seconds:7.2f} s CPU = {seconds / wall:4.2f} cores"
        f" = {seconds * per_object:5.1f} ms per object"
        for label, seconds in parts
    )


def run(options: argparse.Namespace) -> list[Figure]:
    largest = Settings().max_objects_per_run // UPLOADS_PER_EXPOSURE
    if not 1 <= options.concurrent_exposures <= largest:
        raise ValueError(
            f"--concurrent-exposures must be 1 to {largest}: the single run takes all their"
            f" {UPLOADS_PER_EXPOSURE} uploads, and a run takes at most max_objects_per_run objects"
        )
    print(busy_warning(), flush=True)
    measurements: dict[int, Measurement] = {}
    for runs in RUN_COUNTS:
        measurement = measure(options, runs)
        measurements[runs] = measurement
        print(
            f"  {runs} run(s) at once: {measurement.objects:,} objects in {measurement.wall:.1f} s ="
            f" {measurement.rate:,.1f} objects/s (slowest run {measurement.slowest_run:.1f} s);"
            f" {measurement.rows} rows, {measurement.complete_rows} complete with the .txt header,"
            f" {measurement.duplicate_rows} duplicated; {measurement.deadlocks} deadlocks;"
            f" ledger {measurement.ledger}",
            flush=True,
        )
        print(cpu_split(measurement), flush=True)

    single = measurements[1].rate
    print("\nscaling (efficiency = rate_n / (n x rate_1)):")
    for runs, measurement in measurements.items():
        efficiency = measurement.rate / (runs * single)
        print(f"  {runs}: {measurement.rate:8,.1f} objects/s, efficiency {efficiency:.2f}")
    cores = os.cpu_count() or 1
    busiest = max(measurements.values(), key=lambda m: m.machine_cpu / m.processes_wall)
    print(
        f"the machine has {cores} cores; with {busiest.runs} run(s) at once it was"
        f" {busiest.machine_cpu / busiest.processes_wall:.2f} cores busy: past that, more runs share the same"
        " cores rather than add to them"
    )

    problems = [
        f"{m.runs} run(s): {m.rows} rows / {m.complete_rows} complete for "
        f"{options.concurrent_exposures} exposures, ledger {m.ledger}"
        for m in measurements.values()
        if m.rows != options.concurrent_exposures
        or m.complete_rows != m.rows
        or set(m.ledger) != {"ingested"}
        or m.ledger["ingested"] != m.objects
    ]
    for problem in problems:
        print(f"NOT AS EXPECTED: {problem}")

    conditions = {
        "exposures": options.concurrent_exposures,
        "objects": measurements[1].objects,
        "cores": cores,
    }
    figures = [
        Figure(
            f"concurrency_objects_per_s_{runs}",
            measurement.rate,
            "objects/s",
            None,
            {**conditions, "runs": runs, "seconds": round(measurement.wall, 2)},
        )
        for runs, measurement in measurements.items()
    ]
    figures += [
        Figure(
            f"concurrency_efficiency_{runs}",
            measurements[runs].rate / (runs * single),
            "ratio",
            None,
            {**conditions, "runs": runs},
        )
        for runs in RUN_COUNTS[1:]
    ]
    figures += [
        Figure(
            "concurrency_duplicate_rows",
            sum(m.duplicate_rows for m in measurements.values()),
            "rows",
            DUPLICATES_GOAL,
            conditions,
        ),
        Figure(
            "concurrency_deadlocks",
            sum(m.deadlocks for m in measurements.values()),
            "deadlocks",
            DEADLOCKS_GOAL,
            conditions,
        ),
        Figure(
            "concurrency_ledger_not_ingested",
            sum(m.objects - m.ledger.get("ingested", 0) for m in measurements.values()),
            "objects",
            None,
            conditions,
        ),
    ]
    return figures
