"""Upload-to-catalog latency: seconds from an exposure's header upload to its ``images`` row, live.

The measured system is the one an operator runs: ``dagster-daemon run -m photon_archive.definitions``
as a child process, on a temporary Dagster home whose ``dagster.yaml`` is the local stack's
(the repository's ``dagster.yaml``: queued run coordinator, dequeued every second), with
the environment pointing it at moto's server and a fresh PostgreSQL catalog. The bucket's event
notifications are on, so the event-queue sensor sees each upload; the prefix scan runs beside it as
in production.

One exposure is uploaded per second for ``--latency-seconds`` (header first, then the other three
files, as an observatory does), and the catalog is polled every 0.2 s. An exposure's latency runs
from the end of its ``.txt`` upload to the first poll that sees its row. Afterwards the Dagster
instance says where the time went, per exposure, through the run that ingested its ``.txt``: the
sensor tick that requested the run, the run's creation, its dequeue, its start in a new process,
the ingest op's start, and the row. The event-queue sensor long-polls, so a tick is often already
waiting when an upload ends: its wait is then nothing, and what is left (run creation, dequeue, the
run's process, the op) is Dagster's floor for a sensor-requested run, printed on its own.

Then a burst: ``--latency-burst`` exposures within 10 s, followed by one exposure per second for
``--latency-after-burst`` seconds; ``burst_recovery_s`` is how long after the burst those single
exposures are back to the steady median (five in a row with a median at most 10 % above it).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from dagster import DagsterEventType, DagsterInstance, RunsFilter
from dagster._core.definitions.run_request import InstigatorType
from dagster._core.storage.tags import SENSOR_NAME_TAG, TICK_ID_TAG
from sqlalchemy import text

from bench.common import (
    Figure,
    Stack,
    busy_warning,
    drain_queue,
    local_stack,
    machine_cpu_seconds,
    process_cpu_seconds,
)
from photon_archive.aws.clients import client
from photon_archive.catalog.engine import engine_for
from photon_archive.naming import parse_key
from photon_archive.settings import Settings
from photon_archive_workshop.instance import LOCAL_DAGSTER_YAML
from photon_archive_workshop.sample import sample_exposures

P50_GOAL = "<= 3.5"
P95_GOAL = "<= 6"
RECOVERY_LIMIT_S = 60
RECOVERY_GOAL = f"<= {RECOVERY_LIMIT_S}"
GOALS = {"latency_p50_s": P50_GOAL, "latency_p95_s": P95_GOAL, "burst_recovery_s": RECOVERY_GOAL}
BURST_SECONDS = 10.0
BURST_WORKERS = 8
BURST_FIRST_COUNTER = 10_000_001
AFTER_BURST_FIRST_COUNTER = 20_000_001
RECOVERY_RUN = 5  # single exposures in a row whose median says the burst is over
RECOVERY_SLACK = 1.1
LEGACY_LAMBDA_S = 1.0  # the legacy S3-triggered Lambda: about a second from upload to row
DEFINITIONS_MODULE = "photon_archive.definitions"
SITE = "sro"
POLL_S = 0.2
WARM_UP_COUNTER = 90_000_001
FIRST_COUNTER = 1
INGEST_STEP = "ingest_objects"


def add_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--latency-seconds",
        type=float,
        default=120.0,
        help="how long one exposure per second is uploaded (default 120)",
    )
    group.add_argument(
        "--latency-settle",
        type=float,
        default=300.0,
        help="how long after the last upload every row may take to appear (default 300)",
    )
    group.add_argument(
        "--latency-distinct",
        type=int,
        default=10,
        help="distinct sample exposures whose bytes are reused (default 10)",
    )
    group.add_argument(
        "--latency-burst",
        type=int,
        default=200,
        help=f"exposures uploaded within {BURST_SECONDS:.0f} s after the steady phase (default 200; 0: none)",
    )
    group.add_argument(
        "--latency-after-burst",
        type=float,
        default=120.0,
        help="how long one exposure per second is uploaded after the burst (default 120)",
    )


# --------------------------------------------------------------------------------------------------
# The exposures


@dataclass(frozen=True)
class Upload:
    key: str
    body: bytes
    content_type: str


@dataclass
class Exposure:
    base_filename: str
    uploads: list[Upload]  # header first
    txt_end: float | None = None  # epoch seconds, when the .txt PUT returned
    seen: float | None = None  # epoch seconds, the first poll that saw the row

    @property
    def txt_key(self) -> str:
        return self.uploads[0].key

    @property
    def latency(self) -> float | None:
        if self.txt_end is None or self.seen is None:
            return None
        return self.seen - self.txt_end


def exposures(night: date, counters: Sequence[int], distinct: int) -> list[Exposure]:
    """One exposure per counter, reusing ``distinct`` sample exposures' bytes under new names."""
    templates: dict[str, list[Upload]] = {}
    for sample in sample_exposures(SITE, count=distinct, night=night):
        base = parse_key(sample.key).base_filename
        templates.setdefault(base, []).append(Upload(sample.key, sample.body, sample.content_type))
    groups = list(templates.values())
    made = []
    for index, counter in enumerate(counters):
        uploads = []
        for template in groups[index % len(groups)]:
            old = f"-{parse_key(template.key).counter}-"
            uploads.append(
                Upload(template.key.replace(old, f"-{counter:08d}-", 1), template.body, template.content_type)
            )
        if not uploads[0].key.endswith(".txt"):
            raise RuntimeError(f"the sample's first file is {uploads[0].key}, not the header")
        made.append(Exposure(parse_key(uploads[0].key).base_filename, uploads))
    return made


