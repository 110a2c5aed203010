"""Runs older than the configured age are deleted with their event logs; younger ones stay."""

from __future__ import annotations

from photon_archive_tests.archive import Archive
from photon_archive_tests.maintenance.runs import run

DAY = 86_400


def _created(archive: Archive, run_id: str) -> float:
    record = archive.instance.get_run_record_by_id(run_id)
    assert record is not None
    return record.create_timestamp.timestamp()


def _exists(archive: Archive, run_id: str) -> bool:
    return archive.instance.get_run_by_id(run_id) is not None


def test_runs_older_than_the_age_go_with_their_events_and_younger_runs_stay(archive: Archive) -> None:
    older = [run(archive, "expire_upload_log", dry_run=True).result.run_id for _ in range(2)]
    younger = run(archive, "expire_upload_log", dry_run=True).result.run_id
    boundary = (_created(archive, older[-1]) + _created(archive, younger)) / 2
    month_later = boundary + 30 * DAY  # the default age
    assert archive.instance.all_logs(older[0])

    assert run(archive, "prune_run_history", at=boundary, dry_run=True).count("runs") == 0

    dry = run(archive, "prune_run_history", at=month_later, dry_run=True)
    assert dry.count("runs") == 2 and all(run_id in dry.listing for run_id in older)
    assert all(_exists(archive, run_id) for run_id in [*older, younger])

    pruned = run(archive, "prune_run_history", at=month_later)
    assert pruned.count("runs") == 2
    assert not any(_exists(archive, run_id) for run_id in older)
    assert archive.instance.all_logs(older[0]) == []
    assert _exists(archive, younger) and _exists(archive, dry.result.run_id)

    # A year on, with a shorter age, every run is old: all go but the one doing the pruning.
    last = run(archive, "prune_run_history", at=month_later + 365 * DAY, older_than_days=7)
    assert last.count("runs") == 4  # the younger run and the three pruning runs before this one
    assert archive.instance.get_run_ids() == [last.result.run_id]
