"""The catalog's PostgreSQL server crashes and comes back while an ingest run is writing to it.

The server is a private one (the machine's own is shared and never restarted by a test), really
stopped with ``pg_ctl stop -m immediate`` and started again, so every connection the run holds dies
as it would in a crash or a failover.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from types import TracebackType

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.pool import NullPool

from photon_archive_tests.archive import Archive
from photon_archive_tests.faults.cluster import PostgresCluster
from photon_archive_tests.faults.outcome import (
    IngestOutcome,
    assert_night_ingested,
    step_retries,
    timed_ingest,
)

EXPOSURES = 8
# Well inside the ingest step's retries: their delays are 2±2 s, 6±2 s and 14±2 s, so the last
# attempt comes at least 16 s after the first failure.
OUTAGE_S = 2.0
WAITING_FOR_A_LOCK = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


class RestartDuringCommit:
    """Crashes the server at the worst moment for the run: inside its catalog transaction, after
    thumbnails, upload-log and expiration items are written, before the commit.

    A write lock held on ``images`` stops the run's first upsert; once the run waits on it, the
    server is stopped (killing the lock holder and the run's transaction alike), left down for
    ``outage_s`` and started again.
    """

    def __init__(self, cluster: PostgresCluster, database_url: str, outage_s: float) -> None:
        self.cluster = cluster
        self.engine = create_engine(database_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        self.outage_s = outage_s
        self.down_for_s: float | None = None
        self._holder: Connection | None = None
        self._run_over = threading.Event()
        self._thread = threading.Thread(target=self._restart, daemon=True)
        self._error: BaseException | None = None

    def __enter__(self) -> RestartDuringCommit:
        holder = self.engine.connect().execution_options(isolation_level="READ COMMITTED")
        holder.begin()
        holder.execute(text("LOCK TABLE images IN EXCLUSIVE MODE"))  # reads go on, writes wait
        self._holder = holder
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._run_over.set()
        self._thread.join(timeout=60)
        if self._holder is not None:
            self._holder.invalidate()  # its server process died in the crash
        self.engine.dispose()
        if self._error is not None and error is None:
            raise self._error

    def _restart(self) -> None:
        try:
            with self.engine.connect() as watcher:
                while not watcher.execute(text(WAITING_FOR_A_LOCK)).scalar_one():
                    if self._run_over.wait(0.02):
                        raise AssertionError("the run ended without ever waiting to write the catalog")
            stopped = time.monotonic()
            self.cluster.stop("immediate")
            time.sleep(self.outage_s)
            self.cluster.start()
            self.down_for_s = time.monotonic() - stopped
        except BaseException as error:  # noqa: BLE001 - raised in the test's thread by __exit__
            self._error = error


def test_a_catalog_crash_inside_the_runs_transaction_is_retried_to_the_same_catalog_as_without_it(
    archive: Archive, postgres_cluster: PostgresCluster
) -> None:
    keys = archive.upload_sample(count=EXPOSURES)
    refs = [archive.ref(key) for key in keys]
    faulted = Archive(
        replace(archive.settings, database_url=postgres_cluster.new_catalog()), archive.instance
    )

    with RestartDuringCommit(postgres_cluster, faulted.settings.database_url, OUTAGE_S) as restart:
        result, seconds = timed_ingest(faulted, refs)
    outcome = IngestOutcome.read(faulted)
    reference_result, reference_seconds = timed_ingest(archive, refs)
    reference = IngestOutcome.read(archive)

    retries = step_retries(result)
    print(
        f"catalog down {restart.down_for_s:.1f} s; run {seconds:.1f} s with {len(retries)} retries "
        f"(without the crash: {reference_seconds:.1f} s)"
    )
    assert result.success
    assert reference_result.success and not step_retries(reference_result)
    # The crash reached the run: its first attempt failed on the dead connection.
    assert retries and "OperationalError" in retries[0], retries
    assert_night_ingested(faulted, outcome, keys, result)
    assert outcome.images == reference.images
    assert outcome.ledger == reference.ledger
    assert outcome.notified == reference.notified
