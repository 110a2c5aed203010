"""The local stack's Dagster instance: the dagster.yaml at the top of the repository.

That file is the local instance (SQLite storage in the Dagster home, no database server), read by
Dagster's own commands run at the checkout's root as well as by the local stack, so the two share one
description of it; production's is ``deploy/dagster.yaml``. The workshop is installed from a checkout
(``make install`` installs it editable), so the file is found two folders above this package.
"""

from __future__ import annotations

from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]
LOCAL_DAGSTER_YAML = CHECKOUT / "dagster.yaml"


def local_dagster_yaml() -> Path:
    """The local instance's dagster.yaml; an error that says why when there is no checkout around."""
    if not LOCAL_DAGSTER_YAML.is_file():
        raise FileNotFoundError(
            f"the local Dagster instance {LOCAL_DAGSTER_YAML} is missing: the workshop runs from a"
            " checkout of photon_archive (pip install -e ./workshop)"
        )
    return LOCAL_DAGSTER_YAML
