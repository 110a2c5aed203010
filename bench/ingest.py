"""Ingest throughput: objects/s through the Dagster ingest job, against the legacy per-object handler.

The measured path is the real one: the ``ingest`` job executed in process, run after run, each run
given a sensor-sized list of objects (key, size, etag, last modified), against moto's server and a
fresh PostgreSQL catalog. An exposure is five objects: the four an observatory uploads (``.txt``
header, ``EX01.fits.bz2``, ``EX10.fits.fz``, ``EX10.jpg``) and the ``EX11.jpg`` thumbnail that the
ingest writes and that then arrives as an object of its own. So the first pass ingests the uploads
and the second the thumbnails the first one wrote.

The baseline is ``legacy_handler``: the same reads and writes, done the way the legacy Lambda
handlers did them, one object at a time with new connections and clients for each.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import math
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError
from dagster import DagsterInstance, JobDefinition
from sqlalchemy import create_engine, text

import photon_archive.defs.ingest as ingest_job
import photon_archive.ingest.batch as batch
from bench.common import (
    CpuMeter,
    Figure,
    Phases,
    Stack,
    busy_warning,
    drain_queue,
    local_stack,
    process_cpu_seconds,
    production_instance,
)
from photon_archive.aws.bucket import Bucket, is_missing
from photon_archive.aws.clients import client
from photon_archive.aws.queues import SQS_BATCH, Datastream
from photon_archive.aws.tables import Tables
from photon_archive.catalog.rows import HEADER_RANK, Contribution
from photon_archive.catalog.store import header_sources, record_objects, upsert_exposures
from photon_archive.definitions import build_definitions
from photon_archive.headers import parse_text_header, read_fits_header
from photon_archive.ingest.decisions import with_header
from photon_archive.ingest.objects import naive_utc
from photon_archive.naming import EXPOSURE_TABLE, FileKind, parse_key, thumbnail_key
from photon_archive.records import LedgerRecord, ObjectInfo
from photon_archive.retention import expiry_seconds, parse_rules
from photon_archive.settings import Settings
from photon_archive.thumbnails import make_thumbnail
from photon_archive_workshop.sample import sample_exposures

INGEST_GOAL = ">= 300"
RATIO_GOAL = ">= 10"
CPU_GOAL = "<= 2"
GOALS = {
    "ingest_objects_per_s": INGEST_GOAL,
    "ingest_ratio_vs_naive": RATIO_GOAL,
    "ingest_cpu_ms_per_object": CPU_GOAL,
}
NIGHT = date(2026, 11, 24)
SITE = "sro"
FILES_PER_EXPOSURE = 5  # four uploads and the thumbnail the ingest writes
FIRST_COUNTER = 1
# The baseline's exposures live under counters of their own, so it never finds the measured
# exposures' rows or thumbnails already there.
NAIVE_FIRST_COUNTER = 90_000_001


def add_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--exposures", type=int, default=2000, help="exposures ingested by the job (default 2000)"
    )
    group.add_argument("--batch-size", type=int, default=500, help="objects per ingest run (default 500)")
    group.add_argument(
        "--naive-exposures",
        type=int,
        default=200,
        help="exposures put through the legacy handler (default 200)",
    )
    group.add_argument(
        "--distinct",
        type=int,
        default=20,
        help="distinct sample exposures whose bytes are reused (default 20)",
    )
    group.add_argument(
        "--upload-threads", type=int, default=8, help="threads uploading the sample (default 8)"
    )
    group.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="write a cProfile of the ingest job's runs (pstats) to this file; its figures are then slower",
    )


# --------------------------------------------------------------------------------------------------
# The sample


@dataclass(frozen=True)
class Upload:
    key: str
    body: bytes
    content_type: str


def sample_templates(distinct: int) -> list[list[Upload]]:
    """``distinct`` exposures of sample files, each as its four uploads in upload order."""
    exposures: dict[str, list[Upload]] = {}
    for sample in sample_exposures(SITE, count=distinct, night=NIGHT):
        base = parse_key(sample.key).base_filename
        exposures.setdefault(base, []).append(Upload(sample.key, sample.body, sample.content_type))
    return list(exposures.values())


def exposure_uploads(templates: list[list[Upload]], counters: range) -> list[Upload]:
    """One exposure per counter, each reusing a template's bytes under its own base filename."""
    uploads = []
    for index, counter in enumerate(counters):
        for template in templates[index % len(templates)]:
            old = f"-{parse_key(template.key).counter}-"
            key = template.key.replace(old, f"-{counter:08d}-", 1)
            uploads.append(Upload(key, template.body, template.content_type))
    return uploads


