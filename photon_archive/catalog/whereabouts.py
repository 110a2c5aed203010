"""Where an object stands, from the ledger alone: its state and every run that handled it.

The operator's question "what happened to ``data/…-EX10.jpg``?" names a full key, a base filename,
or the start of either; ``whereabouts`` answers all of them with two range scans (the ledger's
primary key and its ``base_filename`` index) and one indexed read of the history. A range rather
than ``LIKE``: a btree serves ``>=``/``<`` in any collation, ``LIKE 'p%'`` on PostgreSQL only under
``C``; and nothing in the name needs escaping. The range's order is the column's collation: exact
where it sorts by code point (``C``, ``C.UTF-8``; SQLite always), as the prefix scan
(``store.known_objects_between``) assumes too.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Table, func, select, union
from sqlalchemy.sql.elements import ColumnElement

from photon_archive.catalog.models import LedgerEntry, ObjectRun

DEFAULT_LIMIT = 200
# The code points UTF-8 cannot hold: an upper bound must never be one of them.
_SURROGATES = range(0xD800, 0xE000)


def prefix_end(prefix: str) -> str | None:
    """The least string, in code-point order, above every string that starts with ``prefix``;
    ``None`` when there is none (every string from ``prefix`` on starts with it)."""
    chars = list(prefix)
    while chars and ord(chars[-1]) == sys.maxunicode:
        chars.pop()
    if not chars:
        return None
    following = ord(chars[-1]) + 1
    chars[-1] = chr(_SURROGATES.stop if following in _SURROGATES else following)
    return "".join(chars)


@dataclass(frozen=True)
class Visit:
    """One run's outcome for an object."""

    run_id: str
    state: str
    reason: str | None
    recorded_at: datetime


@dataclass(frozen=True)
class Whereabouts:
    """One object as the ledger holds it now, and the runs that handled it, oldest first."""

    key: str
    state: str
    reason: str | None
    size: int | None
    last_modified: datetime | None
    updated_at: datetime
    runs: tuple[Visit, ...]


@dataclass(frozen=True)
class Found:
    """The objects matching a search, in key order, and whether more matched than the limit let in."""

    search: str
    objects: tuple[Whereabouts, ...]
    more: bool

    def headline(self) -> str:
        count = len(self.objects)
        shown = f"{count} object{'' if count == 1 else 's'} {'matches' if count == 1 else 'match'}"
        return f"{shown} {self.search!r}" + (
            f" (the first {count}: raise the limit for more)" if self.more else ""
        )

    def lines(self) -> list[str]:
        """The answer as an operator reads it in a terminal; times are UTC."""
        lines = [self.headline()]
        for found in self.objects:
            lines.append("")
            lines.append(found.key)
            lines.append(f"  state          {found.state}" + (f": {found.reason}" if found.reason else ""))
            lines.append(f"  size           {'' if found.size is None else found.size}")
            lines.append(f"  last modified  {'' if found.last_modified is None else found.last_modified}")
            lines.append(f"  updated        {found.updated_at}")
            if not found.runs:
                lines.append("  runs           none recorded")
            for visit in found.runs:
                # A run's reason is shown where it is not the one above.
                said = f"  {visit.reason}" if visit.reason and visit.reason != found.reason else ""
                lines.append(f"  run {visit.run_id}  {visit.state}  {visit.recorded_at}{said}")
        return lines


def starting_with(column: ColumnElement[str | None], prefix: str) -> ColumnElement[bool]:
    """Whether ``column`` starts with ``prefix``, as a range its index serves."""
    end = prefix_end(prefix)
    within = column >= prefix if end is None else (column >= prefix) & (column < end)
    # The range finds the rows through the index; the comparison keeps exactly those that start so.
    return within & (func.substr(column, 1, len(prefix)) == prefix)


def whereabouts(connection: Connection, search: str, limit: int = DEFAULT_LIMIT) -> Found:
    """Every object whose key or base filename starts with ``search`` (a whole one starts with
    itself), at most ``limit`` of them in key order, each with its history."""
    if not search:
        raise ValueError("give a key, a base filename, or the start of one")
    if limit < 1:
        raise ValueError(f"the limit must be at least 1, not {limit}")
    ledger: Table = LedgerEntry.__table__  # type: ignore[assignment]
    history: Table = ObjectRun.__table__  # type: ignore[assignment]
    # Each side stops at the limit, in key order, so that a short search of a large ledger reads its
    # first objects rather than all that match. SQLite takes a UNION member's ORDER BY only in a
    # subquery of its own.
    firsts = [
        select(ledger.c.key).where(starting_with(column, search)).order_by(ledger.c.key).limit(limit + 1)
        for column in (ledger.c.key, ledger.c.base_filename)
    ]
    matching = union(*(select(first.subquery().c.key) for first in firsts)).subquery()
    keys = list(
        connection.execute(select(matching.c.key).order_by(matching.c.key).limit(limit + 1)).scalars()
    )
    more, keys = len(keys) > limit, keys[:limit]
    if not keys:
        return Found(search, (), False)
    runs: dict[str, list[Visit]] = {key: [] for key in keys}
    visits = connection.execute(
        select(history.c.key, history.c.run_id, history.c.state, history.c.reason, history.c.recorded_at)
        .where(history.c.key.in_(keys))
        .order_by(history.c.key, history.c.recorded_at, history.c.entry_id)
    )
    for visit in visits:
        runs[visit.key].append(Visit(visit.run_id, visit.state, visit.reason, visit.recorded_at))
    rows = connection.execute(select(ledger).where(ledger.c.key.in_(keys)).order_by(ledger.c.key))
    objects = tuple(
        Whereabouts(
            row.key, row.state, row.reason, row.size, row.last_modified, row.updated_at, tuple(runs[row.key])
        )
        for row in rows
    )
    return Found(search, objects, more)
