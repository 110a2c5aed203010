"""Running the maintenance jobs in tests: at a chosen instant, and reading back what they report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from dagster import ExecuteInProcessResult

from photon_archive.definitions import build_definitions
from photon_archive.maintenance.report import Deletions
from photon_archive.naming import parse_key
from photon_archive_tests.archive import Archive
from photon_archive_workshop.sample import sample_exposures

NIGHT = date(2026, 11, 24)


@dataclass
class Outcome:
    result: ExecuteInProcessResult
    deletions: Deletions
    metadata: dict[str, Any]

    def count(self, kind: str) -> int:
        return int(self.metadata[kind])

    @property
    def listing(self) -> str:
        return str(self.metadata["deleted"])


def run(archive: Archive, job_name: str, at: float | None = None, **config: Any) -> Outcome:
    """Run a maintenance job in the archive's instance as if the time were ``at`` (epoch seconds)."""
    if at is not None:
        config["now"] = datetime.fromtimestamp(at, UTC).isoformat()
    job = build_definitions(archive.settings).resolve_job_def(job_name)
    (op_name,) = [node.name for node in job.graph.nodes]
    result = job.execute_in_process(
        run_config={"ops": {op_name: {"config": config}}}, instance=archive.instance
    )
    assert result.success
    (output,) = [event for event in result.all_node_events if event.is_successful_output]
    metadata = {name: value.value for name, value in output.step_output_data.metadata.items()}
    return Outcome(result, result.output_for_node(op_name), metadata)


def upload(archive: Archive, **options: Any) -> list[str]:
    """Upload sample exposures of one night; returns their keys in upload order."""
    keys = []
    for sample in sample_exposures(night=NIGHT, **options):
        archive.put(sample.key, sample.body, sample.content_type, **sample.metadata)
        keys.append(sample.key)
    return keys


def base_of(keys: list[str]) -> str:
    (base,) = {parse_key(key).base_filename for key in keys}
    return base