def upload(bucket: str, uploads: Sequence[Upload], threads: int) -> None:
    s3 = client("s3")

    def put(item: Upload) -> None:
        s3.put_object(Bucket=bucket, Key=item.key, Body=item.body, ContentType=item.content_type)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(put, uploads))


def listing(bucket: str, prefix: str = "data/") -> dict[str, ObjectInfo]:
    """What a prefix scan sees: every object with its size, etag and last-modified time."""
    return {info.key: info for info in Bucket(bucket=bucket).list_objects(prefix)}


def thumbnails_of(keys: Iterable[str]) -> list[str]:
    return [thumbnail_key(name) for name in map(parse_key, keys) if name.kind is FileKind.MEDIUM_JPG]


# --------------------------------------------------------------------------------------------------
# The measured path: the Dagster ingest job


@dataclass
class RunTotals:
    runs: int = 0
    objects: int = 0
    ingested: int = 0
    notifications: int = 0
    notify_batches: int = 0
    received: int = 0
    run_seconds: float = 0.0
    slowest_run: float = 0.0


def run_config(infos: Sequence[ObjectInfo]) -> dict[str, Any]:
    """What a sensor hands the job: the objects with what the event or listing said about them."""
    objects = [
        {
            "key": info.key,
            "event": "created",
            "size": info.size,
            "etag": info.etag,
            "last_modified": info.last_modified.isoformat(),
        }
        for info in infos
    ]
    return {
        "ops": {"ingest_objects": {"config": {"objects": objects}}},
        # The event log still records everything; only the console stays quiet.
        "loggers": {"console": {"config": {"log_level": "WARNING"}}},
    }


def ingest_in_runs(
    job: JobDefinition,
    instance: DagsterInstance,
    infos: Sequence[ObjectInfo],
    batch_size: int,
    totals: RunTotals,
    datastream_queue: str,
    meter: CpuMeter,
) -> float:
    """Ingest ``infos`` run after run, as a sensor would request them; returns the seconds the runs took.

    Between runs, untimed, the datastream queue is drained as the frontend would drain it.
    """
    elapsed = 0.0
    for start in range(0, len(infos), batch_size):
        chunk = infos[start : start + batch_size]
        with meter.measuring():
            began = time.perf_counter()
            result = job.execute_in_process(run_config=run_config(chunk), instance=instance)
            seconds = time.perf_counter() - began
        elapsed += seconds
        outcome = result.output_for_node("ingest_objects")
        totals.runs += 1
        totals.objects += outcome.objects
        totals.ingested += outcome.ingested
        totals.notifications += outcome.exposures
        totals.notify_batches += math.ceil(outcome.exposures / SQS_BATCH)
        totals.run_seconds += seconds
        totals.slowest_run = max(totals.slowest_run, seconds)
        totals.received += drain_queue(datastream_queue)
        if outcome.ingested != len(chunk):
            raise RuntimeError(
                f"run {result.run_id} ingested {outcome.ingested} of {len(chunk)} objects "
                f"(rejected {outcome.rejected}, failed {outcome.failed}, removed {outcome.removed}): "
                f"{outcome.rejections[:3]}"
            )
    return elapsed


