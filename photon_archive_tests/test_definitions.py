"""The definitions load from the defs folder, from a checkout and from an installed copy alike."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest
from dagster import Definitions, instance_for_test

from photon_archive.definitions import PROJECT_ROOT, build_definitions
from photon_archive.settings import DEPLOYMENTS, Settings


@pytest.fixture(autouse=True)
def loading_instance() -> Iterator[None]:
    """Load as a code server does, beside a live instance: an instance's definitions state storage
    stays current after the instance is gone (Dagster sets it when one is entered and does not
    unset it), so a load after an earlier test's instance would find that storage dead."""
    with instance_for_test():
        yield


def _names(definitions: Definitions) -> dict[str, set[str]]:
    repository = definitions.get_repository_def()
    return {
        "jobs": {job.name for job in repository.get_all_jobs()},
        "sensors": {sensor.name for sensor in repository.sensor_defs},
        "schedules": {schedule.name for schedule in repository.schedule_defs},
        "checks": {key.name for key in repository.asset_checks_defs_by_key},
    }


# Run in a fresh interpreter, as a code server loads them: Dagster keeps the definitions-state
# storage of the last instance entered in this process current after the instance is gone, and a
# component tree loaded afterwards would reach for it.
LOADS = f"""
import json
from dagster import ComponentTree, Definitions, load_from_defs_folder
import photon_archive.defs
from photon_archive.definitions import PROJECT_ROOT, build_definitions
from photon_archive.settings import Settings
from {__name__} import _names

resources = build_definitions(Settings(database_url="sqlite://")).resources
from_config = Definitions.merge(
    load_from_defs_folder(path_within_project=PROJECT_ROOT), Definitions(resources=resources)
)
by_module = ComponentTree.from_module(defs_module=photon_archive.defs, project_root=PROJECT_ROOT)
installed = Definitions.merge(by_module.build_defs(), Definitions(resources=resources))
built = build_definitions(Settings(database_url="sqlite://"))
loads = {{"config": from_config, "module": installed, "built": built}}
names = {{load: {{kind: sorted(found) for kind, found in _names(d).items()}} for load, d in loads.items()}}
print(json.dumps(names))
"""


def test_an_installed_copy_loads_the_same_objects_as_the_project_config_names() -> None:
    loaded = subprocess.run([sys.executable, "-c", LOADS], capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert loaded.returncode == 0, loaded.stderr
    answer = json.loads(loaded.stdout)
    names = {load: {kind: set(found) for kind, found in kinds.items()} for load, kinds in answer.items()}
    from_config = names["config"]
    assert names["module"] == from_config
    assert names["built"] == from_config
    assert {"ingest", "replay", "asset_checks", "nightly_report_job"} <= from_config["jobs"]
    assert from_config["sensors"] == {
        "s3_event_queue",
        "s3_prefix_scan",
        "run_failure_alerts",
        "dead_letter_alerts",
        "waiting_object_alerts",
        "nightly_report_refresh",
        "resolve_earlier_failures",
    }
    assert "nightly_report_daily" in from_config["schedules"]


@pytest.fixture
def live_instance() -> Iterator[None]:
    """A load beside a live instance, as a code server's (see ``LOADS``)."""
    with instance_for_test():
        yield


@pytest.mark.usefixtures("live_instance")
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
