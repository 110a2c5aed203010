"""What the benchmarks share: figures with their goals, ``bench/results.json``, the local stack they
measure on, and cheap accounting of where the time goes.

Benchmarks measure the real parts (moto's server as a child process, a fresh PostgreSQL database, a
temporary Dagster instance), because a figure measured on a fake says nothing about the system.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dagster import DagsterInstance, instance_for_test
from sqlalchemy.engine import make_url

from photon_archive.aws.clients import client
from photon_archive.catalog.engine import engine_for
from photon_archive.catalog.schema import upgrade
from photon_archive.provision import provision, set_bucket_notifications
from photon_archive.settings import Settings
from photon_archive_tests.postgres import create_database, drop_database
from photon_archive_workshop.emulator import Emulator

RESULTS_PATH = Path(__file__).parent / "results.json"
# The machine's PostgreSQL (trust auth), the same server the tests use.
DEFAULT_POSTGRES_URL = os.environ.get(
    "PHOTON_ARCHIVE_TEST_DATABASE_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
)

_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    ">=": lambda value, bound: value >= bound,
    "<=": lambda value, bound: value <= bound,
    ">": lambda value, bound: value > bound,
    "<": lambda value, bound: value < bound,
}


# --------------------------------------------------------------------------------------------------
# Figures and results.json


@dataclass(frozen=True)
class Figure:
    """One measured number, with the goal it is held to (``">= 300"``) where the project sets one.

    ``conditions`` says what it was measured on (exposures, batch size …), so a quick run's figure is
    never mistaken for a full run's.
    """

    name: str
    value: float
    unit: str
    goal: str | None = None
    conditions: dict[str, Any] = field(default_factory=dict)

    def met(self) -> bool | None:
        return goal_met(self.value, self.goal)

    def entry(self, benchmark: str, measured_at: str) -> dict[str, Any]:
        return {
            "value": round(self.value, 3),
            "goal": self.goal,
            "unit": self.unit,
            "met": self.met(),
            "benchmark": benchmark,
            "measured_at": measured_at,
            "conditions": self.conditions,
        }


def goal_met(value: float | None, goal: str | None) -> bool | None:
    """Whether ``value`` meets ``goal`` (``">= 300"``); None when there is no goal or no value."""
    if goal is None or value is None:
        return None
    operator, _, bound = goal.partition(" ")
    return _COMPARISONS[operator](value, float(bound))


def load_results(path: Path = RESULTS_PATH) -> dict[str, Any]:
    return dict(json.loads(path.read_text())) if path.exists() else {}


def merge_results(benchmark: str, figures: list[Figure], path: Path = RESULTS_PATH) -> dict[str, Any]:
    """Write ``figures`` into ``path``: other benchmarks' figures stay, this one's are replaced whole."""
    results = load_results(path)
    results = {name: entry for name, entry in results.items() if entry.get("benchmark") != benchmark}
    measured_at = datetime.now(UTC).isoformat(timespec="seconds")
    results.update({figure.name: figure.entry(benchmark, measured_at) for figure in figures})
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(dict(sorted(results.items())), indent=2) + "\n")
    temporary.replace(path)
    return results


def results_table(
    results: dict[str, Any],
    fresh: Collection[str] = (),
    goals: Mapping[str, tuple[str, str]] | None = None,
) -> str:
    """The figures as a text table; ``*`` marks the ones this invocation measured.

    ``goals`` (figure -> (benchmark, goal)) are the goals the benchmarks hold figures to now: each
    gets a row even when ``results`` lacks it (a benchmark not run yet), so a missing figure reads as
    "not measured" rather than vanishing, and a stored figure is judged against today's goal, not
    the one it was written with. The last line counts goals met, missed and not measured.
    """
    entries = {name: dict(entry) for name, entry in results.items()}
    for name, (benchmark, goal) in (goals or {}).items():
        entry = entries.setdefault(name, {"benchmark": benchmark, "value": None})
        entry["goal"] = goal
        entry["met"] = goal_met(entry["value"], goal)
    rows = [("figure", "value", "unit", "goal", "met", "benchmark", "measured at")]
    verdicts = {"yes": 0, "NO": 0, "not measured": 0}
    for name, entry in sorted(entries.items(), key=lambda item: (item[1].get("benchmark", ""), item[0])):
        value = entry["value"]
        met = {True: "yes", False: "NO", None: ""}[entry.get("met")]
        if value is None:
            met = "not measured"
        if entry.get("goal"):
            verdicts[met] += 1
        rows.append(
            (
                ("* " if name in fresh else "  ") + name,
                _formatted(value),
                entry.get("unit", ""),
                entry.get("goal") or "",
                met,
                entry.get("benchmark", ""),
                entry.get("measured_at", ""),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(
            cell.rjust(w) if i == 1 else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append(
        f"\ngoals: {verdicts['yes']} met, {verdicts['NO']} not met, {verdicts['not measured']} not measured"
    )
    return "\n".join(line.rstrip() for line in lines)


def _formatted(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.1f}" if abs(value) >= 10 else f"{value:.3g}"


# --------------------------------------------------------------------------------------------------
# The local stack


@dataclass
class Stack:
    """The emulator and catalog a benchmark runs on; ``settings`` point the project at both."""

    settings: Settings
    emulator: Emulator
    workdir: Path


@contextmanager
def pointing_at(emulator: Emulator) -> Iterator[None]:
    """boto3 pointed at ``emulator`` through the standard environment for the duration, as the local
    stack does; the project's shared clients are made per endpoint."""
    saved = {name: os.environ.get(name) for name in [*emulator.environment(), "AWS_PROFILE"]}
    os.environ.update(emulator.environment())
    os.environ.pop("AWS_PROFILE", None)
    try:
        yield
    finally:
        for variable, value in saved.items():
            if value is None:
                os.environ.pop(variable, None)
            else:
                os.environ[variable] = value