def emulator_queue_note(
    notify_seconds: float, totals: RunTotals, queue: str, objects: int, wall: float
) -> str:
    """How much of the notify step is moto recounting the queue per message, which AWS does not do."""
    empty = empty_queue_send_seconds(queue)
    calls = max(totals.notify_batches, 1)
    excess = max(notify_seconds - totals.notify_batches * empty, 0.0)
    return (
        f"notify step: {totals.notifications:,} messages in {totals.notify_batches:,} SendMessageBatch calls"
        f" took {notify_seconds:.2f} s, {1000 * notify_seconds / calls:.1f} ms per call;"
        f" one call into an empty moto queue takes {1000 * empty:.1f} ms.\n"
        f"  So about {excess:.1f} s is moto recounting the queue for each message it adds"
        " (quadratic in the messages per run, absent on AWS);\n"
        f"  without it the ingest would run at about {objects / (wall - excess):,.1f} objects/s."
    )


def empty_queue_send_seconds(datastream_queue: str, trials: int = 7) -> float:
    """What one batch of ten notifications costs on moto when the queue is empty (the median)."""
    message = {
        "topic": "imagedata",
        "site": SITE,
        "data": {"s3_directory": "data", "base_filename": "x", "site": SITE},
    }
    datastream = Datastream(queue_name=datastream_queue)
    seconds = []
    for _ in range(trials):
        began = time.perf_counter()
        datastream.send([message] * SQS_BATCH)
        seconds.append(time.perf_counter() - began)
        drain_queue(datastream_queue)
    return statistics.median(seconds)


RUN = "Dagster: run start, config, resources, event log, steps"
BATCH = "ingest_batch, the first op's work"
NOTIFY = "datastream notifications, the second op"
EXAMINE = f"examine objects in {batch.IO_THREADS} threads (wall)"
EXAMINE_EMULATOR = "  of which the emulator's CPU"
EXAMINE_OWN = "  of which this process's CPU (GIL: at most 1 core)"
REST = "rest of ingest_batch: parse keys, commit, bookkeeping"
BATCH_PARTS = [
    EXAMINE,
    "catalog: which fits headers to read",
    "DynamoDB: upload log, batched writes",
    "DynamoDB: expiration tracker",
    "catalog: upsert exposure rows",
    "catalog: upsert ledger rows",
]
THREAD_PARTS = [
    "S3 GET: .txt header, medium jpg",
    "S3 HEAD: is the thumbnail there",
    "S3 PUT: thumbnail",
    "parse .txt header (astropy)",
    "make thumbnail (Pillow)",
]


def instrument_ingest(phases: Phases, emulator_pid: int) -> None:
    """Time the ingest's parts where the project's code calls them; its behaviour is untouched."""
    phases.instrument(ingest_job, "ingest_batch", BATCH)
    phases.instrument(Datastream, "send", NOTIFY)
    phases.instrument(batch, "_examine_all", EXAMINE)
    phases.instrument(batch, "_examine_all", EXAMINE_EMULATOR, lambda: process_cpu_seconds(emulator_pid))
    phases.instrument(batch, "_examine_all", EXAMINE_OWN, time.process_time)
    phases.instrument(batch, "header_sources", BATCH_PARTS[1])
    phases.instrument(Tables, "log_uploads", BATCH_PARTS[2])
    phases.instrument(Tables, "track_expiration", BATCH_PARTS[3])
    phases.instrument(batch, "upsert_exposures", BATCH_PARTS[4])
    phases.instrument(batch, "record_objects", BATCH_PARTS[5])
    phases.instrument(Bucket, "read", THREAD_PARTS[0])
    phases.instrument(Bucket, "head", THREAD_PARTS[1])
    phases.instrument(Bucket, "put", THREAD_PARTS[2])
    phases.instrument(batch, "parse_text_header", THREAD_PARTS[3])
    phases.instrument(batch, "make_thumbnail", THREAD_PARTS[4])


