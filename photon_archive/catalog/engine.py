"""One SQLAlchemy engine per database URL and process: connections are pooled and reused by every
object of every run in the process, never made per object.

The engine is the catalog's boundary for failures too: a database error of a known class comes out
of any statement, connect or commit as ``Transient`` (the server down or restarting, a lost
connection, a deadlock, a lock or statement timeout) or ``Misconfigured`` (wrong credentials, a
missing database, relation or column, a denied privilege), chained to the driver's error. Any other
(an integrity error, a statement we wrote wrong) goes on as SQLAlchemy raised it.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy import exc as sqlalchemy_errors
from sqlalchemy.engine import ExceptionContext, make_url

from photon_archive.errors import Misconfigured, Transient
from photon_archive.headlines import first_line, hidden_password

# SQLSTATE classes and codes (PostgreSQL appendix A) a retry can fix: connection exceptions,
# insufficient resources, operator intervention (a shutdown, a restart), serialization failures,
# deadlocks, lock and statement timeouts.
TRANSIENT_STATES = ("08", "53", "57P", "40001", "40P01", "55P03", "57014")
# ... and those only a change to the deployment can: credentials, a missing database, schema,
# relation or column, a denied privilege.
MISCONFIGURED_STATES = ("28", "3D000", "3F000", "42P01", "42703", "42501")
# The same answers from drivers that give no SQLSTATE (SQLite; PostgreSQL refusing a connection).
MISCONFIGURED_WORDS = ("password authentication failed", "does not exist", "no such table", "no such column")


def redacted_url(database_url: str) -> str:
    """A database URL fit for a log line or a message: the password hidden."""
    return hidden_password(database_url)


@functools.cache
def engine_for(database_url: str) -> Engine:
    if database_url.startswith("sqlite"):
        engine = _sqlite_engine(database_url)
    else:
        # pre_ping replaces a pooled connection that died with the server (a restart, a failover).
        engine = create_engine(database_url, pool_pre_ping=True, pool_size=5, max_overflow=5)
    where = f"catalog database {redacted_url(database_url)}"

    @event.listens_for(engine, "handle_error")
    def _translate(context: ExceptionContext) -> None:
        if context.is_pre_ping:  # the pool reconnects on its own; a failed ping is not a failure
            return
        translated = classify(
            context.original_exception, context.sqlalchemy_exception, context.is_disconnect, where
        )
        if translated is not None:
            raise translated

    return engine


def classify(
    error: BaseException, wrapped: Exception | None, is_disconnect: bool, where: str
) -> Exception | None:
    """The project's class for the driver's ``error`` (as SQLAlchemy ``wrapped`` it; the connection
    lost when ``is_disconnect``) from the database named by ``where``; None when it is neither."""
    if wrapped is None:  # not the driver's: a bug of ours on the way to or from it
        return None
    state = str(getattr(error, "pgcode", None) or getattr(error, "sqlstate", None) or "")
    said = first_line(str(error))
    kind = type(error).__name__ + (f" {state}" if state else "")
    if state.startswith(MISCONFIGURED_STATES) or (
        not state and any(words in said for words in MISCONFIGURED_WORDS)
    ):
        return Misconfigured(f"{where} refused ({kind}): {said}")
    if (
        state.startswith(TRANSIENT_STATES)
        or is_disconnect
        or (not state and isinstance(wrapped, sqlalchemy_errors.OperationalError))
    ):
        return Transient(f"{where} is unavailable for now ({kind}): {said}")
    return None


def ensure_sqlite_folder(database_url: str) -> None:
    """SQLite creates its file but not the folder it goes in."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_engine(database_url: str) -> Engine:
    ensure_sqlite_folder(database_url)
    engine = create_engine(database_url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # The local stack's runs are separate processes writing one file: WAL lets readers go on
        # while one writes, and the driver's own transaction handling is replaced by ours below.
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
        dbapi_connection.execute("PRAGMA busy_timeout=30000")

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        # Take the write lock at the start, so two writers queue instead of failing on lock upgrade.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
