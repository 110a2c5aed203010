"""An object's history of runs, kept beside the ledger, on PostgreSQL and SQLite."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import create_engine, text

from photon_archive.catalog.store import claim_objects, known_objects, record_objects
from photon_archive.records import LedgerRecord

BASE = "sro-kb001ms-20261124-00000001"
JPG, TXT = f"data/{BASE}-EX10.jpg", f"data/{BASE}-EX00.txt"
OTHER = "data/sro-kb001ms-20261124-00000002-EX00.txt"
LATER_NIGHT = "data/sro-kb001ms-20261125-00000001-EX00.txt"
T0 = datetime(2026, 11, 24, 23, 0)


def _record(
    key: str, state: str, run_id: str | None, reason: str | None = None, run_key: str | None = None
) -> LedgerRecord:
    base = key.removeprefix("data/").rsplit("-", 1)[0]
    return LedgerRecord(
        key,
        state,
        run_id,
        etag="e1",
        size=10,
        prefix="data",
        base_filename=base,
        reason=reason,
        run_key=run_key,
    )


def _history(url: str) -> list[tuple[str, str, str, str | None]]:
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT key, run_id, state, reason FROM object_runs ORDER BY entry_id")
        )
        history = [(row.key, row.run_id, row.state, row.reason) for row in rows]
    engine.dispose()
    return history


def test_each_run_is_appended_to_the_history_and_a_claim_is_not(migrated_catalog_url: str) -> None:
    engine = create_engine(migrated_catalog_url)
    with engine.begin() as connection:
        record_objects(
            connection,
            [
                _record(JPG, "rejected", "run-ingest", "not a decodable image"),
                _record(TXT, "ingested", "run-ingest"),
            ],
            T0,
        )
    with engine.begin() as connection:
        record_objects(connection, [_record(JPG, "ingested", "run-replay")], T0 + timedelta(hours=1))
    after_runs = _history(migrated_catalog_url)
    with engine.begin() as connection:
        known = known_objects(connection, [JPG, OTHER])
        claimed = claim_objects(
            connection,
            [_record(JPG, "queued", None, run_key="k1"), _record(OTHER, "queued", None, run_key="k1")],
            known,
            T0 + timedelta(hours=2),
        )
        record_objects(connection, [_record(TXT, "queued", None, run_key="k2")], T0 + timedelta(hours=2))
    engine.dispose()

    assert after_runs == [
        (TXT, "run-ingest", "ingested", None),
        (JPG, "run-ingest", "rejected", "not a decodable image"),
        (JPG, "run-replay", "ingested", None),
    ]
    assert claimed == {JPG, OTHER}
    assert _history(migrated_catalog_url) == after_runs