@contextmanager
def local_stack(
    workdir: Path, postgres_url: str = DEFAULT_POSTGRES_URL, bucket_events: bool = True
) -> Iterator[Stack]:
    """moto's server on loopback and a fresh, migrated PostgreSQL database, both gone afterwards.

    boto3 is pointed at the emulator through the standard environment for the duration, as the
    project's own local stack does. ``bucket_events=False`` turns the bucket's event notifications
    off for a benchmark that hands objects to the job itself: moto delivers each event inside the
    PUT, at a cost that grows with the number of messages waiting in the queue (its SendMessage
    recounts the queue), which AWS does not charge the uploader and no sensor drains here.
    """
    emulator = Emulator(log_path=workdir / "moto.log").start()
    try:
        admin_url = make_url(postgres_url)
        name = f"photon_archive_bench_{uuid.uuid4().hex[:12]}"
        database_url = create_database(admin_url, name).render_as_string(hide_password=False)
        try:
            upgrade(database_url)
            settings = Settings(state_dir=str(workdir / "state"), database_url=database_url)
            with pointing_at(emulator):
                provision(settings)
                if not bucket_events:
                    set_bucket_notifications(settings, enabled=False)
                yield Stack(settings, emulator, workdir)
        finally:
            engine_for(database_url).dispose()
            drop_database(admin_url, name)
    finally:
        emulator.stop()


@contextmanager
def production_instance(postgres_url: str = DEFAULT_POSTGRES_URL) -> Iterator[DagsterInstance]:
    """A Dagster instance whose run, event and schedule storage is PostgreSQL, as in production
    (``deploy/dagster.yaml``), in a fresh database of ``postgres_url``'s server, gone afterwards.

    A run writes each of its events to the instance as it happens; on the SQLite storage of a test
    instance those writes are the run process's own CPU, on PostgreSQL (as deployed) mostly the
    server's."""
    admin_url = make_url(postgres_url)
    name = f"photon_archive_bench_dagster_{uuid.uuid4().hex[:12]}"
    storage_url = create_database(admin_url, name).set(drivername="postgresql")
    try:
        postgres = {"postgres_url": storage_url.render_as_string(hide_password=False)}
        overrides = {"storage": {"postgres": postgres}}
        with instance_for_test(overrides=overrides) as instance:
            yield instance
    finally:
        drop_database(admin_url, name)


# --------------------------------------------------------------------------------------------------
# Where the time goes


