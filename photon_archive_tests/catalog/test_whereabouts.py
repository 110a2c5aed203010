"""An object's history of runs, kept beside the ledger, and the search that reads both, on
PostgreSQL and SQLite; the prefix's upper bound on any text."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import create_engine, text

from photon_archive.catalog.store import claim_objects, known_objects, record_objects
from photon_archive.catalog.whereabouts import prefix_end, whereabouts
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


def _catalog(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        record_objects(
            connection,
            [
                _record(JPG, "rejected", "run-1", "not a decodable image"),
                _record(TXT, "ingested", "run-1"),
                _record(OTHER, "ingested", "run-1"),
                _record(LATER_NIGHT, "ingested", "run-1"),
            ],
            T0,
        )
    with engine.begin() as connection:
        record_objects(connection, [_record(JPG, "ingested", "run-2"), _record(TXT, "ingested", "run-2")], T0)
    engine.dispose()


def test_a_key_a_base_filename_and_a_prefix_of_either_find_exactly_their_objects(
    migrated_catalog_url: str,
) -> None:
    _catalog(migrated_catalog_url)
    engine = create_engine(migrated_catalog_url)
    with engine.connect() as connection:
        by_key = whereabouts(connection, JPG)
        by_base = whereabouts(connection, BASE)
        by_key_prefix = whereabouts(connection, "data/sro-kb001ms-20261124-")
        by_base_prefix = whereabouts(connection, "sro-kb001ms-20261125")
        limited = whereabouts(connection, "data/", limit=2)
        nothing = whereabouts(connection, "data/sro-kb001ms-20261124-00000003")
    engine.dispose()

    (jpg,) = by_key.objects
    assert (jpg.key, jpg.state, jpg.reason, jpg.size) == (JPG, "ingested", None, 10)
    assert [(run.run_id, run.state, run.reason) for run in jpg.runs] == [
        ("run-1", "rejected", "not a decodable image"),
        ("run-2", "ingested", None),
    ]
    assert [item.key for item in by_base.objects] == [TXT, JPG]
    assert [item.key for item in by_key_prefix.objects] == [TXT, JPG, OTHER]
    assert [item.key for item in by_base_prefix.objects] == [LATER_NIGHT]
    assert ([item.key for item in limited.objects], limited.more) == ([TXT, JPG], True)
    assert (nothing.objects, nothing.more) == ((), False)


@given(st.text(min_size=1), st.text(), st.text(), st.integers(0, 3))
def test_the_range_to_the_prefix_end_holds_exactly_the_strings_that_start_with_the_prefix(
    prefix: str, rest: str, other: str, near: int
) -> None:
    end = prefix_end(prefix)
    # Strings with the prefix, strings that share all of it but its last character, strings from the
    # bound on, and any string at all.
    candidate = (prefix + rest, prefix[:-1] + rest, (end or "") + rest, other)[near]

    within = prefix <= candidate and (end is None or candidate < end)  # Python orders by code point

    assert within == candidate.startswith(prefix)
    assert end is None or end.encode("utf-8")  # a bound the database can hold


def test_a_prefix_of_only_the_highest_code_point_has_no_end() -> None:
    assert prefix_end(chr(sys.maxunicode) * 2) is None
    assert prefix_end("data/") == "data0"
    assert prefix_end("a\ud7ff") == "a\ue000"
