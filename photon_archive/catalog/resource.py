"""The catalog as a Dagster resource."""

from __future__ import annotations

from dagster import ConfigurableResource
from sqlalchemy import Engine

from photon_archive.catalog.engine import engine_for


class Catalog(ConfigurableResource):  # type: ignore[type-arg]
    """The database holding ``images``, ``allsky_images`` and the object ledger."""

    database_url: str

    def engine(self) -> Engine:
        return engine_for(self.database_url)
