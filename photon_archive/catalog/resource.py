"""The catalogs as Dagster resources: photon_archive's own, and the old system's, read only."""

from __future__ import annotations

from dagster import ConfigurableResource
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from photon_archive.catalog.engine import engine_for
from photon_archive.errors import Misconfigured
from photon_archive.settings import ENVIRONMENT


class Catalog(ConfigurableResource):  # type: ignore[type-arg]
    """The database holding ``images``, ``allsky_images`` and the object ledger."""

    database_url: str

    def engine(self) -> Engine:
        return engine_for(self.database_url)


class LegacyCatalog(ConfigurableResource):  # type: ignore[type-arg]
    """The old system's catalog (LEGACY.md: its ``images`` table on RDS PostgreSQL), which
    photon_archive only ever reads, each read in a read-only transaction (``catalog/side_by_side.py``)."""

    database_url: str = ""

    def engine(self) -> Engine:
        variable = ENVIRONMENT["legacy_database_url"]
        if not self.database_url:
            raise Misconfigured(f"{variable} is not set: it names the old system's catalog, to be read")
        try:
            backend = make_url(self.database_url).get_backend_name()
        except ArgumentError:
            raise Misconfigured(
                f"{variable} is not a database URL such as postgresql://user@host/db"
            ) from None
        if backend != "postgresql":
            raise Misconfigured(
                f"{variable} names a {backend} database; the old system's catalog is PostgreSQL, "
                "read in read-only transactions"
            )
        return engine_for(self.database_url)
