"""SQS delivers at least once, and sometimes much more than once: every event redelivered 5 to 10
times, shuffled, spread over many sensor ticks, while exposures are still being uploaded and the runs
those ticks ask for write thumbnails (whose own events are redelivered the same way).

The real ``s3_event_queue`` sensor drains moto's queue and the real ingest job runs what it asks for.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from astropy.io import fits
from dagster import SensorResult

from photon_archive.aws.clients import client
from photon_archive.definitions import build_definitions
from photon_archive.events import parse_event_message
from photon_archive.naming import FileKind, parse_key
from photon_archive_tests.archive import SAMPLE_NIGHT, Archive
from photon_archive_tests.e2e.night import NightWatch, by_exposure
from photon_archive_tests.sensors.ticks import drain_event_queue, event_queue_tick, queue_url
from photon_archive_workshop.sample import SampleFile, sample_exposures

COPIES = (5, 10)  # each message is delivered this many times, inclusive
PER_TICK = 25  # copies delivered before each tick
SEED = 20261124
MAX_TICKS = 40
SQS_BATCH = 10
CORRECTED_FILTER = "OIII"

Version = tuple[str, str | None]  # (key, etag)


@dataclass
class Storm:
    """Stands between S3 and the sensor on the event queue: every message S3 sends is taken off the
    queue and put back many times over, ``per_tick`` pending copies at a time, in random order."""

    archive: Archive
    rng: random.Random
    per_tick: int = PER_TICK
    pending: list[str] = field(default_factory=list)
    sent: int = 0

    def deliver(self) -> list[str]:
        """Multiply what S3 sent since the last tick and deliver some of the pending copies."""
        sqs = client("sqs")
        url = queue_url(self.archive.settings.event_queue)
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=SQS_BATCH).get(
            "Messages", []
        ):
            for message in messages:
                self.pending.extend([message["Body"]] * self.rng.randint(*COPIES))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        self.rng.shuffle(self.pending)
        now, self.pending = self.pending[: self.per_tick], self.pending[self.per_tick :]
        for start in range(0, len(now), SQS_BATCH):
            chunk = now[start : start + SQS_BATCH]
            sqs.send_message_batch(
                QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": body} for i, body in enumerate(chunk)]
            )
        self.sent += len(now)
        return now


@dataclass
class StormRecord:
    """What the ticks were given and what they asked for."""

    ticks: int = 0
    # Per tick that brought news: the object versions newer than, and other than, any delivered before.
    news: list[list[Version]] = field(default_factory=list)
    # Per requested run: the object versions it was asked to ingest.
    requested: list[list[Version]] = field(default_factory=list)
    run_of: dict[str, str] = field(default_factory=dict)  # key -> the last run asked to ingest it
    ingested: int = 0
    thumbnails_written: int = 0
    deliveries: int = 0


def storm_through_ticks(
    archive: Archive, uploads: Sequence[Sequence[SampleFile]], per_tick: int = PER_TICK
) -> StormRecord:
    """Upload ``uploads[i]`` before tick ``i``, redeliver every event in a storm, tick the sensor and
    run what it asks for, until the queue is empty."""
    job = build_definitions(archive.settings).resolve_job_def("ingest")
    storm = Storm(archive, random.Random(SEED), per_tick)
    record = StormRecord()
    newest: dict[str, tuple[datetime | None, str | None]] = {}  # key -> (event time, etag) of its newest
    while True:
        assert record.ticks < MAX_TICKS, f"still delivering after {record.ticks} ticks"
        for file in uploads[record.ticks] if record.ticks < len(uploads) else []:
            archive.put(file.key, file.body, file.content_type, **file.metadata)
        events = [event for body in storm.deliver() for event in parse_event_message(body)]
        news: dict[str, str | None] = {}
        for event in sorted(events, key=lambda e: (e.event_time or datetime.min, e.key)):
            known_time, known_etag = newest.get(event.key, (None, None))
            if event.key not in newest or (event.etag != known_etag and _later(event.event_time, known_time)):
                newest[event.key] = (event.event_time, event.etag)
                news[event.key] = event.etag
        if news:
            record.news.append(sorted(news.items()))
        result = event_queue_tick(archive)
        record.ticks += 1
        if not isinstance(result, SensorResult):  # the queue was empty: the storm is over
            record.deliveries = storm.sent
            return record
        for request in result.run_requests or []:
            objects = request.run_config["ops"]["ingest_objects"]["config"]["objects"]
            assert request.run_key is not None  # the daemon would tag the run with it
            run = job.execute_in_process(
                run_config=request.run_config,
                instance=archive.instance,
                tags={**request.tags, "dagster/run_key": request.run_key},
            )
            assert run.success
            batch = run.output_for_node("ingest_objects")
            record.ingested += batch.ingested
            record.thumbnails_written += batch.thumbnails_written
            record.requested.append(sorted((o["key"], o.get("etag")) for o in objects))
            record.run_of.update(dict.fromkeys((o["key"] for o in objects), run.run_id))


def _later(time: datetime | None, than: datetime | None) -> bool:
    return time is None or than is None or time > than


def _exposures_per_run(record: StormRecord) -> Counter[str]:
    """One datastream message per exposure per run that ingested a file of it."""
    return Counter(
        base for run in record.requested for base in {parse_key(key).base_filename for key, _ in run}
    )


def test_a_redelivery_storm_ingests_every_object_once_in_as_many_runs_as_single_delivery(
    archive: Archive,
) -> None:
    drain_event_queue(archive)
    uploads = by_exposure(sample_exposures(night=SAMPLE_NIGHT, count=4))
    watch = NightWatch(archive, [file.key for files in uploads for file in files])

    record = storm_through_ticks(archive, uploads)

    all_keys = watch.all_keys
    print(
        f"{len(all_keys)} objects, {record.deliveries} deliveries over {record.ticks} ticks: "
        f"{len(record.requested)} runs of {[len(r) for r in record.requested]} objects"
    )
    assert record.deliveries >= COPIES[0] * len(all_keys)
    # One run per tick that brought an object for the first time, asking for exactly those:
    # however many copies came, no object was asked for twice.
    assert record.requested == record.news
    assert sorted(record.run_of) == all_keys
    assert record.ingested == len(all_keys) and record.thumbnails_written == len(uploads)
    ledger = watch.ledger()
    assert sorted(ledger) == all_keys
    assert {key: (row["state"], row["run_id"]) for key, row in ledger.items()} == {
        key: ("ingested", record.run_of[key]) for key in all_keys
    }
    assert watch.outstanding() == []
    assert Counter(m["data"]["base_filename"] for m in archive.datastream()) == _exposures_per_run(record)
    dead_letters = client("sqs").receive_message(
        QueueUrl=queue_url(archive.settings.event_dead_letter_queue), MaxNumberOfMessages=SQS_BATCH
    )
    assert dead_letters.get("Messages", []) == []


def test_late_copies_of_an_overwritten_objects_old_event_ask_for_nothing(archive: Archive) -> None:
    """An observatory sends a corrected header while the first one's events are still being
    redelivered: the copies of the old version that arrive after the new one are old news."""
    drain_event_queue(archive)
    (files,) = by_exposure(sample_exposures(night=SAMPLE_NIGHT, count=1))
    header_file = next(file for file in files if parse_key(file.key).kind is FileKind.HEADER)
    header = fits.Header.fromstring(header_file.body.decode("ascii"))
    assert header["FILTER"] != CORRECTED_FILTER
    header["FILTER"] = CORRECTED_FILTER
    corrected = replace(header_file, body=header.tostring().encode("ascii"))
    watch = NightWatch(archive, [file.key for file in files])

    # Few copies a tick, so that the old header's copies are still coming when the new one is sent.
    record = storm_through_ticks(archive, [files, [corrected]], per_tick=5)

    print(
        f"{record.deliveries} deliveries over {record.ticks} ticks: "
        f"{len(record.requested)} runs of {[len(r) for r in record.requested]} objects"
    )
    # Each version is asked for once at most, and none after a newer one.
    assert record.requested == record.news
    versions = [version for run in record.requested for version in run if version[0] == header_file.key]
    current = archive.ref(header_file.key).etag
    assert len(versions) == len(set(versions)) <= 2 and versions[-1] == (header_file.key, current)
    ledger = watch.ledger()
    assert ledger[header_file.key]["state"] == "ingested"
    assert archive.ledger(header_file.key)["etag"] == current
    assert archive.row(parse_key(header_file.key).base_filename)["filter_used"] == CORRECTED_FILTER
    assert watch.outstanding() == []
