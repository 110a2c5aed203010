"""The catalog engine turns the database's answers into the project's failure classes, on real
databases: the machine's PostgreSQL, a port nothing listens on, an unmigrated SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import URL, text
from sqlalchemy.exc import IntegrityError

from photon_archive.catalog.engine import engine_for
from photon_archive.errors import Misconfigured, Transient


def test_a_database_nobody_listens_for_is_transient(postgres_admin_url: URL) -> None:
    url = postgres_admin_url.set(port=1).render_as_string(hide_password=False)

    with pytest.raises(Transient, match="127.0.0.1:1") as raised, engine_for(url).connect():
        pass

    assert raised.value.__cause__ is not None  # the driver's own error, kept


def test_a_database_that_does_not_exist_is_misconfigured_naming_it(postgres_admin_url: URL) -> None:
    url = postgres_admin_url.set(database="photon_archive_no_such_database")

    with (
        pytest.raises(Misconfigured, match="photon_archive_no_such_database.*does not exist"),
        engine_for(url.render_as_string(hide_password=False)).connect(),
    ):
        pass


def test_a_missing_relation_is_misconfigured_naming_it(postgres_url: str) -> None:
    with (
        pytest.raises(Misconfigured, match='relation "images" does not exist') as raised,
        engine_for(postgres_url).connect() as connection,
    ):
        connection.execute(text("SELECT count(*) FROM images"))

    assert "\n" not in str(raised.value)


def test_an_unmigrated_sqlite_catalog_is_misconfigured_naming_the_table(tmp_path: Path) -> None:
    with (
        pytest.raises(Misconfigured, match="no such table: object_ledger"),
        engine_for(f"sqlite:///{tmp_path / 'empty.sqlite'}").connect() as connection,
    ):
        connection.execute(text("SELECT key FROM object_ledger"))


def test_an_integrity_error_is_no_class_and_goes_on_as_it_was(postgres_url: str) -> None:
    with engine_for(postgres_url).begin() as connection:
        connection.execute(text("CREATE TABLE once (id integer PRIMARY KEY)"))
        connection.execute(text("INSERT INTO once VALUES (1)"))
    with pytest.raises(IntegrityError), engine_for(postgres_url).begin() as connection:
        connection.execute(text("INSERT INTO once VALUES (1)"))
