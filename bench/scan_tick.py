"""Prefix-scan tick: one tick that finds 100 new objects, in an archive of 1,000 and of 100,000 objects.

Invariant 4 says a sensor tick costs O(new objects), never a relisting of the whole bucket. This
benchmark holds the prefix-scan sensor (``s3_prefix_scan``) to it: for each archive size N it fills
the bucket and the object ledger with N objects already ingested, warms the sensor's cursor the way
production would have, uploads 100 new objects on the current night and times the one tick that
finds them, run as the daemon runs it (``build_sensor_context`` with the deployment's resources).

The archive's layout keeps the nightly rate fixed and varies its depth: 5 sites x 2 instruments,
``--scan-per-night`` objects per source and night, as many past nights as N needs (5 for 1,000,
500 for 100,000), the last of them yesterday. So both archives hold the same recent nights, which a
tick lists whatever N is, and differ in their history, which a tick must not pay for.

The emulator. 100,000 PUTs through moto's server take ~13 minutes (it answers ~130 PUT/s from a
thread pool, one Python process on two cores), so the benchmark runs moto's server with a seeding
entry point that stores the history straight into moto's S3 backend (the same objects a PUT stores;
the 100 new objects are real PUTs). And moto lists a prefix by scanning and sorting every key of the
bucket: each ListObjectsV2 costs O(bucket), where S3 serves a prefix from its index at a cost that
follows the keys returned. So every tick is timed twice on the same state: with moto's own listing
(``stock``), and with a sorted index of the bucket's keys answering ListObjectsV2 (``indexed``: the
same keys, checked equal to moto's, at S3's complexity). The goal figure is the indexed one: it
measures what the project's code asks of S3 and of the ledger; the stock figures say how much of a
tick on the emulator is moto scanning.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from dagster import DagsterInstance, SensorResult, build_sensor_context, instance_for_test
from sqlalchemy import text
from sqlalchemy.engine import make_url

import photon_archive.ingest.delivery as delivery_module
from bench.common import (
    Figure,
    Stack,
    busy_warning,
    create_database,
    drop_database,
    pointing_at,
    process_cpu_seconds,
)
from photon_archive.aws.clients import client
from photon_archive.catalog.engine import engine_for
from photon_archive.catalog.models import ObjectState
from photon_archive.catalog.schema import upgrade
from photon_archive.catalog.store import record_objects
from photon_archive.defs.resources import Delivery, resources_for
from photon_archive.defs.sensors.prefix_scan import s3_prefix_scan
from photon_archive.ingest.prefix_scan import ScanCursor
from photon_archive.provision import provision, set_bucket_notifications
from photon_archive.records import LedgerRecord
from photon_archive.settings import Settings
from photon_archive_workshop.emulator import LOOPBACK, Emulator

RATIO_GOAL = "<= 2"
GOALS = {"scan_tick_ratio_100k_vs_1k": RATIO_GOAL}
SITES = ("ecs", "mrc", "saf", "sro", "tst")
INSTRUMENTS = ("kb001ms", "sq002ms")
FILES = ("EX00.txt", "EX01.fits.bz2", "EX10.fits.fz", "EX10.jpg")  # one exposure, in upload order
NEW_OBJECTS = 100  # 25 exposures on tonight's night, 5 from each site's first instrument
BODY = b"photon"  # every stored object's body: the sensor reads names, sizes and etags, never bodies
ETAG = hashlib.md5(BODY).hexdigest()  # what S3 (and moto) report as a single-part object's etag
LEDGER_CHUNK = 5000
SEED_CHUNK = 10_000
STOCK, INDEXED = "stock", "indexed"


def add_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--scan-small", type=int, default=1000, help="objects in the small archive (default 1000)"
    )
    group.add_argument(
        "--scan-large", type=int, default=100_000, help="objects in the large archive (default 100000)"
    )
    group.add_argument(
        "--scan-per-night",
        type=int,
        default=20,
        help="objects per source and night in both archives, a multiple of 4 (default 20)",
    )
    group.add_argument(
        "--scan-repeats",
        type=int,
        default=5,
        help="times the tick is timed per archive and listing, the median is kept (default 5)",
    )


# --------------------------------------------------------------------------------------------------
# moto's server, with a seeding entry point and an optional index for ListObjectsV2

SEEDABLE_SERVER = r'''
import bisect, json, sys, urllib.parse
from werkzeug.serving import run_simple
from moto.core import DEFAULT_ACCOUNT_ID
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from moto.s3.models import FakeDeleteMarker, S3Backend, s3_backends

INDEXED = {"on": False}
NAMES = {}  # bucket name -> its key names, sorted
stock_list_objects_v2 = S3Backend.list_objects_v2
stock_put_object = S3Backend.put_object


def names_of(bucket):
    names = NAMES.get(bucket.name)
    if names is None or len(names) != len(bucket.keys):
        names = NAMES[bucket.name] = sorted(bucket.keys.keys())
    return names


def put_object(self, bucket_name, key_name, *args, **kwargs):
    key = stock_put_object(self, bucket_name, key_name, *args, **kwargs)
    names = NAMES.get(bucket_name)
    if names is not None:
        at = bisect.bisect_left(names, key_name)
        if at == len(names) or names[at] != key_name:
            names.insert(at, key_name)
    return key


def list_objects_v2(self, bucket, prefix, delimiter, continuation_token, start_after, max_keys):
    """moto's result, found by bisecting the sorted names instead of scanning every key."""
    if not INDEXED["on"] or delimiter:
        return stock_list_objects_v2(
            self, bucket, prefix, delimiter, continuation_token, start_after, max_keys
        )
    names = names_of(bucket)
    prefix = prefix or ""
    after = self._pagination_tokens.get(continuation_token) if continuation_token else start_after
    at = bisect.bisect_left(names, prefix)
    if after:
        at = max(at, bisect.bisect_right(names, after))
    found = []
    while at < len(names) and names[at].startswith(prefix) and len(found) <= max_keys:
        key = bucket.keys[names[at]]
        if not isinstance(key, FakeDeleteMarker):
            found.append(key)
        at += 1
    return self._truncate_result(found, max_keys)


