"""A night of uploads, sent the way observatories send it, and what the archive has made of it so far."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from photon_archive.aws.clients import client
from photon_archive.catalog.rows import FLAGS
from photon_archive.naming import FileKind, parse_key, thumbnail_key
from photon_archive_tests.archive import Archive
from photon_archive_tests.e2e.stack import wait_for
from photon_archive_workshop.sample import SampleFile


def by_exposure(files: Sequence[SampleFile]) -> list[list[SampleFile]]:
    """The files grouped per exposure, each group in upload order (the sample writes the header first)."""
    groups: dict[str, list[SampleFile]] = {}
    for file in files:
        groups.setdefault(parse_key(file.key).base_filename, []).append(file)
    return list(groups.values())


class Uploader:
    """Uploads exposures side by side, each one's files in order, as several telescopes would.

    ``seconds_between_exposures`` spreads the night out: exposure ``i`` starts no earlier than
    ``i`` times that after the start. ``uploaded`` counts the objects written so far.
    """

    def __init__(
        self,
        bucket: str,
        exposures: Sequence[Sequence[SampleFile]],
        workers: int = 4,
        seconds_between_exposures: float = 0.0,
    ) -> None:
        self.bucket = bucket
        self.exposures = exposures
        self.workers = workers
        self.seconds_between_exposures = seconds_between_exposures
        self.uploaded = 0
        self.finished_at: float | None = None
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    @property
    def total(self) -> int:
        return sum(len(files) for files in self.exposures)

    def run(self) -> float:
        """Upload everything; returns the ``time.monotonic()`` at which the last object was written."""
        s3 = client("s3")
        started = time.monotonic()

        def send(index: int) -> None:
            delay = started + index * self.seconds_between_exposures - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            for file in self.exposures[index]:
                s3.put_object(
                    Bucket=self.bucket,
                    Key=file.key,
                    Body=file.body,
                    ContentType=file.content_type,
                    Metadata=file.metadata,
                )
                with self._lock:
                    self.uploaded += 1

        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            for future in [pool.submit(send, index) for index in range(len(self.exposures))]:
                future.result()
        self.finished_at = time.monotonic()
        return self.finished_at

    def start(self) -> Uploader:
        def target() -> None:
            try:
                self.run()
            except BaseException as error:  # noqa: BLE001 - handed to join()
                self._error = error

        self._thread = threading.Thread(target=target, daemon=True)
        self._thread.start()
        return self

    def wait_until_uploaded(self, count: int, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while self.uploaded < count:
            if self._error is not None:
                raise self._error
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.uploaded} of {count} objects uploaded after {timeout_s:.0f} s")
            time.sleep(0.1)

    def join(self, timeout_s: float) -> float:
        assert self._thread is not None
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            raise TimeoutError(f"the upload did not finish within {timeout_s:.0f} s ({self.uploaded} sent)")
        if self._error is not None:
            raise self._error
        assert self.finished_at is not None
        return self.finished_at


@dataclass
class NightWatch:
    """What the archive should hold once a night is ingested, and what it still lacks."""

    archive: Archive
    uploaded_keys: list[str]
    notified: set[str] = field(default_factory=set)

    @property
    def base_filenames(self) -> list[str]:
        return sorted({parse_key(key).base_filename for key in self.uploaded_keys})

    @property
    def thumbnail_keys(self) -> list[str]:
        return sorted(
            thumbnail_key(name)
            for name in map(parse_key, self.uploaded_keys)
            if name.kind is FileKind.MEDIUM_JPG
        )

    @property
    def all_keys(self) -> list[str]:
        return sorted(self.uploaded_keys + self.thumbnail_keys)

    def images(self) -> dict[str, dict[str, Any]]:
        rows = self.archive.query(f"SELECT base_filename, {', '.join(FLAGS)} FROM images")
        return {row["base_filename"]: row for row in rows}

    def ledger(self) -> dict[str, dict[str, Any]]:
        rows = self.archive.query("SELECT key, state, run_id, run_key, reason FROM object_ledger")
        return {row["key"]: row for row in rows}

    def bucket_keys(self, prefix: str = "data/") -> set[str]:
        pages = (
            client("s3")
            .get_paginator("list_objects_v2")
            .paginate(Bucket=self.archive.settings.bucket, Prefix=prefix)
        )
        return {item["Key"] for page in pages for item in page.get("Contents", [])}

    def upload_log(self) -> set[str]:
        pages = (
            client("dynamodb")
            .get_paginator("scan")
            .paginate(TableName=self.archive.settings.upload_log_table)
        )
        return {item["filename"]["S"] for page in pages for item in page["Items"]}

    def drain_datastream(self) -> None:
        for message in self.archive.datastream():
            self.notified.add(message["data"]["base_filename"])

    def wait_until_done(self, what: str, timeout_s: float, datastream: bool = False) -> None:
        """Wait until nothing is outstanding; fail after ``timeout_s`` with ``what`` and the gaps left."""
        gaps: list[str] = []

        def done() -> bool:
            gaps[:] = self.outstanding(datastream)
            return not gaps

        try:
            wait_for(what, done, timeout_s)
        except TimeoutError as error:
            raise AssertionError(f"{error}; still missing:\n" + "\n".join(gaps)) from None

    def outstanding(self, datastream: bool = False) -> list[str]:
        """What is still missing, one line per kind of gap, with a few examples; empty once done."""
        gaps: list[str] = []
        rows = self.images()
        incomplete = [
            f"{base} { ({flag: rows[base][flag] for flag in FLAGS} if base in rows else 'no row') }"
            for base in self.base_filenames
            if base not in rows or not all(rows[base][flag] for flag in FLAGS)
        ]
        _gap(gaps, "exposures without a complete images row", incomplete)
        in_bucket = self.bucket_keys()
        _gap(gaps, "thumbnails not in the bucket", [k for k in self.thumbnail_keys if k not in in_bucket])
        ledger = self.ledger()
        _gap(
            gaps,
            "objects without an ingested ledger row",
            [
                f"{key} ({ledger[key]['state']}, run {ledger[key]['run_id']}, key {ledger[key]['run_key']})"
                if key in ledger
                else f"{key} (no row)"
                for key in self.all_keys
                if ledger.get(key, {}).get("state") != "ingested"
            ],
        )
        logged = self.upload_log()
        _gap(gaps, "objects without a recent-uploads-log item", [k for k in self.all_keys if k not in logged])
        if datastream:
            self.drain_datastream()
            _gap(
                gaps,
                "exposures without a datastream message",
                [b for b in self.base_filenames if b not in self.notified],
            )
        return gaps


def _gap(gaps: list[str], what: str, missing: list[str]) -> None:
    if missing:
        gaps.append(f"{len(missing)} {what}, e.g. {missing[:3]}")
