"""The ``whereis`` job and command answer "what happened to this file?" from the ledger: its state,
its reason and every run that handled it, after the real ingest and a forced replay of the night."""

from __future__ import annotations

import random
from typing import Any

import pytest
from dagster import ExecuteInProcessResult

from photon_archive.cli import main
from photon_archive.definitions import build_definitions
from photon_archive_tests.archive import SAMPLE_NIGHT, Archive

DAY = f"{SAMPLE_NIGHT:%Y%m%d}"
BASE = f"sro-kb001ms-{DAY}-00000001"
REJECTED = f"data/sro-kb001ms-{DAY}-00000002-EX10.jpg"  # random bytes: no image


def _whereis(archive: Archive, key: str, **config: Any) -> ExecuteInProcessResult:
    job = build_definitions(archive.settings).resolve_job_def("whereis")
    return job.execute_in_process(
        run_config={"ops": {"find_objects": {"config": {"key": key, **config}}}},
        instance=archive.instance,
        raise_on_error=False,
    )


def _metadata(result: ExecuteInProcessResult) -> dict[str, Any]:
    assert result.success
    (output,) = [event for event in result.all_node_events if event.is_successful_output]
    return {name: value.value for name, value in output.step_output_data.metadata.items()}


def _failure(result: ExecuteInProcessResult) -> str:
    assert not result.success
    (failure,) = [event for event in result.all_events if event.is_step_failure]
    assert failure.step_failure_data.error is not None
    return failure.step_failure_data.error.message


@pytest.fixture
def replayed(archive: Archive) -> tuple[Archive, list[str], str, str]:
    """A sample exposure and a rejected jpg ingested by the ingest job, then the night replayed by
    force; the uploaded keys and the two runs' ids."""
    keys = archive.upload_sample(count=1)
    archive.put(REJECTED, random.Random(4).randbytes(5000), "image/jpeg")
    ingest = archive.ingest([*keys, REJECTED])
    replay = (
        build_definitions(archive.settings)
        .resolve_job_def("replay")
        .execute_in_process(
            run_config={"ops": {"replay_objects": {"config": {"prefix": "data", "force": True}}}},
            instance=archive.instance,
        )
    )
    return archive, keys, ingest.run_id, replay.run_id


def test_whereis_lists_a_rejected_key_with_its_reason_and_both_runs_in_order(
    replayed: tuple[Archive, list[str], str, str],
) -> None:
    archive, _, ingest, replay = replayed

    metadata = _metadata(_whereis(archive, REJECTED))

    (found,) = [record.data for record in metadata["objects"].records]
    assert (found["key"], found["state"], found["size"]) == (REJECTED, "rejected", 5000)
    assert "not a decodable image" in found["reason"]
    runs = [(r.data["run_id"], r.data["state"]) for r in metadata["runs"].records]
    assert runs == [(ingest, "rejected"), (replay, "rejected")]
    assert f"[{ingest}](/runs/{ingest})" in metadata["summary"]
    assert metadata["summary"].index(ingest) < metadata["summary"].index(f"[{replay}](/runs/{replay})")


def test_whereis_by_base_filename_lists_each_object_of_the_exposure_with_both_runs(
    replayed: tuple[Archive, list[str], str, str],
) -> None:
    archive, keys, ingest, replay = replayed

    metadata = _metadata(_whereis(archive, BASE))

    objects = {record.data["key"]: record.data for record in metadata["objects"].records}
    in_ledger = {
        row["key"] for row in archive.query("SELECT key FROM object_ledger WHERE base_filename = :b", b=BASE)
    }
    assert set(objects) == in_ledger and set(keys) <= in_ledger
    for key in keys:
        assert objects[key]["state"] == "ingested"
        runs = [r.data["run_id"] for r in metadata["runs"].records if r.data["key"] == key]
        assert runs == [ingest, replay], key


def test_a_prefix_finds_exactly_the_objects_under_it_and_no_match_fails_clearly(
    replayed: tuple[Archive, list[str], str, str],
) -> None:
    archive, _, _, _ = replayed
    night = {row["key"] for row in archive.query("SELECT key FROM object_ledger WHERE key LIKE 'data/%'")}

    under_second = _metadata(_whereis(archive, f"data/sro-kb001ms-{DAY}-00000002"))
    whole_night = _metadata(_whereis(archive, f"sro-kb001ms-{DAY}"))
    limited = _metadata(_whereis(archive, f"sro-kb001ms-{DAY}", limit=2))
    missing = _failure(_whereis(archive, f"sro-kb001ms-{DAY}-00000003"))

    assert [record.data["key"] for record in under_second["objects"].records] == [REJECTED]
    assert {record.data["key"] for record in whole_night["objects"].records} == night
    assert (limited["matched"], limited["more"]) == (2, True)
    assert f"Failure: no object in the ledger matches 'sro-kb001ms-{DAY}-00000003'" in missing


def test_the_command_prints_the_same_from_the_catalog_and_exits_1_on_no_match(
    replayed: tuple[Archive, list[str], str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    archive, _, ingest, replay = replayed
    monkeypatch.setenv("PHOTON_ARCHIVE_DATABASE_URL", archive.settings.database_url)

    assert main(["whereis", REJECTED]) == 0
    printed = capsys.readouterr().out
    assert main(["whereis", "data/nothing-here", "--limit", "5"]) == 1
    refused = capsys.readouterr().err

    lines = printed.splitlines()
    assert lines[0] == f"1 object matches {REJECTED!r}"
    assert REJECTED in lines
    assert any(line.startswith("  state          rejected: not a decodable image") for line in lines)
    runs = [line.split()[1:3] for line in lines if line.startswith("  run ")]
    assert runs == [[ingest, "rejected"], [replay, "rejected"]]
    assert refused.strip() == "photon-archive whereis: no object in the ledger matches 'data/nothing-here'"
