"""The definitions load from the defs folder, from a checkout and from an installed copy alike."""

from __future__ import annotations

import subprocess
import sys

import pytest
from dagster import ComponentTree, Definitions, load_from_defs_folder

import photon_archive.defs
from photon_archive.definitions import PROJECT_ROOT, build_definitions
from photon_archive.settings import DEPLOYMENTS, Settings


def _names(definitions: Definitions) -> dict[str, set[str]]:
    repository = definitions.get_repository_def()
    return {
        "jobs": {job.name for job in repository.get_all_jobs()},
        "sensors": {sensor.name for sensor in repository.sensor_defs},
        "schedules": {schedule.name for schedule in repository.schedule_defs},
        "checks": {key.name for key in repository.asset_checks_defs_by_key},
    }


def test_an_installed_copy_loads_the_same_objects_as_the_project_config_names() -> None:
    resources = build_definitions(Settings(database_url="sqlite://")).resources
    from_config = Definitions.merge(
        load_from_defs_folder(path_within_project=PROJECT_ROOT), Definitions(resources=resources)
    )
    by_module = ComponentTree.from_module(defs_module=photon_archive.defs, project_root=PROJECT_ROOT)
    installed = Definitions.merge(by_module.build_defs(), Definitions(resources=resources))
    assert _names(installed) == _names(from_config)
    assert _names(build_definitions(Settings(database_url="sqlite://"))) == _names(from_config)
    assert {"ingest", "replay", "asset_checks"} <= _names(from_config)["jobs"]
    assert _names(from_config)["sensors"] == {
        "s3_event_queue",
        "s3_prefix_scan",
        "run_failure_alerts",
        "dead_letter_alerts",
        "waiting_object_alerts",
        "resolve_earlier_failures",
    }


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_every_deployment_loads_every_job_with_its_resources(deployment: str) -> None:
    settings = Settings(
        deployment=deployment,
        database_url="postgresql://archive@db/photon_archive",
        legacy_database_url="postgresql://reader@rds/photonranch",
    )
    definitions = build_definitions(settings)
    provided = {"io_manager", *(definitions.resources or {})}
    for job in definitions.get_repository_def().get_all_jobs():
        assert job.required_resource_keys <= provided, job.name
    compare = definitions.resolve_job_def("compare_with_legacy")
    assert {"catalog", "legacy_catalog"} <= compare.required_resource_keys


def test_loading_the_code_location_leaves_the_header_parser_and_the_component_listing_unimported() -> None:
    """A run process loads the code location before any op runs: astropy (with numpy) is for the ops
    that parse a header, and the installed libraries' component types for ``dg``'s scaffolding."""
    unwanted = ("astropy", "numpy", "alembic", "dagster_aws.components")
    script = f"import sys, photon_archive.definitions; print([m for m in {unwanted} if m in sys.modules])"
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]", loaded.stderr