def ingest_breakdown(phases: Phases, wall: float, totals: RunTotals) -> str:
    seconds = phases.seconds
    phases.add(REST, seconds[BATCH] - sum(seconds[label] for label in BATCH_PARTS), 0)
    phases.add(RUN, totals.run_seconds - seconds[BATCH] - seconds[NOTIFY], totals.runs)
    per_run = totals.run_seconds / max(totals.runs, 1)
    examine = seconds[EXAMINE] or 1.0
    return "\n".join(
        [
            phases.report(
                f"where the {wall:.1f} s of ingest went ({totals.runs} runs, {per_run:.2f} s per run"
                f" on average, slowest {totals.slowest_run:.2f} s):",
                wall,
                [RUN, BATCH, NOTIFY],
            ),
            phases.report("inside ingest_batch:", wall, [*BATCH_PARTS, REST]),
            f"while examining: the emulator used {seconds[EXAMINE_EMULATOR] / examine:.2f} cores, "
            f"this process {seconds[EXAMINE_OWN] / examine:.2f} cores (CPU seconds per wall second)",
            phases.report(
                f"inside the {batch.IO_THREADS} examining threads (thread seconds, summed over threads):",
                wall,
                THREAD_PARTS,
            ),
        ]
    )


# --------------------------------------------------------------------------------------------------
# The baseline: the legacy handler


def legacy_handler(
    key: str,
    size: int,
    etag: str,
    last_modified: datetime,
    *,
    settings: Settings,
    run_id: str,
    timer: Phases,
) -> None:
    """One object the way the legacy Lambda handlers did it: everything new, everything per object.

    Same reads and writes as the ingest job's: the header parsed from a ``.txt``, the thumbnail
    made from a medium jpg, a ranged look at a fits header when no better header is stored, the
    upload-log item (and expiration entry), the catalog row and ledger row, a datastream message.
    """
    name = parse_key(key)
    table = EXPOSURE_TABLE[name.prefix]
    upload_time = naive_utc(last_modified)
    contributions = [
        Contribution(name.base_filename, name.site, name.data_type, upload_time, name.catalog_flag)
    ]

    with timer.section("boto3: new S3 and DynamoDB clients"):
        s3 = boto3.client("s3")
        dynamodb = boto3.client("dynamodb")

    if name.kind is FileKind.HEADER:
        with timer.section("S3 GET: .txt header"):
            data = s3.get_object(Bucket=settings.bucket, Key=key)["Body"].read()
        with timer.section("parse .txt header (astropy)"):
            parsed = parse_text_header(data)
        # The job's own mapping from a parsed header to catalog columns, so both write the same row.
        contributions[0] = with_header(contributions[0], parsed, "txt", settings.right_ascension_unit)

    elif name.kind in (FileKind.LARGE_FITS, FileKind.SMALL_FITS):
        # The first of the two engines a fits file cost: is a better header already stored?
        with timer.section("catalog: new engine + connect + query stored header"):
            engine = create_engine(settings.database_url)
            with engine.connect() as connection:
                stored = header_sources(connection, table, [name.base_filename])
            engine.dispose()
        if HEADER_RANK.get(stored.get(name.base_filename, ""), 0) < HEADER_RANK[name.kind.value]:
            with timer.section("S3 GET + read fits header"):
                body = s3.get_object(Bucket=settings.bucket, Key=key)["Body"]
                parsed = read_fits_header(body, name.compression)
                body.close()
            unit = settings.right_ascension_unit
            contributions[0] = with_header(contributions[0], parsed, name.kind.value, unit)

    elif name.kind is FileKind.MEDIUM_JPG:
        small_key = thumbnail_key(name)
        with timer.section("S3 HEAD: is the thumbnail there"):
            try:
                existing = s3.head_object(Bucket=settings.bucket, Key=small_key)
            except ClientError as error:
                if not is_missing(error):
                    raise
                existing = None
        if existing is None or existing["LastModified"] < last_modified:
            with timer.section("S3 GET: medium jpg"):
                response = s3.get_object(Bucket=settings.bucket, Key=key)
                if int(response["ContentLength"]) > settings.max_image_bytes:
                    raise ValueError(f"{key} is too large for a thumbnail")
                data = response["Body"].read()
            with timer.section("make thumbnail (Pillow)"):
                thumbnail = make_thumbnail(data, settings.thumbnail_height)
            with timer.section("S3 PUT: thumbnail"):
                s3.put_object(Bucket=settings.bucket, Key=small_key, Body=thumbnail, ContentType="image/jpeg")
        contributions.append(
            Contribution(name.base_filename, name.site, name.data_type, upload_time, "jpg_small_exists")
        )

    with timer.section("DynamoDB: put upload-log item"):
        uploaded = int(last_modified.timestamp())
        dynamodb.put_item(
            TableName=settings.upload_log_table,
            Item={
                "site": {"S": name.site},
                "filename": {"S": key},
                "upload_timestamp_s": {"N": str(uploaded)},
                "expire_timestamp_s": {"N": str(uploaded + int(settings.upload_log_ttl_hours * 3600))},
                "size_bytes": {"N": str(size)},
            },
        )
    lifetime = expiry_seconds(name.site, name.data_type, parse_rules(settings.expiration_rules))
    if lifetime is not None and name.prefix == "data":
        with timer.section("DynamoDB: expiration entry"):
            try:
                dynamodb.put_item(
                    TableName=settings.expiration_table,
                    Item={
                        "pk": {"S": name.base_filename},
                        "s3_directory": {"S": name.prefix},
                        "expiration_timestamp_s": {"N": str(int(last_modified.timestamp()) + lifetime)},
                    },
                    ConditionExpression="attribute_not_exists(pk)",
                )
            except ClientError as error:
                if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise

    with timer.section("catalog: new engine + connect"):
        engine = create_engine(settings.database_url)
        connection = engine.connect()
    try:
        with timer.section("catalog: upsert row + ledger row, commit"), connection.begin():
            upsert_exposures(connection, table, contributions)
            record = LedgerRecord(
                key=key,
                state="ingested",
                run_id=run_id,
                etag=etag,
                size=size,
                last_modified=upload_time,
                prefix=name.prefix,
                base_filename=name.base_filename,
            )
            record_objects(connection, [record], datetime.now(UTC).replace(tzinfo=None))
    finally:
        with timer.section("catalog: close + dispose engine"):
            connection.close()
            engine.dispose()

    with timer.section("SQS: new client + get_queue_url"):
        sqs = boto3.client("sqs")
        queue_url = sqs.get_queue_url(QueueName=settings.datastream_queue)["QueueUrl"]
    message = {
        "topic": "imagedata",
        "site": name.site,
        "data": {"s3_directory": name.prefix, "base_filename": name.base_filename, "site": name.site},
    }
    with timer.section("SQS: send_message"):
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(message))


