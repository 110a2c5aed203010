"""The one place that wires photon_archive together for Dagster (the module ``workspace.yaml`` names).

The Dagster objects are whatever ``photon_archive.defs`` holds, found the ``dg`` way; the resources
are built from one ``Settings`` and chosen by its deployment (``PHOTON_ARCHIVE_DEPLOYMENT``) in
``defs/resources.py``: ``local`` runs on the embedded stack with the SQLite catalog as its default,
``aws`` requires ``PHOTON_ARCHIVE_DATABASE_URL``, ``dual`` is ``aws`` beside the old system, writing
its own catalog and nothing the old system's readers see. All reach AWS through boto3's standard
chain (``AWS_ENDPOINT_URL`` names the emulator locally).
"""

from __future__ import annotations

import warnings
from functools import cache
from pathlib import Path

from dagster import ComponentTree, Definitions, PreviewWarning

import photon_archive.defs
from photon_archive.defs.resources import resources_for
from photon_archive.settings import Settings

# The repository root: pyproject.toml's [tool.dg] names the defs module there.
PROJECT_ROOT = Path(__file__).resolve().parent.parent


@cache
def defs_folder() -> Definitions:
    """Every job, sensor, schedule, asset and check in ``photon_archive.defs``.

    From a checkout or an editable install, the component tree reads the project's config from
    pyproject.toml. An installed copy (``pip install .``, in site-packages) has no pyproject above
    it, so there the same folder is loaded by naming the defs module itself.

    The definitions are built at the defs folder itself, not at the tree's root as
    ``load_from_defs_folder`` does: the root adds a listing of every component type the installed
    Dagster libraries offer (for ``dg``'s scaffolding), which imports those libraries whole
    (``dagster_aws``'s components alone are most of a second) in every run process, and this project
    declares no components.
    """
    if (PROJECT_ROOT / "pyproject.toml").is_file():
        tree = ComponentTree.for_project(path_within_project=PROJECT_ROOT)
    else:
        tree = ComponentTree.from_module(defs_module=photon_archive.defs, project_root=PROJECT_ROOT)
    with warnings.catch_warnings():
        # The defs folder's loader is Dagster's own, marked preview; load_from_defs_folder hides
        # the same warning.
        warnings.simplefilter("ignore", PreviewWarning)
        return tree.build_defs(tree.defs_module_path)


def build_definitions(settings: Settings) -> Definitions:
    return Definitions.merge(defs_folder(), Definitions(resources=resources_for(settings)))


def definitions_from_env() -> Definitions:
    """The definitions for the settings (the deployment among them) the environment names now."""
    return build_definitions(Settings.from_env())


defs = definitions_from_env()
