"""Requests made durable in the ledger: what sensor ticks at the same moment ask for."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from photon_archive.catalog.engine import engine_for
from photon_archive.catalog.store import known_objects
from photon_archive.ingest.delivery import PlannedRun, RequestFate, request_new
from photon_archive.ingest.objects import ObjectEvent, ObjectRef
from photon_archive.settings import Settings

TICKS = 4


def _thumbnails(round_: int, count: int) -> list[ObjectRef]:
    return [
        ObjectRef(
            f"data/sro-kb001ms-20261201-{round_:04d}{n:04d}-EX11.jpg", ObjectEvent.CREATED, 4096, f"e{n}"
        )
        for n in range(1, count + 1)
    ]


def _ticks_at_once(engine: Engine, refs: list[ObjectRef], now: datetime) -> list[PlannedRun]:
    """What ``TICKS`` ticks of the event sensor and the prefix scan, started together, plan."""
    start = threading.Barrier(TICKS)
    plans: list[list[PlannedRun]] = [[] for _ in range(TICKS)]

    def tick(n: int) -> None:
        start.wait()
        plans[n] = request_new(
            refs, engine, Settings(), ("event", "scan")[n % 2], now, lambda _: RequestFate.NO_RUN
        )

    threads = [threading.Thread(target=tick, args=(n,)) for n in range(TICKS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [plan for tick_plans in plans for plan in tick_plans]


def test_ticks_that_find_the_same_objects_at_once_ask_for_each_of_them_once(
    migrated_catalog_url: str,
) -> None:
    # The event sensor and the prefix scan tick on threads of their own, and both see a thumbnail the
    # archive has just written: one from its event, one from the listing. Whichever writes the ledger
    # second must leave the object to the first, or two runs ingest it. Then, an hour on, the same when
    # the requests look lost (no run under their key) and are made again.
    engine = engine_for(migrated_catalog_url)
    for round_, hours_later in ((0, 0), (1, 0), (1, 1), (2, 0)):
        refs = _thumbnails(round_, 200)
        plans = _ticks_at_once(
            engine, refs, datetime.now(UTC).replace(tzinfo=None) + timedelta(hours=hours_later)
        )

        asked = Counter(ref.key for plan in plans for ref in plan.refs)
        assert sorted(asked) == sorted(ref.key for ref in refs)
        assert set(asked.values()) == {1}, (
            f"asked for twice: {sorted(k for k, n in asked.items() if n > 1)[:5]}"
        )
        # Each object waits in the ledger under the run key of the one run that asks for it.
        run_key = {ref.key: plan.run_key for plan in plans for ref in plan.refs}
        with engine.connect() as connection:
            known = known_objects(connection, run_key)
        assert {key: row.run_key for key, row in known.items()} == run_key