def run_legacy(
    infos: Sequence[ObjectInfo], settings: Settings, timer: Phases, meter: CpuMeter, drain_every: int = 25
) -> float:
    """Each object through ``legacy_handler`` in turn, as Lambda invoked it; returns the seconds taken.

    Every ``drain_every`` objects, untimed, the datastream queue is drained as between the job's runs.
    """
    elapsed = 0.0
    for start in range(0, len(infos), drain_every):
        chunk = infos[start : start + drain_every]
        with meter.measuring():
            began = time.perf_counter()
            for info in chunk:
                legacy_handler(
                    info.key,
                    info.size,
                    info.etag,
                    info.last_modified,
                    settings=settings,
                    run_id=f"legacy-{uuid.uuid4().hex}",
                    timer=timer,
                )
            elapsed += time.perf_counter() - began
        sent = drain_queue(settings.datastream_queue)
        if sent != len(chunk):
            raise RuntimeError(f"the legacy handler sent {sent} datastream messages for {len(chunk)} objects")
    return elapsed


# --------------------------------------------------------------------------------------------------
# Checks: a fast ingest that did not do the work must not post a figure


def check_catalog(settings: Settings, keys: Sequence[str], label: str) -> None:
    bases = sorted({parse_key(key).base_filename for key in keys})
    engine = create_engine(settings.database_url)
    with engine.connect() as connection:
        complete, rows = connection.execute(
            text(
                "SELECT count(*) FILTER (WHERE fits_01_exists AND fits_10_exists AND jpg_medium_exists"
                " AND jpg_small_exists AND header_source = 'txt'), count(*)"
                " FROM images WHERE base_filename = ANY(:bases)"
            ),
            {"bases": bases},
        ).one()
        ledger = connection.execute(
            text("SELECT state, count(*) FROM object_ledger WHERE key = ANY(:keys) GROUP BY state"),
            {"keys": list(keys)},
        )
        states: dict[str, int] = {state: count for state, count in ledger}
    engine.dispose()
    if complete != len(bases) or rows != len(bases) or states != {"ingested": len(keys)}:
        raise RuntimeError(
            f"{label}: {rows} rows ({complete} complete) for {len(bases)} exposures, ledger {states} "
            f"for {len(keys)} objects"
        )


