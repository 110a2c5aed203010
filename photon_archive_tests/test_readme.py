"""The README's launchpad examples run as written: each YAML block an operator pastes into a job's
launchpad is run against the local stack's sample, and selects real objects of it."""

from __future__ import annotations

import re
import textwrap
from typing import Any

import yaml
from dagster import ExecuteInProcessResult

from photon_archive.definitions import PROJECT_ROOT, build_definitions
from photon_archive_tests.archive import Archive
from photon_archive_tests.legacy_catalog import create_legacy_catalog

README = PROJECT_ROOT / "README.md"
# The job whose launchpad each example's op belongs to.
JOBS = {
    "ingest_objects": "ingest",
    "replay_objects": "replay",
    "compare_catalogs_with_legacy": "compare_with_legacy",
    "delete_expired_exposures": "expire_exposures",
}
# What `make run` uploads of site sro on the sample night (photon-archive-workshop dev's default).
STACK_EXPOSURES = 12
_FENCE = re.compile(r"^(?P<indent>[ ]*)```yaml\n(?P<body>.*?)^(?P=indent)```$", re.MULTILINE | re.DOTALL)


def launchpad_examples() -> list[dict[str, Any]]:
    """Every YAML block of the README that configures a job's ops, in the README's order."""
    examples = []
    for fence in _FENCE.finditer(README.read_text()):
        config = yaml.safe_load(textwrap.dedent(fence["body"]))
        if isinstance(config, dict) and "ops" in config:
            examples.append(config)
    return examples


def _examples_for(op: str) -> list[dict[str, Any]]:
    examples = [config for config in launchpad_examples() if op in config["ops"]]
    assert examples, f"the README has no launchpad example for {op}"
    return examples


def _run(archive: Archive, config: dict[str, Any]) -> ExecuteInProcessResult:
    (op,) = config["ops"]
    job = build_definitions(archive.settings).resolve_job_def(JOBS[op])
    return job.execute_in_process(run_config=config, instance=archive.instance)


def test_every_launchpad_example_of_the_readme_is_one_of_a_known_job() -> None:
    examples = launchpad_examples()

    assert len(examples) >= len(JOBS)
    assert {op for config in examples for op in config["ops"]} == set(JOBS)


def test_the_ingest_example_ingests_objects_of_the_sample(archive: Archive) -> None:
    uploaded = set(archive.upload_sample(count=STACK_EXPOSURES))

    for config in _examples_for("ingest_objects"):
        named = {entry["key"] for entry in config["ops"]["ingest_objects"]["config"]["objects"]}
        assert named <= uploaded, f"keys the sample does not have: {sorted(named - uploaded)}"
        result = _run(archive, config)
        assert result.output_for_node("ingest_objects").ingested == len(named) > 0


def test_the_replay_example_replays_objects_of_the_sample(archive: Archive) -> None:
    archive.upload_sample(count=STACK_EXPOSURES)

    for config in _examples_for("replay_objects"):
        assert _run(archive, config).output_for_node("replay_objects").ingested > 0


def test_the_comparison_example_runs_on_the_dual_deployment(dual: Archive, legacy_database_url: str) -> None:
    create_legacy_catalog(legacy_database_url, tables=("images",))
    assert dual.ingest(dual.upload_sample(count=2)).success

    for config in _examples_for("compare_catalogs_with_legacy"):
        assert _run(dual, config).success


def test_the_expiry_dry_run_example_runs_and_deletes_nothing(archive: Archive) -> None:
    keys = archive.upload_sample(count=2, data_type="EP")  # EP exposures expire after a week
    assert archive.ingest(keys).success

    for config in _examples_for("delete_expired_exposures"):
        assert _run(archive, config).success
        assert set(keys) <= set(archive.keys("data/"))  # a dry run deletes nothing
