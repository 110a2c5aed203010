"""One SQLAlchemy engine per database URL and process: connections are pooled and reused by every
object of every run in the process, never made per object."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url


@functools.cache
def engine_for(database_url: str) -> Engine:
    if database_url.startswith("sqlite"):
        return _sqlite_engine(database_url)
    # pre_ping replaces a pooled connection that died with the server (a restart, a failover).
    return create_engine(database_url, pool_pre_ping=True, pool_size=5, max_overflow=5)


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