# --------------------------------------------------------------------------------------------------


def run(options: argparse.Namespace) -> list[Figure]:
    if min(options.exposures, options.batch_size, options.naive_exposures, options.distinct) < 1:
        raise ValueError("--exposures, --batch-size, --naive-exposures and --distinct must be at least 1")
    with tempfile.TemporaryDirectory(prefix="photon-archive-bench-") as workdir:
        stack = local_stack(Path(workdir), options.postgres, bucket_events=False)
        with stack as running, production_instance(options.postgres) as instance:
            return _measure(options, running, instance)


def _measure(options: argparse.Namespace, stack: Stack, instance: DagsterInstance) -> list[Figure]:
    settings = stack.settings
    emulator_pid = stack.emulator.process.pid  # type: ignore[union-attr]
    began = time.perf_counter()
    templates = sample_templates(min(options.distinct, options.exposures))
    measured = exposure_uploads(templates, range(FIRST_COUNTER, FIRST_COUNTER + options.exposures))
    naive_counters = range(NAIVE_FIRST_COUNTER, NAIVE_FIRST_COUNTER + options.naive_exposures)
    naive = exposure_uploads(templates, naive_counters)
    seconds = time.perf_counter() - began
    print(f"sample: {len(templates)} distinct exposures written in {seconds:.1f} s", flush=True)

    began = time.perf_counter()
    everything = [*measured, *naive]
    upload(settings.bucket, everything, options.upload_threads)
    print(
        f"upload: {len(everything):,} objects ({sum(len(u.body) for u in everything) / 1e6:,.0f} MB) in "
        f"{time.perf_counter() - began:.1f} s with {options.upload_threads} threads (not measured)",
        flush=True,
    )
    began = time.perf_counter()
    seen = listing(settings.bucket)
    print(f"listing: {len(seen):,} objects in {time.perf_counter() - began:.1f} s (not measured)", flush=True)
    print(busy_warning(), flush=True)

    # ---- the ingest job: the uploads, then the thumbnails the first pass wrote
    job = build_definitions(settings).resolve_job_def("ingest")
    phases, totals, meter = Phases(), RunTotals(), CpuMeter(emulator_pid)
    instrument_ingest(phases, emulator_pid)
    profile = cProfile.Profile() if options.profile else None
    if profile is not None:
        profile.enable()
    try:
        queue = settings.datastream_queue
        uploads = [seen[u.key] for u in measured]
        first = ingest_in_runs(job, instance, uploads, options.batch_size, totals, queue, meter)
        began = time.perf_counter()
        thumbnails = thumbnails_of(u.key for u in measured)
        after = listing(settings.bucket)
        listing_seconds = time.perf_counter() - began
        written = [after[key] for key in thumbnails]
        second = ingest_in_runs(job, instance, written, options.batch_size, totals, queue, meter)
    finally:
        phases.restore()
        if profile is not None:
            profile.disable()
            profile.dump_stats(options.profile)
            print(f"profile of the ingest runs written to {options.profile}", flush=True)
    ingest_seconds = first + second
    objects = options.exposures * FILES_PER_EXPOSURE
    if totals.ingested != objects:
        raise RuntimeError(f"the ingest job ingested {totals.ingested} objects, expected {objects}")
    if totals.received != totals.notifications:
        raise RuntimeError(
            f"{totals.received} datastream messages arrived, the runs reported {totals.notifications}"
        )
    check_catalog(settings, [u.key for u in measured] + thumbnails, "ingest job")
    ingest_rate = objects / ingest_seconds
    print(
        f"\ningest job: {objects:,} objects in {ingest_seconds:.1f} s = {ingest_rate:,.1f} objects/s\n"
        f"  uploads: {len(measured):,} objects in {first:.1f} s;"
        f" thumbnails: {len(thumbnails):,} in {second:.1f} s\n"
        f"  (listing the thumbnails between the passes is sensor work, not counted: {listing_seconds:.1f} s)",
        flush=True,
    )
    print(ingest_breakdown(phases, ingest_seconds, totals))
    print(
        emulator_queue_note(
            phases.seconds[NOTIFY], totals, settings.datastream_queue, objects, ingest_seconds
        )
    )
    print(meter.report("CPU while ingesting", objects), flush=True)
    # The run process's own CPU: what the runs cost on AWS too, where the emulator's and the
    # database's CPU is on other machines. The runs execute in this process (execute_in_process),
    # so it is this process's CPU while they run; the queue drains between runs are outside it.
    cpu_ms = 1000 * meter.own / objects
    print(f"  run process CPU per object ingested: {cpu_ms:.2f} ms (goal {CPU_GOAL} ms)", flush=True)

    # ---- the baseline: the legacy handler, object by object, uploads then thumbnails
    timer, meter = Phases(), CpuMeter(emulator_pid)
    naive_objects = options.naive_exposures * FILES_PER_EXPOSURE
    first = run_legacy([seen[u.key] for u in naive], settings, timer, meter)
    naive_thumbnails = thumbnails_of(u.key for u in naive)
    wanted = set(naive_thumbnails)
    after = {key: info for key, info in listing(settings.bucket).items() if key in wanted}
    second = run_legacy([after[key] for key in naive_thumbnails], settings, timer, meter)
    check_catalog(settings, [u.key for u in naive] + naive_thumbnails, "legacy handler")
    naive_seconds = first + second
    naive_rate = naive_objects / naive_seconds
    print(
        f"\nlegacy handler: {naive_objects:,} objects in {naive_seconds:.1f} s = {naive_rate:,.1f} objects/s "
        f"({1000 * naive_seconds / naive_objects:.1f} ms per object)",
        flush=True,
    )
    print(timer.report(f"where the legacy handler's {naive_seconds:.1f} s went:", naive_seconds))
    print(meter.report("CPU while running the legacy handler", naive_objects), flush=True)

    ratio = ingest_rate / naive_rate
    print(f"\nratio: the ingest job runs at {ratio:.1f} x the legacy handler's rate", flush=True)
    conditions = {
        "exposures": options.exposures,
        "objects": objects,
        "batch_size": options.batch_size,
        "runs": totals.runs,
        "seconds": round(ingest_seconds, 2),
    }
    naive_conditions = {
        "exposures": options.naive_exposures,
        "objects": naive_objects,
        "seconds": round(naive_seconds, 2),
    }
    return [
        Figure("ingest_objects_per_s", ingest_rate, "objects/s", INGEST_GOAL, conditions),
        Figure("ingest_cpu_ms_per_object", cpu_ms, "ms", CPU_GOAL, conditions),
        Figure("naive_objects_per_s", naive_rate, "objects/s", None, naive_conditions),
        Figure(
            "ingest_ratio_vs_naive",
            ratio,
            "x",
            RATIO_GOAL,
            {**conditions, "naive_exposures": options.naive_exposures},
        ),
    ]
