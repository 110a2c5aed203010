"""The replay job from the launchpad, on moto's server and PostgreSQL: a selection that matches
nothing says so, and a replay of several batches tells how far it is."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from dagster import ExecuteInProcessResult

from photon_archive.definitions import build_definitions
from photon_archive.defs.ingest import BATCH_OBJECTS
from photon_archive_tests.archive import Archive


def _replay(archive: Archive, **config: Any) -> ExecuteInProcessResult:
    job = build_definitions(archive.settings).resolve_job_def("replay")
    return job.execute_in_process(
        run_config={"ops": {"replay_objects": {"config": config}}},
        instance=archive.instance,
        raise_on_error=False,
    )


def _logged(archive: Archive, result: ExecuteInProcessResult) -> list[str]:
    return [entry.user_message for entry in archive.instance.all_logs(result.run_id)]


def test_a_replay_selecting_no_object_fails_naming_its_selection(archive: Archive) -> None:
    archive.upload_sample(count=1, files=("txt",))  # sro, 2026-11-24: not what is selected

    result = _replay(archive, site="saf", first_night="2026-11-20", last_night="2026-11-30")

    assert not result.success
    (failure,) = result.get_step_failure_events()
    error = failure.step_failure_data.error
    assert error is not None
    assert (
        "the replay selects no object: nothing in the bucket matches prefix data/, site saf, "
        "nights 2026-11-20 to 2026-11-30"
    ) in error.message


def test_a_replay_of_several_batches_logs_its_progress_after_each(archive: Archive) -> None:
    # Names that are no observatory's: each is rejected on its name alone, so the batches are cheap.
    keys = [f"data/not-an-exposure-{n:04d}.txt" for n in range(BATCH_OBJECTS + 1)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda key: archive.put(key, b"x", "text/plain"), keys))

    result = _replay(archive)

    assert result.success
    assert result.output_for_node("replay_objects").rejected == len(keys)
    progress = [line for line in _logged(archive, result) if line.startswith("replayed ")]
    assert progress == [
        f"replayed {BATCH_OBJECTS} of {len(keys)} objects",
        f"replayed {len(keys)} of {len(keys)} objects",
    ]
