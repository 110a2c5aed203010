"""What a user sees of a night's ingest, read back so that an ingest that went through a fault can
be compared with the same night ingested without one."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dagster import DagsterEventType, ExecuteInProcessResult

from photon_archive.catalog.rows import FLAGS
from photon_archive_tests.archive import Archive
from photon_archive_tests.e2e.night import NightWatch

# Columns naming the database or the run rather than the data: two catalogs of one night differ there.
IMAGE_IDENTITY = ("image_id",)
LEDGER_IDENTITY = ("run_id", "run_key", "first_seen_at", "updated_at")


@dataclass(frozen=True)
class IngestOutcome:
    """The catalog rows, the ledger and the datastream messages an ingest left behind."""

    images: dict[str, dict[str, Any]]  # base filename -> row, without its id
    ledger: dict[str, dict[str, Any]]  # key -> ledger row, without the run that wrote it
    run_ids: dict[str, str | None]  # key -> the run its ledger row names
    notified: Counter[str]  # base filename -> datastream messages

    @classmethod
    def read(cls, archive: Archive) -> IngestOutcome:
        """Read the archive's catalog and drain its datastream queue."""
        images = {
            row["base_filename"]: _without(row, IMAGE_IDENTITY)
            for row in archive.query("SELECT * FROM images")
        }
        rows = archive.query("SELECT * FROM object_ledger")
        return cls(
            images=images,
            ledger={row["key"]: _without(row, LEDGER_IDENTITY) for row in rows},
            run_ids={row["key"]: row["run_id"] for row in rows},
            notified=Counter(message["data"]["base_filename"] for message in archive.datastream()),
        )

    def assert_same_data_as(self, reference: IngestOutcome) -> None:
        """The same rows, ledger and notifications as ``reference``, whichever runs wrote them."""
        assert self.images == reference.images
        assert self.ledger == reference.ledger
        assert self.notified == reference.notified


def _without(row: dict[str, Any], columns: Sequence[str]) -> dict[str, Any]:
    return {name: value for name, value in row.items() if name not in columns}


@dataclass(frozen=True)
class NightIngest:
    """One ingest run of a night's uploads, how long it took and what it left behind."""

    archive: Archive
    keys: list[str]
    run: ExecuteInProcessResult
    seconds: float
    outcome: IngestOutcome

    @property
    def retries(self) -> list[str]:
        """The errors that sent the ingest step back for another attempt, in order."""
        errors = []
        for event in self.run.all_events:
            if event.event_type is DagsterEventType.STEP_UP_FOR_RETRY and event.step_key == "ingest_objects":
                error = event.step_retry_data.error  # type: ignore[union-attr]
                errors.append(error.to_string() if error else "")
        return errors

    def assert_complete(self) -> None:
        """Everything a user looks for after a night's ingest: every object ingested by the run, one
        complete row per exposure, one datastream message per exposure, thumbnails written by the
        run and in the bucket, and every object in the upload log."""
        outcome, watch = self.outcome, NightWatch(self.archive, self.keys)
        assert {key: (outcome.ledger[key]["state"], outcome.run_ids[key]) for key in self.keys} == {
            key: ("ingested", self.run.run_id) for key in self.keys
        }
        assert self.run.output_for_node("ingest_objects").thumbnails_written == len(watch.thumbnail_keys)
        assert sorted(outcome.images) == watch.base_filenames
        incomplete = {base: row for base, row in outcome.images.items() if not all(row[f] for f in FLAGS)}
        assert not incomplete, incomplete
        assert outcome.notified == Counter(dict.fromkeys(watch.base_filenames, 1))
        assert set(watch.thumbnail_keys) <= watch.bucket_keys()
        assert set(self.keys) <= watch.upload_log()


def ingest_night(archive: Archive, keys: list[str], endpoint_url: str | None = None) -> NightIngest:
    """Ingest the uploaded ``keys`` in one run, as a sensor asks for them (size, etag and time known),
    and read what it left; a failed run is returned, not raised.

    ``endpoint_url`` points the run's boto3 clients elsewhere (a proxy in front of the emulator)
    while the test's own reads keep going to the emulator directly.
    """
    refs = [archive.ref(key) for key in keys]
    saved = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint_url is not None:
        os.environ["AWS_ENDPOINT_URL"] = endpoint_url
    try:
        started = time.monotonic()
        run = archive.ingest(refs, raise_on_error=False)
        seconds = time.monotonic() - started
    finally:
        if saved is None:
            os.environ.pop("AWS_ENDPOINT_URL", None)
        else:
            os.environ["AWS_ENDPOINT_URL"] = saved
    return NightIngest(archive, keys, run, seconds, IngestOutcome.read(archive))