class Phases:
    """Seconds and calls per labelled piece of work, summed over every thread that did it.

    ``instrument`` swaps a function or method for a timed copy until ``restore``: the project's code
    stays as it is and pays a clock read per call. Work done in a thread pool adds up to more than
    the wall time it took; the report says which labels are thread time.
    """

    def __init__(self) -> None:
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.calls: defaultdict[str, int] = defaultdict(int)
        self._lock = threading.Lock()
        self._patched: list[tuple[object, str, object]] = []

    def add(self, label: str, seconds: float, calls: int = 1) -> None:
        with self._lock:
            self.seconds[label] += seconds
            self.calls[label] += calls

    @contextmanager
    def section(self, label: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add(label, time.perf_counter() - started)

    def instrument(
        self, owner: object, attribute: str, label: str, clock: Callable[[], float] = time.perf_counter
    ) -> None:
        """Add what ``clock`` advances during every call of ``owner.attribute`` (a module's function or a
        class's method) to ``label``: wall seconds by default, or e.g. a process's CPU seconds."""
        original = getattr(owner, attribute)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = clock()
            try:
                return original(*args, **kwargs)
            finally:
                self.add(label, clock() - started)

        self._patched.append((owner, attribute, original))
        setattr(owner, attribute, timed)

    def restore(self) -> None:
        while self._patched:
            owner, attribute, original = self._patched.pop()
            setattr(owner, attribute, original)

    def report(self, title: str, total: float, order: list[str] | None = None) -> str:
        labels = order or sorted(self.seconds, key=lambda label: -self.seconds[label])
        lines = [title]
        for label in labels:
            if label not in self.seconds:
                continue
            seconds = self.seconds[label]
            share = 100.0 * seconds / total if total else 0.0
            lines.append(f"  {label:<58} {seconds:8.2f} s {share:5.1f} %  {self.calls[label]:>7,} calls")
        return "\n".join(lines)


def _clock_ticks() -> int:
    return os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a running process (Linux ``/proc``)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _clock_ticks()


def machine_cpu_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, summed over its cores."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / _clock_ticks(), sum(values) / _clock_ticks()


@dataclass
class CpuMeter:
    """CPU spent inside ``measuring()`` blocks by this process, the emulator and the machine as a whole.

    On a two-core machine this says what bounds a rate: a process near one core of CPU per wall
    second is saturated (a Python process cannot use more than one for Python code); the machine
    near two means everything is competing for the same cores. "the rest" is PostgreSQL plus
    anything else running on the machine at the time.
    """

    emulator_pid: int
    wall: float = 0.0
    own: float = 0.0
    emulator: float = 0.0
    machine: float = 0.0

    @contextmanager
    def measuring(self) -> Iterator[None]:
        own, emulator, machine, wall = self._now()
        try:
            yield
        finally:
            own_now, emulator_now, machine_now, wall_now = self._now()
            self.own += own_now - own
            self.emulator += emulator_now - emulator
            self.machine += machine_now - machine
            self.wall += wall_now - wall

    def _now(self) -> tuple[float, float, float, float]:
        own = os.times()
        return (
            own.user + own.system,
            process_cpu_seconds(self.emulator_pid),
            machine_cpu_seconds()[0],
            time.perf_counter(),
        )

    def report(self, title: str, objects: int = 0) -> str:
        """The CPU measured so far; with ``objects``, also as milliseconds of CPU per object."""
        wall = self.wall or 1e-9
        rest = max(self.machine - self.own - self.emulator, 0.0)

        def line(label: str, seconds: float) -> str:
            text = f"  {label:<52} {seconds:8.2f} s CPU = {seconds / wall:4.2f} cores"
            return text + (f" = {1000 * seconds / objects:5.1f} ms per object" if objects else "")

        cores = os.cpu_count() or 1
        lines = [
            f"{title}: {self.wall:.2f} s wall on {cores} cores",
            line("this process (Dagster, project code, drivers)", self.own),
            line("AWS emulator (moto server)", self.emulator),
            line("the rest (PostgreSQL, anything else on the machine)", rest),
            line("machine total", self.machine),
        ]
        if objects and self.machine:
            ceiling = cores * objects / self.machine
            lines.append(f"  so with every core busy this machine could do at most ~{ceiling:,.0f} objects/s")
        return "\n".join(lines)


def busy_warning(seconds: float = 2.0) -> str:
    """How busy the machine is before measuring: other work on the same cores skews every figure."""
    busy_before, total_before = machine_cpu_seconds()
    time.sleep(seconds)
    busy_after, total_after = machine_cpu_seconds()
    cores = os.cpu_count() or 1
    busy = (busy_after - busy_before) / (total_after - total_before) * cores
    line = f"machine before measuring: {busy:.2f} of {cores} cores busy"
    if busy > 0.25:
        line += " - other work is running; the figures below share the machine with it"
    return line


def drain_queue(queue_name: str) -> int:
    """Take every waiting message off an SQS queue, as the service that reads it would; returns how many.

    Benchmarks call it between measured stretches, untimed: moto's SendMessage recounts the whole
    queue for every message, so a backlog nobody consumes would charge each later send in proportion
    to it, a cost AWS does not have. (A consumer running alongside does not help: moto's
    ReceiveMessage scans the queue too, and competes for the same cores.)
    """
    sqs = client("sqs")
    url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    taken = 0
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
        sqs.delete_message_batch(QueueUrl=url, Entries=entries)
        taken += len(messages)
    return taken
