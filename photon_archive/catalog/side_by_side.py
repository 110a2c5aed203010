"""Both catalogs read side by side for the comparison with the old system's (``comparison.py``
holds the rules).

Both sides are read in transactions that cannot write (``SET TRANSACTION READ ONLY`` on
PostgreSQL), each exposure table streamed through a server-side cursor in code-point order of
``base_filename`` (``COLLATE "C"``, whatever collation the column was made with; SQLite's order is
binary already), the order Python compares strings in, so the merge join never holds a table in
memory. The legacy table has no index on ``base_filename`` (LEGACY.md): its server sorts it once,
in the one query. Its real DDL is in no source either, so its columns are read from the database
and only those both catalogs have are compared.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, Table, func, inspect, select
from sqlalchemy.sql.elements import ColumnElement

from photon_archive.catalog.comparison import COMPARED_COLUMNS, Comparison, Selection, compare_table
from photon_archive.catalog.store import EXPOSURE_TABLES
from photon_archive.errors import Misconfigured

# Rows fetched from a server-side cursor at a time.
STREAM_ROWS = 1000
# The table every legacy catalog has; the others are compared where it has them too.
REQUIRED_TABLE = "images"


@contextmanager
def read_only(engine: Engine) -> Iterator[Connection]:
    """A connection whose one transaction cannot write, rolled back when the block ends."""
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")
        yield connection


def legacy_table(connection: Connection, name: str) -> Table | None:
    """The legacy catalog's table ``name`` as the database describes it; None when it has none."""
    if not inspect(connection).has_table(name):
        return None
    table = Table(name, MetaData(), autoload_with=connection)
    if "base_filename" not in table.c:
        raise Misconfigured(f"the legacy catalog's {name} table has no base_filename column to compare by")
    return table


def ordered_rows(
    connection: Connection, table: Table, columns: Sequence[str], selection: Selection
) -> Iterator[dict[str, object]]:
    """The selected rows of ``table``: base filename, ``image_id`` where the table has one and
    ``columns``, in base-filename order (rows without one first), duplicates by ``image_id``."""
    name = table.c.base_filename
    order = name.collate("C") if connection.dialect.name == "postgresql" else name
    ordering: list[ColumnElement[Any]] = [order.nulls_first()]
    wanted = ["base_filename", *columns]
    if "image_id" in table.c:
        ordering.append(table.c.image_id)
        wanted.append("image_id")
    query = (
        select(*(table.c[column] for column in wanted))
        .where(*_selected(connection, name, selection))
        .order_by(*ordering)
    )
    result = connection.execution_options(stream_results=True, yield_per=STREAM_ROWS).execute(query)
    for row in result:
        yield dict(row._mapping)


def _selected(
    connection: Connection, name: ColumnElement[str], selection: Selection
) -> list[ColumnElement[bool]]:
    clauses = []
    if selection.site:
        clauses.append(name.startswith(f"{selection.site}-", autoescape=True))
    first, last = selection.nights_in_names()
    if first or last:
        night = _night_in(connection, name)
        if first:
            clauses.append(night >= first)
        if last:
            clauses.append(night <= last)
    return clauses


def _night_in(connection: Connection, name: ColumnElement[str]) -> ColumnElement[str]:
    """The third dash-separated part of a base filename, its night (``YYYYMMDD``)."""
    if connection.dialect.name == "postgresql":
        return func.split_part(name, "-", 3)
    # SQLite has no split_part: the eight characters after the second dash.
    rest = func.substr(name, func.instr(name, "-") + 1)
    return func.substr(rest, func.instr(rest, "-") + 1, 8)


def compare_catalogs(ours: Engine, legacy: Engine, selection: Selection, examples: int) -> Comparison:
    """photon_archive's ``images`` and ``allsky_images`` against the legacy catalog's, where it has
    them; the legacy catalog must have ``images``."""
    comparison = Comparison(selection)
    with ExitStack() as stack:
        old = stack.enter_context(read_only(legacy))
        new = stack.enter_context(read_only(ours))
        for name, table in EXPOSURE_TABLES.items():
            theirs = legacy_table(old, name)
            if theirs is None:
                if name == REQUIRED_TABLE:
                    where = legacy.url.render_as_string(hide_password=True)
                    raise Misconfigured(f"the legacy catalog at {where} has no {name} table")
                comparison.not_compared.append(f"{name}, which the legacy catalog does not have")
                continue
            columns = [column for column in COMPARED_COLUMNS if column in theirs.c]
            report = compare_table(
                name,
                ordered_rows(new, table, columns, selection),
                ordered_rows(old, theirs, columns, selection),
                columns,
                examples,
            )
            report.columns_missing = tuple(column for column in COMPARED_COLUMNS if column not in theirs.c)
            comparison.tables.append(report)
    return comparison