S3Backend.put_object = put_object
S3Backend.list_objects_v2 = list_objects_v2
moto_app = DomainDispatcherApplication(create_backend_app)


def answer(start_response, value):
    body = json.dumps(value).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def app(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path == "/_bench/seed" and environ.get("REQUEST_METHOD") == "POST":
        spec = json.loads(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)))
        backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
        body = spec["body"].encode()
        for key in spec["keys"]:
            backend.put_object(spec["bucket"], key, body, disable_notification=True)
        return answer(start_response, {"objects": len(backend.get_bucket(spec["bucket"]).keys)})
    if path == "/_bench/listing" and environ.get("REQUEST_METHOD") == "POST":
        query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
        INDEXED["on"] = query.get("indexed", ["0"])[0] == "1"
        return answer(start_response, {"indexed": INDEXED["on"]})
    return moto_app(environ, start_response)


run_simple(sys.argv[1], int(sys.argv[2]), app, threaded=True, request_handler=MotoRequestHandler)
'''


@dataclass
class SeedableEmulator(Emulator):
    """moto's server (``moto.server``'s own app and request handler) plus two benchmark endpoints:
    ``/_bench/seed`` stores objects straight into moto's S3 backend, ``/_bench/listing`` switches
    ListObjectsV2 between moto's scan and a sorted index of the bucket's keys."""

    def command(self) -> list[str]:
        return [sys.executable, "-c", SEEDABLE_SERVER, LOOPBACK, str(self.port)]

    def _post(self, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        data = json.dumps(payload or {}).encode()
        request = urllib.request.Request(f"{self.endpoint_url}{path}", data=data, method="POST")
        with urllib.request.urlopen(request, timeout=600) as response:
            answer: dict[str, Any] = json.loads(response.read())
        return answer

    def seed(self, bucket: str, keys: Sequence[str]) -> int:
        """Store ``keys`` (each with ``BODY``); returns how many objects the bucket then holds."""
        objects = 0
        for start in range(0, len(keys), SEED_CHUNK):
            chunk = list(keys[start : start + SEED_CHUNK])
            objects = int(
                self._post("/_bench/seed", {"bucket": bucket, "keys": chunk, "body": BODY.decode()})[
                    "objects"
                ]
            )
        return objects

    def listing(self, mode: str) -> None:
        self._post(f"/_bench/listing?indexed={int(mode == INDEXED)}")


@contextmanager
def seeded_stack(workdir: Path, postgres_url: str) -> Iterator[Stack]:
    """``bench.common.local_stack`` on the seedable emulator, with the bucket's events off: only the
    prefix scan looks at the bucket here, and no sensor drains the event queue."""
    emulator = SeedableEmulator(log_path=workdir / "moto.log").start()
    try:
        admin_url = make_url(postgres_url)
        name = f"photon_archive_bench_{uuid.uuid4().hex[:12]}"
        database_url = create_database(admin_url, name).render_as_string(hide_password=False)
        try:
            upgrade(database_url)
            settings = Settings(state_dir=str(workdir / "state"), database_url=database_url)
            with pointing_at(emulator):
                provision(settings)
                set_bucket_notifications(settings, enabled=False)
            yield Stack(settings, emulator, workdir)
        finally:
            engine_for(database_url).dispose()
            drop_database(admin_url, name)
    finally:
        emulator.stop()


# --------------------------------------------------------------------------------------------------
# The archive


@dataclass(frozen=True)
class Layout:
    """Which keys an archive of ``objects`` objects holds, and the new ones of tonight."""

    objects: int
    per_night: int
    today: date
    history: list[str] = field(default_factory=list)  # in key order
    oldest_night: list[str] = field(default_factory=list)  # the history's first night, every source
    new: list[str] = field(default_factory=list)

    @property
    def sources(self) -> list[str]:
        return [f"{site}-{instrument}" for site in SITES for instrument in INSTRUMENTS]

    @property
    def nights(self) -> int:
        return len(self.history) // (len(self.sources) * self.per_night)


def layout(objects: int, per_night: int, today: date) -> Layout:
    sources = [f"{site}-{instrument}" for site in SITES for instrument in INSTRUMENTS]
    exposures_per_night = per_night // len(FILES)
    nights = max(1, round(objects / (len(sources) * per_night)))
    history: list[str] = []
    oldest: list[str] = []
    new: list[str] = []
    for source in sources:
        counter = 0
        for back in range(nights, 0, -1):
            night = (today - timedelta(days=back)).strftime("%Y%m%d")
            for _ in range(exposures_per_night):
                counter += 1
                keys = [f"data/{source}-{night}-{counter:08d}-{suffix}" for suffix in FILES]
                history.extend(keys)
                if back == nights:
                    oldest.extend(keys)
        if source.endswith(INSTRUMENTS[0]):
            tonight = today.strftime("%Y%m%d")
            for _ in range(NEW_OBJECTS // len(FILES) // len(SITES)):
                counter += 1
                new.extend(f"data/{source}-{tonight}-{counter:08d}-{suffix}" for suffix in FILES)
    return Layout(objects, per_night, today, sorted(history), sorted(oldest), sorted(new))


def write_ledger(settings: Settings, keys: Sequence[str]) -> None:
    """Every key as ingested, the way the ingest job leaves it (etag, size, base filename, run id)."""
    now = datetime.now(UTC).replace(tzinfo=None)
    engine = engine_for(settings.database_url)
    for start in range(0, len(keys), LEDGER_CHUNK):
        records = [
            LedgerRecord(
                key=key,
                state=ObjectState.INGESTED.value,
                run_id="bench-history",
                etag=ETAG,
                size=len(BODY),
                last_modified=now,
                prefix="data",
                base_filename=key.removeprefix("data/").rsplit("-", 1)[0],
            )
            for key in keys[start : start + LEDGER_CHUNK]
        ]
        with engine.begin() as connection:
            record_objects(connection, records, now)


def put_new(bucket: str, keys: Sequence[str]) -> None:
    """The new objects arrive as uploads do: real PUTs."""
    s3 = client("s3")
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda key: s3.put_object(Bucket=bucket, Key=key, Body=BODY), keys))


def mark_queued_ingested(settings: Settings) -> int:
    """What a tick queued, marked ingested as its run would have: the ledger is all ingested again."""
    with engine_for(settings.database_url).begin() as connection:
        result = connection.execute(
            text("UPDATE object_ledger SET state = 'ingested', run_id = 'bench-warm' WHERE state = 'queued'")
        )
    return int(result.rowcount)


def forget(settings: Settings, keys: Sequence[str]) -> None:
    """Take ``keys`` out of the ledger again, so the next timed tick finds them new as the first did."""
    with engine_for(settings.database_url).begin() as connection:
        connection.execute(text("DELETE FROM object_ledger WHERE key = ANY(:keys)"), {"keys": list(keys)})


# --------------------------------------------------------------------------------------------------
# One tick, and what it touched


@dataclass
class TickAccount:
    seconds: float = 0.0
    list_calls: int = 0
    keys_listed: int = 0
    list_seconds: float = 0.0
    ledger_keys_looked_up: int = 0
    ledger_rows_found: int = 0
    ledger_lookup_seconds: float = 0.0
    queued_rows_written: int = 0
    queue_write_seconds: float = 0.0
    emulator_cpu: float = 0.0
    own_cpu: float = 0.0
    requested: list[str] = field(default_factory=list)

    @property
    def rest_seconds(self) -> float:
        return self.seconds - self.list_seconds - self.ledger_lookup_seconds - self.queue_write_seconds


class TickMeter:
    """Counts what a tick asks of S3 and of the ledger, where the project's code asks it.

    S3: botocore's events on the shared S3 client, per ListObjectsV2 request (request, emulator,
    response parsing). Ledger: the sensor module's ``known_objects`` and ``claim_objects``, swapped
    for counting copies while measuring.
    """

    def __init__(self) -> None:
        self.account = TickAccount()
        self._lock = threading.Lock()

    @contextmanager
    def measuring(self, emulator_pid: int) -> Iterator[TickAccount]:
        self.account = account = TickAccount()
        s3 = client("s3")
        events = s3.meta.events
        originals = {name: getattr(delivery_module, name) for name in ("known_objects", "claim_objects")}

        def before(context: dict[str, Any], **_: Any) -> None:
            context["bench_started"] = time.perf_counter()

        def after(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
            with self._lock:
                account.list_calls += 1
                account.keys_listed += int(parsed.get("KeyCount", 0))
                account.list_seconds += time.perf_counter() - context.get(
                    "bench_started", time.perf_counter()
                )

        def known_objects(connection: Any, keys: Any) -> Any:
            keys = list(keys)
            started = time.perf_counter()
            found = originals["known_objects"](connection, keys)
            account.ledger_lookup_seconds += time.perf_counter() - started
            account.ledger_keys_looked_up += len(keys)
            account.ledger_rows_found += len(found)
            return found

        def claim(connection: Any, records: Any, known: Any, now: datetime) -> Any:
            records = list(records)
            started = time.perf_counter()
            claimed = originals["claim_objects"](connection, records, known, now)
            account.queue_write_seconds += time.perf_counter() - started
            account.queued_rows_written += len(claimed)
            return claimed

        events.register("before-call.s3.ListObjectsV2", before, unique_id="bench-scan-before")
        events.register("after-call.s3.ListObjectsV2", after, unique_id="bench-scan-after")
        delivery_module.known_objects = known_objects  # type: ignore[assignment]
        delivery_module.claim_objects = claim  # type: ignore[assignment]
        cpu, own = process_cpu_seconds(emulator_pid), time.process_time()
        try:
            yield account
        finally:
            account.emulator_cpu = process_cpu_seconds(emulator_pid) - cpu
            account.own_cpu = time.process_time() - own
            events.unregister("before-call.s3.ListObjectsV2", unique_id="bench-scan-before")
            events.unregister("after-call.s3.ListObjectsV2", unique_id="bench-scan-after")
            for name, original in originals.items():
                setattr(delivery_module, name, original)


def tick(settings: Settings, instance: DagsterInstance, cursor: str | None) -> tuple[SensorResult, float]:
    """One evaluation of the prefix-scan sensor, as the daemon makes it; returns it and its seconds."""
    context = build_sensor_context(instance=instance, resources=resources_for(settings), cursor=cursor)
    started = time.perf_counter()
    result = s3_prefix_scan(context)
    seconds = time.perf_counter() - started
    if not isinstance(result, SensorResult):
        raise RuntimeError(f"the prefix scan returned {result!r}, not a SensorResult")
    return result, seconds


def requested_keys(result: SensorResult) -> list[str]:
    return sorted(
        entry["key"]
        for request in result.run_requests or []
        for entry in request.run_config["ops"]["ingest_objects"]["config"]["objects"]
    )


def sweep_lists_a_full_page(cursor: ScanCursor, history: Sequence[str], page: int) -> bool:
    """Whether the next tick's sweep lists a full page, or the whole prefix when it is smaller than
    one: so neither archive's timed tick gets a sweep page cut short by the end of the prefix."""
    position = cursor.sweep.get("data", "")
    return not position or sum(1 for key in history if key > position) >= page


# --------------------------------------------------------------------------------------------------
# One archive


@dataclass
class Archive:
    """One archive on its own emulator and catalog, its cursor warmed, and the ticks timed on it."""

    plan: Layout
    stack: Stack
    instance: DagsterInstance
    cursor: str | None = None
    setup_seconds: float = 0.0
    warm_ticks: int = 0
    warm_queued: int = 0
    ticks: dict[str, list[TickAccount]] = field(default_factory=lambda: {INDEXED: [], STOCK: []})

    @property
    def objects(self) -> int:
        return len(self.plan.history)

    @property
    def emulator(self) -> SeedableEmulator:
        return self.stack.emulator  # type: ignore[return-value]

    def median(self, mode: str) -> TickAccount:
        accounts = sorted(self.ticks[mode], key=lambda a: a.seconds)
        return accounts[len(accounts) // 2]


def prepare(archive: Archive) -> None:
    """Fill the ledger and the bucket, warm the cursor as production would have, upload tonight's news."""
    plan, settings, emulator = archive.plan, archive.stack.settings, archive.emulator
    print(
        f"\n--- archive of {archive.objects:,} objects: {len(plan.sources)} sources x {plan.nights} nights x "
        f"{plan.per_night} objects, ending {plan.today - timedelta(days=1)}; "
        f"{len(plan.new)} new objects tonight ({plan.today})",
        flush=True,
    )
    setup_began = began = time.perf_counter()
    write_ledger(settings, plan.history)
    seconds = time.perf_counter() - began
    print(f"ledger: {archive.objects:,} ingested rows in {seconds:.1f} s", flush=True)

    def warm_tick() -> None:
        result, _ = tick(settings, archive.instance, archive.cursor)
        archive.cursor, archive.warm_ticks = result.cursor, archive.warm_ticks + 1
        archive.warm_queued += mark_queued_ingested(settings)
        if archive.warm_ticks > 200:
            raise RuntimeError(f"the cursor is not warm after {archive.warm_ticks} ticks: {archive.cursor}")

    # The archive's first night, when the sweep met every source; then the rest of its history.
    emulator.listing(INDEXED)
    began = time.perf_counter()
    emulator.seed(settings.bucket, plan.oldest_night)
    while set(ScanCursor.loads(archive.cursor).sources.get("data", [])) != set(plan.sources):
        warm_tick()
    stored = emulator.seed(settings.bucket, plan.history)
    if stored != archive.objects:
        raise RuntimeError(f"the bucket holds {stored} objects, the archive has {archive.objects}")
    # Production's cursor: the sources known, the sweep somewhere on its way through the history.
    warm_tick()
    while not sweep_lists_a_full_page(ScanCursor.loads(archive.cursor), plan.history, Delivery().sweep_page):
        warm_tick()
    print(
        f"bucket: {stored:,} objects seeded, cursor warmed by {archive.warm_ticks} ticks "
        f"({archive.warm_queued} objects queued by them, marked ingested) in "
        f"{time.perf_counter() - began:.1f} s",
        flush=True,
    )
    check_listing_modes(emulator, settings.bucket, plan, ScanCursor.loads(archive.cursor))
    began = time.perf_counter()
    put_new(settings.bucket, plan.new)
    print(f"new: {len(plan.new)} objects PUT in {time.perf_counter() - began:.1f} s", flush=True)
    archive.setup_seconds = time.perf_counter() - setup_began


def time_tick(archive: Archive, mode: str, meter: TickMeter) -> None:
    """The measured tick: from the warm cursor, it must request exactly the new objects."""
    settings, plan = archive.stack.settings, archive.plan
    archive.emulator.listing(mode)
    with meter.measuring(archive.emulator.process.pid) as account:  # type: ignore[union-attr]
        result, account.seconds = tick(settings, archive.instance, archive.cursor)
    account.requested = requested_keys(result)
    if account.requested != plan.new:
        extra = sorted(set(account.requested) - set(plan.new))[:3]
        missing = sorted(set(plan.new) - set(account.requested))[:3]
        raise RuntimeError(
            f"the tick requested {len(account.requested)} objects, not the {len(plan.new)} new ones "
            f"(extra {extra}, missing {missing})"
        )
    archive.ticks[mode].append(account)
    forget(settings, plan.new)  # the next timed tick starts from the same state


def check_listing_modes(emulator: SeedableEmulator, bucket: str, plan: Layout, cursor: ScanCursor) -> None:
    """The index must answer exactly what moto's scan answers, for the listings a tick makes."""
    yesterday = (plan.today - timedelta(days=1)).strftime("%Y%m%d")
    calls: list[dict[str, Any]] = [
        {"Prefix": f"data/{plan.sources[0]}-{yesterday}-"},
        {"Prefix": f"data/{plan.sources[-1]}-{yesterday}-"},
        {"Prefix": "data/", "StartAfter": cursor.sweep.get("data", ""), "MaxKeys": 1000},
        {"Prefix": "allsky/", "MaxKeys": 1000},
    ]
    s3 = client("s3")

    def keys(call: dict[str, Any]) -> list[str]:
        return [item["Key"] for item in s3.list_objects_v2(Bucket=bucket, **call).get("Contents", [])]

    for call in calls:
        answers = {}
        for mode in (STOCK, INDEXED):
            emulator.listing(mode)
            answers[mode] = keys(call)
        if answers[STOCK] != answers[INDEXED]:
            raise RuntimeError(f"the indexed listing differs from moto's for {call}")
    emulator.listing(INDEXED)


# --------------------------------------------------------------------------------------------------


def describe(result: Archive, mode: str) -> str:
    samples = ", ".join(f"{a.seconds:.3f}" for a in result.ticks[mode])
    a = result.median(mode)
    return (
        f"  {mode:<8} tick {a.seconds:7.3f} s (samples {samples})\n"
        f"           S3: {a.list_calls} ListObjectsV2 calls, {a.keys_listed:,} keys returned, "
        f"{a.list_seconds:.3f} s\n"
        f"           ledger: {a.ledger_keys_looked_up:,} keys looked up, {a.ledger_rows_found:,} rows found, "
        f"{a.ledger_lookup_seconds:.3f} s; {a.queued_rows_written} queued rows written, "
        f"{a.queue_write_seconds:.3f} s\n"
        f"           the rest (sensor code, run requests, Dagster context): {a.rest_seconds:.3f} s\n"
        f"           CPU: this process {a.own_cpu:.2f} s, the emulator {a.emulator_cpu:.2f} s"
    )


def run(options: argparse.Namespace) -> list[Figure]:
    if min(options.scan_small, options.scan_large, options.scan_repeats) < 1 or options.scan_per_night % 4:
        raise ValueError("--scan-small/-large/-repeats must be at least 1, --scan-per-night a multiple of 4")
    began = time.perf_counter()
    today = datetime.now(UTC).date()
    with ExitStack() as resources:
        archives = []
        for objects in (options.scan_small, options.scan_large):
            workdir = Path(
                resources.enter_context(tempfile.TemporaryDirectory(prefix="photon-archive-bench-"))
            )
            archive = Archive(
                layout(objects, options.scan_per_night, today),
                resources.enter_context(seeded_stack(workdir, options.postgres)),
                resources.enter_context(instance_for_test()),
            )
            with pointing_at(archive.emulator):
                prepare(archive)
            archives.append(archive)
        print(busy_warning(), flush=True)
        # Both archives stay up and take turns, tick after tick, as do the two listings: other work
        # on the machine then weighs on every figure alike.
        meter = TickMeter()
        for repeat in range(options.scan_repeats):
            for mode in (INDEXED, STOCK):
                for archive in archives if repeat % 2 == 0 else archives[::-1]:
                    with pointing_at(archive.emulator):
                        time_tick(archive, mode, meter)
    if datetime.now(UTC).date() != today:
        raise RuntimeError(
            "the UTC date changed while measuring: the sensor's recent nights moved under the archives' "
            "layout, so the ticks did not all list the same keys; run the benchmark again"
        )
    small, large = archives

    print("\none prefix-scan tick finding the 100 new objects (median of the repeats):")
    for result in archives:
        print(
            f"archive of {result.objects:,} objects ({result.plan.nights} nights; "
            f"setup {result.setup_seconds:.1f} s, {result.warm_ticks} warm-up ticks):"
        )
        for mode in (INDEXED, STOCK):
            print(describe(result, mode))
    ratios = {mode: large.median(mode).seconds / small.median(mode).seconds for mode in (INDEXED, STOCK)}
    own = [result.median(INDEXED).seconds - result.median(INDEXED).list_seconds for result in archives]
    cpu = [
        statistics.median(t.own_cpu + t.emulator_cpu for t in result.ticks[INDEXED]) for result in archives
    ]
    per_call = [
        1000 * result.median(STOCK).list_seconds / max(result.median(STOCK).list_calls, 1)
        for result in archives
    ]
    print(
        f"\nratio {large.objects:,} vs {small.objects:,} objects: {ratios[INDEXED]:.2f} with S3-like listing "
        f"(goal {RATIO_GOAL}), {ratios[STOCK]:.2f} with moto's own listing.\n"
        f"  The tick's work other than listing (ledger, sensor code): {own[0]:.3f} s and {own[1]:.3f} s, "
        f"{own[1] / max(own[0], 1e-9):.2f} x.\n"
        f"  CPU per tick (this process and the emulator, S3-like listing): {cpu[0]:.2f} s and "
        f"{cpu[1]:.2f} s, {cpu[1] / max(cpu[0], 1e-9):.2f} x; less swayed by other work than wall time.\n"
        f"  With moto's listing a ListObjectsV2 call costs {per_call[0]:.0f} ms in the small archive and "
        f"{per_call[1]:.0f} ms in the large one:\n"
        "  moto scans and sorts every key of the bucket for each call; S3 answers from its index.",
        flush=True,
    )
    total = time.perf_counter() - began
    print(f"scan_tick benchmark: {total:.0f} s in all", flush=True)

    def conditions(mode: str) -> dict[str, Any]:
        return {
            "listing": "sorted index (S3-like)" if mode == INDEXED else "moto's scan of the bucket",
            "objects": [small.objects, large.objects],
            "nights": [small.plan.nights, large.plan.nights],
            "per_source_night": options.scan_per_night,
            "new_objects": NEW_OBJECTS,
            "repeats": options.scan_repeats,
            "tick_seconds": [round(small.median(mode).seconds, 3), round(large.median(mode).seconds, 3)],
            "list_calls": [small.median(mode).list_calls, large.median(mode).list_calls],
            "keys_listed": [small.median(mode).keys_listed, large.median(mode).keys_listed],
            "ledger_keys_looked_up": [
                small.median(mode).ledger_keys_looked_up,
                large.median(mode).ledger_keys_looked_up,
            ],
            "benchmark_seconds": round(total, 1),
        }

    return [
        Figure("scan_tick_ratio_100k_vs_1k", ratios[INDEXED], "x", RATIO_GOAL, conditions(INDEXED)),
        Figure("scan_tick_s_1k", small.median(INDEXED).seconds, "s", None, conditions(INDEXED)),
        Figure("scan_tick_s_100k", large.median(INDEXED).seconds, "s", None, conditions(INDEXED)),
        Figure("scan_tick_ratio_100k_vs_1k_moto_listing", ratios[STOCK], "x", None, conditions(STOCK)),
    ]
