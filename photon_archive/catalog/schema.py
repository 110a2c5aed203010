"""Applying the catalog migrations, from the command line, the local stack and the tests."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from photon_archive.catalog.engine import ensure_sqlite_folder

MIGRATIONS = Path(__file__).parent / "migrations"
# Dagster's own Postgres storage keeps its migrations in ``alembic_version``; the catalog may share
# that database, so its version is kept apart.
VERSION_TABLE = "photon_archive_alembic_version"
# Made by adopting a legacy catalog (adoption.py), not by the models: it holds the legacy rows merged
# away, in the legacy table's own columns, which only that database knows.
AUDIT_TABLE = "adopted_duplicates"


def include_name(name: str | None, type_: str, _parent_names: object) -> bool:
    """What Alembic compares with the models: everything but the adoption's audit table, which a
    generated migration must never drop."""
    return not (type_ == "table" and name == AUDIT_TABLE)


def alembic_config(database_url: str) -> Config:
    """An Alembic config for ``database_url``; no alembic.ini is needed on disk."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolation would read a "%" in a password as a placeholder.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the catalog at ``database_url`` up to ``revision``; a no-op when it is there already."""
    ensure_sqlite_folder(database_url)
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    """Take the catalog back down to ``revision`` (``base`` drops every table)."""
    command.downgrade(alembic_config(database_url), revision)