def upload(bucket: str, exposure: Exposure) -> None:
    s3 = client("s3")
    for item in exposure.uploads:
        s3.put_object(Bucket=bucket, Key=item.key, Body=item.body, ContentType=item.content_type)
        if exposure.txt_end is None:
            exposure.txt_end = time.time()


# --------------------------------------------------------------------------------------------------
# The catalog, watched


class CatalogWatch:
    """Polls ``images`` every 0.2 s for the rows still awaited, and drains the datastream queue as
    the frontend would (a backlog nobody reads makes moto's SendMessage slower and slower)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.awaited: dict[str, Exposure] = {}
        self.polls = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="catalog-watch")
        self._error: BaseException | None = None

    def await_row(self, exposure: Exposure) -> None:
        with self._lock:
            self.awaited[exposure.base_filename] = exposure

    def pending(self) -> int:
        with self._lock:
            return len(self.awaited)

    def start(self) -> CatalogWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        engine = engine_for(self.settings.database_url)
        query = text("SELECT base_filename FROM images WHERE base_filename = ANY(:bases)")
        last_drain = time.monotonic()
        try:
            while not self._stop.is_set():
                with self._lock:
                    bases = list(self.awaited)
                if bases:
                    asked = time.time()  # the row was committed before the query's snapshot
                    with engine.connect() as connection:
                        found = [row.base_filename for row in connection.execute(query, {"bases": bases})]
                    self.polls += 1
                    with self._lock:
                        for base in found:
                            exposure = self.awaited.pop(base, None)
                            if exposure is not None:
                                exposure.seen = asked
                if time.monotonic() - last_drain > 5:
                    drain_queue(self.settings.datastream_queue)
                    last_drain = time.monotonic()
                self._stop.wait(POLL_S)
        except BaseException as error:  # noqa: BLE001 - handed to stop()
            self._error = error


# --------------------------------------------------------------------------------------------------
# The daemon


@dataclass
class Daemon:
    """``dagster-daemon run`` on a fresh Dagster home, in a process group of its own, so that its code
    server and the run processes it launches are stopped with it."""

    home: Path
    environment: dict[str, str]
    process: subprocess.Popen[bytes] | None = None

    @classmethod
    def create(cls, root: Path, settings: Settings) -> Daemon:
        home = root / "dagster_home"
        home.mkdir(parents=True)
        (home / "dagster.yaml").write_text(LOCAL_DAGSTER_YAML.read_text())
        # The emulator and the settings given here, nothing of the developer's own.
        environment = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("PHOTON_ARCHIVE_", "DAGSTER_", "AWS_PROFILE"))
        }
        environment.update(
            {
                "DAGSTER_HOME": str(home),
                "PHOTON_ARCHIVE_DATABASE_URL": settings.database_url,
                "PHOTON_ARCHIVE_STATE_DIR": settings.state_dir,
                "PYTHONUNBUFFERED": "1",
            }
        )
        if "AWS_ENDPOINT_URL" not in environment:
            raise RuntimeError("the emulator must be running (AWS_ENDPOINT_URL) before the daemon starts")
        return cls(home, environment)

    @property
    def log_path(self) -> Path:
        return self.home / "daemon.log"

    def start(self) -> None:
        command = [str(Path(sys.executable).with_name("dagster-daemon")), "run", "-m", DEFINITIONS_MODULE]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command,
                env=self.environment,
                cwd=self.home,  # the Dagster home: nothing the processes write lands in the checkout
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def check_alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"the daemon exited with code {self.process.returncode}:\n{self.log_tail()}")

    def stop(self) -> None:
        """Interrupt it as Ctrl-C would, then end whatever of its process group is left."""
        if self.process is None:
            return
        group = self.process.pid
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for number in (signal.SIGTERM, signal.SIGKILL):
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(group, number)
            time.sleep(0.5)

    def log_tail(self, lines: int = 40) -> str:
        text_lines = self.log_path.read_text(errors="replace").splitlines() if self.log_path.exists() else []
        return "\n".join(text_lines[-lines:])

    def instance(self) -> DagsterInstance:
        return DagsterInstance.from_config(str(self.home))


def import_seconds() -> float:
    """What a run process pays to import the code location, measured in a fresh interpreter."""
    code = (
        f"import time; t = time.perf_counter(); import {DEFINITIONS_MODULE}; print(time.perf_counter() - t)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ
    )
    return float(out.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------------------------------
# Where the time went, from the Dagster instance


SENSOR_WAIT = "sensor tick wait (upload end -> tick start; 0: long poll)"
SENSOR_EVAL = "sensor tick (upload end or tick start -> run created)"
QUEUE = "run queue (created -> dequeued, RUN_STARTING)"
LAUNCH = "run process start + code load (RUN_STARTING -> RUN_START)"
TO_OP = "run start -> ingest op start"
OP = "ingest op until its row is seen (op start -> poll)"
PHASES = [SENSOR_WAIT, SENSOR_EVAL, QUEUE, LAUNCH, TO_OP, OP]


@dataclass
class RunTimes:
    run_id: str
    sensor: str
    objects: int
    tick_start: float | None
    tick_end: float | None
    created: float
    dequeued: float | None
    starting: float | None
    started: float | None
    step_start: float | None
    step_end: float | None
    end: float | None


@dataclass
class Breakdown:
    phases: dict[str, list[float]] = field(default_factory=lambda: {phase: [] for phase in PHASES})
    op_seconds: list[float] = field(default_factory=list)
    run_seconds: list[float] = field(default_factory=list)
    objects_per_run: list[int] = field(default_factory=list)
    sensors: Counter[str] = field(default_factory=Counter)
    unexplained: int = 0
    # The same phases for the first quarter of the uploads, before any backlog could build up.
    early: dict[str, list[float]] = field(default_factory=lambda: {phase: [] for phase in PHASES})
    # Per exposure, Dagster's floor: from its run's creation to its row, what no sensor change removes.
    floor: list[float] = field(default_factory=list)
    # Per exposure, the latency less the sensor's wait: what it would be with a tick always waiting.
    without_wait: list[float] = field(default_factory=list)


def sensor_ticks(instance: DagsterInstance, after: float) -> dict[str, dict[int, Any]]:
    """Sensor name -> tick id -> tick, for every tick since ``after``."""
    ticks: dict[str, dict[int, Any]] = {}
    for state in instance.all_instigator_state(instigator_type=InstigatorType.SENSOR):
        found = instance.get_ticks(state.instigator_origin_id, state.selector_id, after=after)
        ticks[state.instigator_name] = {tick.tick_id: tick for tick in found}
    return ticks


def run_times(instance: DagsterInstance, run_id: str, ticks: dict[str, dict[int, Any]]) -> RunTimes:
    (record,) = instance.get_run_records(filters=RunsFilter(run_ids=[run_id]), limit=1)
    tags = record.dagster_run.tags
    sensor = tags.get(SENSOR_NAME_TAG, "?")
    tick = ticks.get(sensor, {}).get(int(tags[TICK_ID_TAG])) if TICK_ID_TAG in tags else None
    if tick is None:  # an older Dagster without the tick tag: find the tick by the runs it launched
        tick = next((t for t in ticks.get(sensor, {}).values() if run_id in t.run_ids), None)
    kinds = {
        DagsterEventType.RUN_DEQUEUED,
        DagsterEventType.RUN_STARTING,
        DagsterEventType.RUN_START,
        DagsterEventType.STEP_START,
        DagsterEventType.STEP_SUCCESS,
    }
    first: dict[tuple[DagsterEventType, str | None], float] = {}
    for entry in instance.all_logs(run_id, of_type=kinds):
        event_type = entry.dagster_event_type
        if event_type is None:
            continue
        first.setdefault((event_type, entry.step_key), entry.timestamp)
    return RunTimes(
        run_id=run_id,
        sensor=sensor,
        objects=int(tags.get("photon_archive/objects", "0")),
        tick_start=tick.timestamp if tick is not None else None,
        tick_end=tick.end_timestamp if tick is not None else None,
        created=record.create_timestamp.timestamp(),
        # The queued run coordinator marks a run it takes off the queue RUN_DEQUEUED, or (this version)
        # goes straight to launching it, RUN_STARTING.
        dequeued=first.get((DagsterEventType.RUN_DEQUEUED, None))
        or first.get((DagsterEventType.RUN_STARTING, None)),
        starting=first.get((DagsterEventType.RUN_STARTING, None)),
        started=first.get((DagsterEventType.RUN_START, None)),
        step_start=first.get((DagsterEventType.STEP_START, INGEST_STEP)),
        step_end=first.get((DagsterEventType.STEP_SUCCESS, INGEST_STEP)),
        end=record.end_time,
    )


def breakdown(
    instance: DagsterInstance, settings: Settings, measured: Sequence[Exposure], after: float
) -> tuple[Breakdown, list[float]]:
    """Per exposure, the phases of the run that ingested its ``.txt``; and the event sensor's tick gaps."""
    engine = engine_for(settings.database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT key, run_id FROM object_ledger WHERE key = ANY(:keys)"),
            {"keys": [exposure.txt_key for exposure in measured]},
        )
        run_of = {row.key: row.run_id for row in rows}
    ticks = sensor_ticks(instance, after)
    runs: dict[str, RunTimes] = {}
    result = Breakdown()
    for index, exposure in enumerate(measured):
        run_id = run_of.get(exposure.txt_key)
        if not run_id or exposure.txt_end is None or exposure.seen is None:
            result.unexplained += 1
            continue
        if run_id not in runs:
            runs[run_id] = run_times(instance, run_id, ticks)
        times = runs[run_id]
        if times.tick_start is None:
            result.unexplained += 1
            continue
        # A tick that began before the upload ended was long-polling: the exposure waited for none.
        picked_up = max(exposure.txt_end, times.tick_start)
        marks = [exposure.txt_end, picked_up, times.created, times.dequeued, times.started]
        marks += [times.step_start, exposure.seen]
        if any(mark is None for mark in marks):
            result.unexplained += 1
            continue
        result.floor.append(exposure.seen - times.created)
        result.without_wait.append(exposure.seen - picked_up)
        for phase, (begin, end) in zip(PHASES, zip(marks, marks[1:], strict=False), strict=True):
            result.phases[phase].append(end - begin)  # type: ignore[operator]
            if index < max(len(measured) // 4, 1):
                result.early[phase].append(end - begin)  # type: ignore[operator]
        result.sensors[times.sensor] += 1
    for times in runs.values():
        if times.step_start is not None and times.step_end is not None:
            result.op_seconds.append(times.step_end - times.step_start)
        if times.started is not None and times.end is not None:
            result.run_seconds.append(times.end - times.started)
        result.objects_per_run.append(times.objects)
    starts = sorted(tick.timestamp for tick in ticks.get("s3_event_queue", {}).values())
    gaps = [later - earlier for earlier, later in zip(starts, starts[1:], strict=False)]
    return result, gaps


# --------------------------------------------------------------------------------------------------


def percentile(values: Sequence[float], percent: float) -> float:
    """The ``percent`` percentile, interpolated between the closest ranks."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * percent / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def run(options: argparse.Namespace) -> list[Figure]:
    if options.latency_seconds < 1 or options.latency_distinct < 1:
        raise ValueError("--latency-seconds and --latency-distinct must be at least 1")
    if options.latency_burst < 0 or (options.latency_burst and options.latency_after_burst < RECOVERY_RUN):
        raise ValueError(f"--latency-burst must be 0 or more, --latency-after-burst at least {RECOVERY_RUN}")
    with (
        tempfile.TemporaryDirectory(prefix="photon-archive-bench-") as workdir,
        local_stack(Path(workdir), options.postgres, bucket_events=True) as stack,
    ):
        daemon = Daemon.create(Path(workdir), stack.settings)
        try:
            return _measure(options, stack, daemon)
        finally:
            daemon.stop()


def _measure(options: argparse.Namespace, stack: Stack, daemon: Daemon) -> list[Figure]:
    settings = stack.settings
    began = time.perf_counter()
    today = datetime.now(UTC).date()
    count = int(options.latency_seconds)
    measured = exposures(today, range(FIRST_COUNTER, FIRST_COUNTER + count), options.latency_distinct)
    (warm_up,) = exposures(today, [WARM_UP_COUNTER], 1)
    cold_import = import_seconds()
    print(
        f"sample: {count} exposures ({options.latency_distinct} distinct) for {today}; "
        f"a fresh interpreter imports {DEFINITIONS_MODULE} in {cold_import:.2f} s",
        flush=True,
    )

    daemon.start()
    watch = CatalogWatch(settings).start()
    try:
        # The daemon loads the code and ticks its sensors; one exposure all the way through says the
        # whole path (sensor, queue, run launcher, run process, catalog) is up before measuring.
        started = time.perf_counter()
        measuring_from = time.time()
        watch.await_row(warm_up)
        upload(settings.bucket, warm_up)
        while warm_up.seen is None:
            daemon.check_alive()
            if time.perf_counter() - started > 240:
                raise RuntimeError(
                    f"the warm-up exposure's row did not appear in 240 s:\n{daemon.log_tail()}"
                )
            time.sleep(POLL_S)
        print(
            f"daemon up: the warm-up exposure's row appeared {time.perf_counter() - started:.1f} s after the "
            f"daemon started ({warm_up.latency:.1f} s after its upload)",
            flush=True,
        )
        time.sleep(10)  # let the warm-up's thumbnail run and its events go by
        print(busy_warning(), flush=True)

        # One exposure per second, on a fixed schedule.
        emulator_pid = stack.emulator.process.pid  # type: ignore[union-attr]
        cpu_before = (machine_cpu_seconds()[0], process_cpu_seconds(emulator_pid))
        start = time.monotonic()
        lag = 0.0
        for index, exposure in enumerate(measured):
            delay = start + index - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            lag = max(lag, -delay)
            watch.await_row(exposure)
            upload(settings.bucket, exposure)
            if index % 30 == 29:
                daemon.check_alive()
                print(f"  {index + 1} exposures uploaded, {watch.pending()} rows awaited", flush=True)
        uploaded = time.monotonic()
        print(
            f"upload: {count} exposures in {uploaded - start:.1f} s (at most {lag:.2f} s behind schedule)",
            flush=True,
        )
        while watch.pending() and time.monotonic() - uploaded < options.latency_settle:
            daemon.check_alive()
            time.sleep(POLL_S)
        print(f"last row {time.monotonic() - uploaded:.1f} s after the last upload", flush=True)
        window = time.monotonic() - start
        busy = (machine_cpu_seconds()[0] - cpu_before[0]) / window
        emulator = (process_cpu_seconds(emulator_pid) - cpu_before[1]) / window
        print(
            f"CPU while measuring ({window:.0f} s): the machine {busy:.2f} of {os.cpu_count()} cores busy, "
            f"of which the emulator {emulator:.2f}",
            flush=True,
        )
        burst = Burst.of(today, options) if options.latency_burst else None
        if burst is not None:
            burst.upload(settings.bucket, watch, daemon, options.latency_settle)
    finally:
        watch.stop()
    print(backlog(measured), flush=True)
    missing = [exposure.base_filename for exposure in measured if exposure.seen is None]
    if missing:
        raise RuntimeError(
            f"{len(missing)} of {count} exposures have no images row {options.latency_settle:.0f} s "
            f"after the last upload, e.g. {missing[:3]}\n{daemon.log_tail()}"
        )

    latencies = [exposure.latency for exposure in measured if exposure.latency is not None]
    p50, p95, worst = percentile(latencies, 50), percentile(latencies, 95), max(latencies)
    with daemon.instance() as instance:
        parts, gaps = breakdown(instance, settings, measured, measuring_from)
    total = time.perf_counter() - began
    print(report(latencies, parts, gaps, cold_import, polls=watch.polls))
    recovery = burst.recovery_s(p50) if burst is not None else None
    if burst is not None:
        print(burst.report(p50, recovery), flush=True)
    print(f"latency benchmark: {total:.0f} s in all", flush=True)

    conditions = {
        "exposures": count,
        "seconds_between_exposures": 1,
        "poll_seconds": POLL_S,
        "max_s": round(worst, 2),
        "phase_medians_s": {
            phase: round(statistics.median(values), 2) for phase, values in parts.phases.items() if values
        },
        "first_quarter_latency_median_s": round(
            statistics.median([e.latency for e in measured[: max(count // 4, 1)] if e.latency is not None]), 2
        ),
        "event_sensor_tick_gap_median_s": round(statistics.median(gaps), 2) if gaps else None,
        "dagster_floor_median_s": round(statistics.median(parts.floor), 2) if parts.floor else None,
        "dagster_floor_p95_s": round(percentile(parts.floor, 95), 2) if parts.floor else None,
        "latency_without_sensor_wait_median_s": (
            round(statistics.median(parts.without_wait), 2) if parts.without_wait else None
        ),
        "machine_busy_cores": round(busy, 2),
        "benchmark_seconds": round(total, 1),
    }
    figures = [
        Figure("latency_p50_s", p50, "s", P50_GOAL, conditions),
        Figure("latency_p95_s", p95, "s", P95_GOAL, conditions),
    ]
    if burst is not None:
        burst_conditions = {
            "burst_exposures": len(burst.burst),
            "burst_seconds": BURST_SECONDS,
            "single_exposures_after": len(burst.after),
            "steady_p50_s": round(p50, 2),
            "recovered_when": f"{RECOVERY_RUN} singles in a row, median <= {RECOVERY_SLACK:g} x steady p50",
            "burst_latency_max_s": round(max(e.latency for e in burst.burst if e.latency is not None), 2),
        }
        # Never back within the window: the whole window, a figure the goal fails on, if the window is
        # longer than the goal; a shorter one cannot tell, and gives no figure.
        if recovery is not None:
            figures.append(Figure("burst_recovery_s", recovery, "s", RECOVERY_GOAL, burst_conditions))
        elif burst.window_s() > RECOVERY_LIMIT_S:
            figures.append(Figure("burst_recovery_s", burst.window_s(), "s", RECOVERY_GOAL, burst_conditions))
        else:
            print(
                f"burst_recovery_s not measured: {burst.window_s():.0f} s of singles cannot tell", flush=True
            )
    return figures


@dataclass
class Burst:
    """Many exposures at once, then single ones, each second, to see when the latency is back."""

    burst: list[Exposure]
    after: list[Exposure]
    burst_end: float | None = None  # epoch seconds, when the burst's last upload ended

    @classmethod
    def of(cls, night: date, options: argparse.Namespace) -> Burst:
        count, singles = options.latency_burst, int(options.latency_after_burst)
        return cls(
            exposures(
                night, range(BURST_FIRST_COUNTER, BURST_FIRST_COUNTER + count), options.latency_distinct
            ),
            exposures(
                night,
                range(AFTER_BURST_FIRST_COUNTER, AFTER_BURST_FIRST_COUNTER + singles),
                options.latency_distinct,
            ),
        )

    def upload(self, bucket: str, watch: CatalogWatch, daemon: Daemon, settle_s: float) -> None:
        start = time.monotonic()

        def send(index: int) -> None:
            delay = start + index * BURST_SECONDS / len(self.burst) - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            watch.await_row(self.burst[index])
            upload(bucket, self.burst[index])

        with ThreadPoolExecutor(BURST_WORKERS) as pool:
            list(pool.map(send, range(len(self.burst))))
        self.burst_end = time.time()
        print(f"burst: {len(self.burst)} exposures in {time.monotonic() - start:.1f} s", flush=True)
        singles_start = time.monotonic()
        for index, exposure in enumerate(self.after):
            delay = singles_start + index - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            watch.await_row(exposure)
            upload(bucket, exposure)
            if index % 30 == 29:
                daemon.check_alive()
                print(
                    f"  {index + 1} single exposures after the burst, {watch.pending()} rows awaited",
                    flush=True,
                )
        uploaded = time.monotonic()
        while watch.pending() and time.monotonic() - uploaded < settle_s:
            daemon.check_alive()
            time.sleep(POLL_S)

    def window_s(self) -> float:
        last = self.after[-1].txt_end if self.after else None
        return (last or time.time()) - (self.burst_end or time.time())

    def recovery_s(self, steady_p50: float) -> float | None:
        """Seconds from the burst's end to the first single exposure that begins ``RECOVERY_RUN`` in a
        row whose median latency is at most ``RECOVERY_SLACK`` times the steady median; None if none."""
        assert self.burst_end is not None
        for index in range(len(self.after) - RECOVERY_RUN + 1):
            run = self.after[index : index + RECOVERY_RUN]
            values = [e.latency for e in run if e.latency is not None]
            if len(values) < len(run):
                continue
            if statistics.median(values) <= RECOVERY_SLACK * steady_p50:
                return max(0.0, (run[0].txt_end or 0.0) - self.burst_end)
        return None

    def report(self, steady_p50: float, recovery: float | None) -> str:
        burst = [e.latency for e in self.burst if e.latency is not None]
        after = [e.latency for e in self.after if e.latency is not None]
        lines = [
            "",
            f"burst: {len(self.burst)} exposures in {BURST_SECONDS:.0f} s, then {len(self.after)} singles:",
            f"  the burst's latency: p50 {percentile(burst, 50):.2f} s, max {max(burst):.2f} s"
            if burst
            else "  the burst: no rows",
        ]
        if after:
            lines.append(
                f"  single exposures after it: p50 {percentile(after, 50):.2f} s, max {max(after):.2f} s"
            )
        lines.append(
            f"  back to the steady p50 ({steady_p50:.2f} s) {recovery:.1f} s after the burst "
            f"(goal {RECOVERY_GOAL} s)"
            if recovery is not None
            else f"  not back to the steady p50 ({steady_p50:.2f} s) within {self.window_s():.0f} s"
        )
        return "\n".join(lines)


def backlog(measured: Sequence[Exposure]) -> str:
    """Latency by quarter of the upload window: growing quarters mean the ingest fell behind the uploads."""
    quarter = max(len(measured) // 4, 1)
    parts = []
    for start in range(0, len(measured), quarter):
        chunk = measured[start : start + quarter]
        values = [exposure.latency for exposure in chunk if exposure.latency is not None]
        missing = len(chunk) - len(values)
        median = f"{statistics.median(values):.1f} s" if values else "-"
        parts.append(
            f"{start + 1}-{start + len(chunk)}: {median}" + (f" ({missing} rows missing)" if missing else "")
        )
    return "median latency by order of upload: " + ", ".join(parts)


def report(
    latencies: Sequence[float], parts: Breakdown, gaps: Sequence[float], cold_import: float, polls: int
) -> str:
    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    lines = [
        "",
        f"latency, .txt upload end -> images row seen, {len(latencies)} exposures:",
        f"  p50 {p50:.2f} s   p95 {p95:.2f} s   max {max(latencies):.2f} s   min {min(latencies):.2f} s "
        f"(goals p50 {P50_GOAL} s, p95 {P95_GOAL} s)",
        f"  the legacy Lambda took ~{LEGACY_LAMBDA_S:.0f} s: p50 is {p50 / LEGACY_LAMBDA_S:.1f} x that",
        "",
        f"where the time goes, per exposure (the run that ingested its .txt; "
        f"{len(latencies) - parts.unexplained} of {len(latencies)} traced):",
        f"  {'phase':<58} {'median':>7} {'p95':>7} {'max':>7}   {'median, first quarter':>21}",
    ]
    for phase in PHASES:
        values, early = parts.phases[phase], parts.early[phase]
        if values:
            lines.append(
                f"  {phase:<58} {statistics.median(values):6.2f}s {percentile(values, 95):6.2f}s "
                f"{max(values):6.2f}s   {statistics.median(early) if early else float('nan'):20.2f}s"
            )
    lines.append("  (medians of phases do not add up to the median latency; each exposure's phases do)")
    if parts.floor:
        lines.append(
            f"  Dagster's floor, what is left once the sensor's wait is gone (run created -> row): median "
            f"{statistics.median(parts.floor):.2f} s, p95 {percentile(parts.floor, 95):.2f} s; with the tick "
            f"(picked up -> row): median {statistics.median(parts.without_wait):.2f} s, "
            f"p95 {percentile(parts.without_wait, 95):.2f} s"
        )
    if parts.sensors:
        lines.append("  requested by: " + ", ".join(f"{name} {n}" for name, n in parts.sensors.most_common()))
    if gaps:
        lines.append(
            f"  event-queue sensor ticks: {len(gaps) + 1}, every {statistics.median(gaps):.1f} s "
            f"(median gap; min {min(gaps):.1f} s, max {max(gaps):.1f} s); "
            f"{sum(gap >= 7.5 for gap in gaps)} of {len(gaps)} gaps were 7.5 s or more"
        )
    if parts.op_seconds:
        lines.append(
            f"  ingest runs: {len(parts.op_seconds)}, {statistics.median(parts.objects_per_run):.0f} objects "
            f"each (median); ingest op {statistics.median(parts.op_seconds):.2f} s, whole run "
            f"{statistics.median(parts.run_seconds):.2f} s (medians)"
        )
    lines.append(
        f"  a fresh interpreter imports the code location in {cold_import:.2f} s; the catalog was polled "
        f"{polls} times, every {POLL_S} s (adds ~{POLL_S / 2:.1f} s on average)"
    )
    return "\n".join(lines)
