"""The tags a run carries for the Runs page: what it selected, and what came of it."""

from __future__ import annotations

from collections import Counter

from photon_archive.definitions import build_definitions
from photon_archive_tests.archive import Archive
from photon_archive_tests.history import run_baseline
from photon_archive_tests.nights import FIRST


def test_an_ingest_with_a_rejection_says_so_in_its_tags_and_names_its_scope(
    ingested: tuple[Archive, list[str], str],
) -> None:
    archive, keys, run_id = ingested

    run = archive.instance.get_run_by_id(run_id)

    assert run is not None
    ledger = Counter(
        row["state"] for row in archive.query("SELECT state FROM object_ledger WHERE run_id = :r", r=run_id)
    )
    assert {name: value for name, value in run.tags.items() if name.startswith("photon_archive/")} == {
        "photon_archive/job": "ingest",
        "photon_archive/prefix": "data",
        "photon_archive/site": "several",
        "photon_archive/objects": str(len(keys)),
        "photon_archive/ingested": str(ledger["ingested"]),
        "photon_archive/rejected": "2",
        "photon_archive/failed": "0",
        "photon_archive/outcome": "rejections",
    }


def test_replays_and_baselines_are_tagged_with_what_they_select_and_keep_the_tags_given(
    archive: Archive,
) -> None:
    archive.upload_sample(night=FIRST, site="sro", count=1)
    archive.upload_sample(night=FIRST, site="mrc", count=1)
    replay = build_definitions(archive.settings).resolve_job_def("replay")

    of_sro = len(archive.keys("data/sro-"))
    one_site = replay.execute_in_process(
        run_config={"ops": {"replay_objects": {"config": {"prefix": "data", "site": "sro"}}}},
        instance=archive.instance,
    )
    of_both = len(archive.keys("data/"))
    given = replay.execute_in_process(
        run_config={"ops": {"replay_objects": {"config": {"prefix": "data", "force": True}}}},
        instance=archive.instance,
        tags={"photon_archive/site": "as launched"},
    )
    baseline = run_baseline(archive, prefixes=["data"], dry_run=True)

    def tags(run_id: str) -> dict[str, str]:
        run = archive.instance.get_run_by_id(run_id)
        assert run is not None
        return dict(run.tags)

    assert {
        name: tags(one_site.run_id)[name] for name in ("photon_archive/prefix", "photon_archive/site")
    } == {
        "photon_archive/prefix": "data",
        "photon_archive/site": "sro",
    }
    assert tags(one_site.run_id)["photon_archive/objects"] == str(of_sro)
    assert tags(one_site.run_id)["photon_archive/outcome"] == "ingested"
    assert tags(given.run_id)["photon_archive/site"] == "as launched"
    assert tags(given.run_id)["photon_archive/objects"] == str(of_both)
    assert {
        name: tags(baseline.run_id)[name] for name in ("photon_archive/prefix", "photon_archive/site")
    } == {
        "photon_archive/prefix": "data",
        "photon_archive/site": "several",
    }
    assert tags(baseline.run_id)["photon_archive/objects"] == str(len(archive.keys("data/")))
