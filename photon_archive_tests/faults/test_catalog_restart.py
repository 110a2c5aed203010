"""The catalog's PostgreSQL server crashes and comes back while an ingest run is writing to it.

The server is a private one (the machine's own is shared and never restarted by a test), really
stopped with ``pg_ctl stop -m immediate`` and started again, so every connection the run holds dies
as it would in a crash or a failover.
"""

from __future__ import annotations

import time
from dataclasses import replace

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.pool import NullPool

from photon_archive_tests.archive import Archive
from photon_archive_tests.faults.during import FaultDuringRun
from photon_archive_tests.faults.outcome import ingest_night
from photon_archive_tests.postgres import PostgresCluster

EXPOSURES = 8
# Well inside the ingest step's retries: their delays are 2±2 s, 6±2 s and 14±2 s, so the last
# attempt comes at least 16 s after the first failure.
OUTAGE_S = 2.0
WAITING_FOR_A_LOCK = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


class RestartDuringCommit(FaultDuringRun):
    """Crashes the server at the worst moment for the run: inside its catalog transaction, after
    thumbnails, upload-log and expiration items are written, before the commit.

    A write lock held on ``images`` stops the run's first upsert; once the run waits on it, the
    server is stopped (killing the lock holder and the run's transaction alike), left down for
    ``outage_s`` and started again.
    """

    def __init__(self, cluster: PostgresCluster, database_url: str, outage_s: float) -> None:
        super().__init__()
        self.cluster = cluster
        self.engine = create_engine(database_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        self.outage_s = outage_s
        self.down_for_s: float | None = None
        self._holder: Connection | None = None

    def before(self) -> None:
        holder = self.engine.connect().execution_options(isolation_level="READ COMMITTED")
        holder.begin()
        holder.execute(text("LOCK TABLE images IN EXCLUSIVE MODE"))  # reads go on, writes wait
        self._holder = holder

    def inject(self) -> None:
        with self.engine.connect() as watcher:
            self.wait_until(
                lambda: bool(watcher.execute(text(WAITING_FOR_A_LOCK)).scalar_one()),
                "it waited to write the catalog",
            )
        stopped = time.monotonic()
        self.cluster.stop("immediate")
        time.sleep(self.outage_s)
        self.cluster.start()
        self.down_for_s = time.monotonic() - stopped

    def after(self) -> None:
        if self._holder is not None:
            self._holder.invalidate()  # its server process died in the crash
        self.engine.dispose()


def test_a_catalog_crash_inside_the_runs_transaction_is_retried_to_the_same_catalog_as_without_it(
    archive: Archive, postgres_cluster: PostgresCluster
) -> None:
    keys = archive.upload_sample(count=EXPOSURES)
    catalog = Archive(
        replace(archive.settings, database_url=postgres_cluster.new_catalog()), archive.instance
    )

    with RestartDuringCommit(postgres_cluster, catalog.settings.database_url, OUTAGE_S) as restart:
        faulted = ingest_night(catalog, keys)
    reference = ingest_night(archive, keys)

    print(
        f"catalog down {restart.down_for_s:.1f} s; run {faulted.seconds:.1f} s with "
        f"{len(faulted.retries)} retries (without the crash: {reference.seconds:.1f} s)"
    )
    assert faulted.run.success
    assert reference.run.success and not reference.retries
    # The crash reached the run: its first attempt failed on the dead connection.
    assert faulted.retries and "OperationalError" in faulted.retries[0], faulted.retries
    faulted.assert_complete()
    faulted.outcome.assert_same_data_as(reference.outcome)
