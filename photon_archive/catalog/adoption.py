"""``photon-archive migrate``: upgrade our catalog, or adopt the legacy one in place.

A database holds one of three things. Nothing of ours (an empty database): the migrations create
the catalog. Our catalog (the version table names a revision we know): the migrations upgrade it.
The legacy system's catalog (``images`` and/or ``allsky_images``, no revision recorded): it is
adopted. Anything else (a revision we do not know, a table of ours beside no version, a legacy
table lacking a column the readers need or holding rows with no base filename) is refused with a
``Misconfigured`` that names what is wrong, and nothing is changed.

Adoption brings the legacy tables to the shape of the migrations' head, then stamps the version
table at head: from then on the database is one of ours, and later migrations run over it like
over any other. What the shape of head is comes from Alembic's own comparison of the database with
the models (``compare_metadata``; ``test_schema.py`` holds the models and the migrations to one
schema), so there is no second description of it here. Adoption applies what the comparison adds
(columns, types, NOT NULL, comments, the unique constraint, indexes, the tables that are missing)
and the server defaults the models declare, and never what it would remove: what we did not make
we do not change, and the plan lists it as kept. Tables are altered through Alembic's batch
operations, which rebuild a table on SQLite and alter it in place on PostgreSQL. A migration could
not do this: each assumes the schema of the revision before it, and a legacy table is at none; aiming
at head through the comparison needs no knowledge of the revisions between, and stays right as later
migrations move head.

The unique constraint needs the duplicates gone first. Each duplicate group is merged by the rules of
``legacy.py`` into its lowest image_id, and every row merged away is first copied whole, in the
legacy table's own columns, into ``adopted_duplicates`` with the id it went into and when. NULL flags
become false. Rows with a header get the ``header_source`` their header shows. Header columns are
recomputed by today's rules only when asked (``recompute_from_headers``): otherwise a reader sees
no change it did not ask for beyond the merge.

Everything runs on one connection in one transaction, the plan included, so the figures printed
are those of the rows changed, and a failure anywhere leaves the database as it was. On PostgreSQL
the legacy tables are first locked against writes, so the legacy handler, still running, cannot add
a duplicate between the merge and the constraint; readers go on until the first ALTER, which holds
the table until the commit, so the row work that needs no new column comes before it. A dry run
computes the same plan in a read-only transaction and rolls it back. Once stamped, the database is
ours: ``migrate`` again finds nothing to adopt.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from itertools import groupby
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    bindparam,
    delete,
    func,
    inspect,
    literal,
    select,
    update,
)
from sqlalchemy.sql.elements import ColumnElement

from photon_archive.catalog.engine import engine_for, ensure_sqlite_folder, redacted_url
from photon_archive.catalog.legacy import (
    DERIVED_COLUMNS,
    Merge,
    derived_header_source,
    merge_duplicates,
    recomputed_changes,
    right_ascension_units,
    stored_header,
)
from photon_archive.catalog.models import Base
from photon_archive.catalog.rows import FLAGS
from photon_archive.catalog.schema import AUDIT_TABLE, VERSION_TABLE, alembic_config, upgrade
from photon_archive.errors import Misconfigured

EXPOSURE_TABLES = ("images", "allsky_images")
# The columns this system added to the legacy shape; a legacy table lacking any other column of the
# models lacks one the readers need.
ADDED_COLUMNS = ("header_source",)
# Rows read, ids sent, per statement.
BATCH = 1000


class Found(Enum):
    EMPTY = "empty"
    OURS = "ours"
    LEGACY = "legacy"


@dataclass(frozen=True)
class Survey:
    """What a database holds, before anything is done to it."""

    found: Found
    revisions: tuple[str, ...] = ()  # ours: the version table's
    legacy_tables: tuple[str, ...] = ()  # legacy: the exposure tables it has


@dataclass
class ColumnChange:
    """How one existing column becomes the models': Alembic ``alter_column`` arguments, and words."""

    arguments: dict[str, Any] = field(default_factory=dict)
    described: list[str] = field(default_factory=list)


@dataclass
class TablePlan:
    """One legacy table: its figures, and what adoption does to it."""

    table: str
    rows: int = 0
    duplicate_groups: int = 0
    rows_in_duplicate_groups: int = 0
    null_flags: dict[str, int] = field(default_factory=dict)
    # hours / degrees / either / not shown -> rows, as each row's stored header shows its right_ascension
    right_ascension_shown: Counter[str] = field(default_factory=Counter)
    in_other_unit: int = 0  # rows whose header shows another unit than the configured one
    recompute_would_change: int = 0  # surviving rows today's header rules would change
    recomputed: int | None = None  # after an adoption with recompute_from_headers: the rows changed
    merges: list[Merge] = field(default_factory=list)
    fits_headers: set[int] = field(default_factory=set)  # survivors whose header a fits fallback wrote
    unreadable_headers: set[int] = field(default_factory=set)  # survivors whose header is no JSON object
    add_columns: list[Column[Any]] = field(default_factory=list)
    alter_columns: dict[str, ColumnChange] = field(default_factory=dict)
    add_constraints: list[UniqueConstraint] = field(default_factory=list)
    add_indexes: list[Index] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # what the models lack, left as it is

    @property
    def merged_away(self) -> int:
        return sum(len(merge.merged_away) for merge in self.merges)


@dataclass
class AdoptionPlan:
    tables: list[TablePlan]
    create_tables: list[Table]
    head: str
    right_ascension_unit: str

    def lines(self, done: bool) -> list[str]:
        """The plan for the operator; ``done`` words it as what was done rather than to be done."""

        def to(verb: str, past: str) -> str:
            return past if done else f"to {verb}"

        unit = self.right_ascension_unit
        lines = []
        for plan in self.tables:
            shown = plan.right_ascension_shown
            lines += [
                f"{plan.table}:",
                f"  rows: {plan.rows}",
                f"  duplicate groups (base_filename with more than one row): {plan.duplicate_groups}, "
                f"holding {plan.rows_in_duplicate_groups} rows; rows {to('merge', 'merged')} away into "
                f"{AUDIT_TABLE}: {plan.merged_away}",
                "  NULL flags (set false): "
                + ", ".join(f"{flag} {count}" for flag, count in plan.null_flags.items()),
                "  right_ascension as the stored header shows it: "
                + ", ".join(f"{key} {shown[key]}" for key in ("hours", "degrees", "either", "not shown")),
                f"  rows whose header shows another unit than the configured {unit}: {plan.in_other_unit}",
                (
                    f"  recomputed from headers: {plan.recomputed} rows changed"
                    if done and plan.recomputed is not None
                    else f"  rows --recompute-from-headers would change: {plan.recompute_would_change}"
                ),
                f"  columns {to('add', 'added')}: " + _listed(column.name for column in plan.add_columns),
                f"  columns {to('alter', 'altered')}: "
                + _listed(
                    f"{name} ({', '.join(change.described)})" for name, change in plan.alter_columns.items()
                ),
                f"  constraints {to('add', 'added')}: " + _listed(str(c.name) for c in plan.add_constraints),
                f"  indexes {to('add', 'added')}: " + _listed(str(index.name) for index in plan.add_indexes),
                "  kept as found (not in the models): " + _listed(plan.kept),
            ]
        created = [table.name for table in self.create_tables] + [AUDIT_TABLE]
        lines.append(f"tables {to('create', 'created')}: " + _listed(created))
        lines.append(f"version {VERSION_TABLE}: {'stamped' if done else 'to stamp'} at head {self.head}")
        return lines


def migrate(
    database_url: str,
    right_ascension_unit: str,
    *,
    dry_run: bool = False,
    recompute_from_headers: bool = False,
) -> list[str]:
    """Bring the catalog at ``database_url`` to head, adopting a legacy catalog in place; the lines
    that say what was done, or with ``dry_run`` what would be, changing nothing."""
    ensure_sqlite_folder(database_url)
    script = ScriptDirectory.from_config(alembic_config(database_url))
    head = script.get_current_head()
    assert head is not None, "the catalog has migrations"
    where = redacted_url(database_url)
    with engine_for(database_url).connect() as connection:
        survey = _survey(connection, script)
        connection.rollback()
        if survey.found is Found.LEGACY:
            return _adopt_legacy(connection, script, right_ascension_unit, dry_run, recompute_from_headers)
    if survey.found is Found.EMPTY:
        if dry_run:
            return [
                f"{where}: no catalog yet; migrate would create it at head {head}",
                "dry run: nothing changed",
            ]
        upgrade(database_url)
        return [f"{where}: catalog created", f"catalog at head: {where}"]
    (revision,) = survey.revisions
    if revision == head:
        return [f"{where}: nothing to adopt; the catalog is ours, at head {head}: nothing to do"]
    if dry_run:
        return [
            f"{where}: nothing to adopt; the catalog is ours, at revision {revision}",
            f"migrate would upgrade it to head {head}",
            "dry run: nothing changed",
        ]
    upgrade(database_url)
    return [f"{where}: nothing to adopt; upgraded from revision {revision}", f"catalog at head: {where}"]


def _adopt_legacy(
    connection: Connection,
    script: ScriptDirectory,
    right_ascension_unit: str,
    dry_run: bool,
    recompute_from_headers: bool,
) -> list[str]:
    where = _where(connection)
    postgres = connection.dialect.name == "postgresql"
    with connection.begin() as transaction:
        if postgres and dry_run:
            connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        survey = _survey(connection, script)
        if survey.found is not Found.LEGACY:
            raise Misconfigured(f"{where} changed while migrate looked at it; run it again")
        if postgres and not dry_run:
            for name in survey.legacy_tables:
                connection.exec_driver_sql(f'LOCK TABLE "{name}" IN EXCLUSIVE MODE')
        plan = plan_adoption(connection, script, survey.legacy_tables, right_ascension_unit)
        found = f"{where}: legacy catalog ({', '.join(survey.legacy_tables)}, no version recorded)"
        if dry_run:
            transaction.rollback()
            return [f"{found}; adoption plan:", *plan.lines(done=False), "dry run: nothing changed"]
        adopt(connection, plan, script, recompute_from_headers)
    return [f"{found}; adopted in one transaction:", *plan.lines(done=True), f"catalog at head: {where}"]


def _survey(connection: Connection, script: ScriptDirectory) -> Survey:
    """What the database holds; a ``Misconfigured`` for anything neither empty, ours nor legacy."""
    where = _where(connection)
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    revisions = context.get_current_heads()
    known = {revision.revision for revision in script.walk_revisions()}
    if len(revisions) > 1:
        raise Misconfigured(
            f"{where}: the version table {VERSION_TABLE} names several revisions ({', '.join(revisions)}); "
            "these migrations have one line of history. Nothing was changed."
        )
    if revisions:
        unknown = sorted(set(revisions) - known)
        if unknown:
            raise Misconfigured(
                f"{where}: the version table {VERSION_TABLE} names revision {', '.join(unknown)}, which "
                f"these migrations (up to {script.get_current_head()}) do not know: a newer or another "
                "release migrated it. Nothing was changed."
            )
        return Survey(Found.OURS, revisions=revisions)
    names = set(inspect(connection).get_table_names())
    legacy = tuple(name for name in EXPOSURE_TABLES if name in names)
    strays = sorted(names & ({*Base.metadata.tables, AUDIT_TABLE} - set(EXPOSURE_TABLES)))
    if strays:
        raise Misconfigured(
            f"{where}: {', '.join(strays)} exists but {VERSION_TABLE} records no revision: neither a "
            "catalog the legacy system left nor one of ours. Nothing was changed."
        )
    return Survey(Found.LEGACY, legacy_tables=legacy) if legacy else Survey(Found.EMPTY)


# --------------------------------------------------------------------------------------------------
# the plan


def plan_adoption(
    connection: Connection, script: ScriptDirectory, tables: Sequence[str], right_ascension_unit: str
) -> AdoptionPlan:
    """What adopting ``tables`` does, with the figures of the rows as they are; changes nothing."""
    reflected = {name: _checked(connection, name) for name in tables}
    plans = {name: TablePlan(name) for name in reflected}
    create_tables = _compare_with_models(connection, plans)
    for name, table in reflected.items():
        _count(connection, table, plans[name], right_ascension_unit)
    head = str(script.get_current_head())
    return AdoptionPlan([plans[name] for name in tables], create_tables, head, right_ascension_unit)


def _checked(connection: Connection, name: str) -> Table:
    """The legacy table as found, refused when it lacks what the readers and the merge need."""
    where = _where(connection)
    table = Table(name, MetaData(), autoload_with=connection)
    model = Base.metadata.tables[name]
    missing = [c.name for c in model.columns if c.name not in table.c and c.name not in ADDED_COLUMNS]
    if missing:
        raise Misconfigured(
            f"{where}: {name} lacks the columns {', '.join(missing)}, which the readers need: "
            "not the legacy catalog. Nothing was changed."
        )
    if [c.name for c in table.primary_key.columns] != ["image_id"]:
        raise Misconfigured(f"{where}: {name} has no primary key image_id. Nothing was changed.")
    mismatched = [
        f"{column.name} is {table.c[column.name].type}, not {column.type}"
        for column in model.columns
        if column.name in table.c and _python_type(table.c[column.name]) is not _python_type(column)
    ]
    if mismatched:
        raise Misconfigured(f"{where}: in {name}, {'; '.join(mismatched)}. Nothing was changed.")
    return table


def _python_type(column: ColumnElement[Any]) -> type | None:
    try:
        return column.type.python_type
    except NotImplementedError:
        return None


def _compare_with_models(connection: Connection, plans: Mapping[str, TablePlan]) -> list[Table]:
    """Sort Alembic's differences between the database and the models into each table's plan;
    the model tables missing altogether."""
    ours = set(Base.metadata.tables)
    context = MigrationContext.configure(
        connection,
        opts={
            "version_table": VERSION_TABLE,
            "include_name": lambda name, type_, _parents: type_ != "table" or name in ours,
        },
    )
    create: list[Table] = []
    for difference in _flattened(compare_metadata(context, Base.metadata)):
        kind = difference[0]
        if kind == "add_table":  # Alembic's copy of the table lacks its indexes: the model's has them
            create.append(Base.metadata.tables[difference[1].name])
            continue
        plan = plans.get(_table_of(difference) or "")
        if plan is None:
            continue  # an index of a table to create, which comes with it
        if kind == "add_column":
            column = difference[3]
            plan.add_columns.append(Column(column.name, column.type, nullable=column.nullable))
        elif kind == "modify_nullable" and _wanted(difference) is True:
            plan.kept.append(f"column {difference[3]} NOT NULL")  # the models would allow NULL
        elif kind == "modify_comment" and _wanted(difference) is None:
            plan.kept.append(f"column {difference[3]} comment")  # the models have none
        elif kind in ("modify_type", "modify_nullable", "modify_comment"):
            _, _, _, name, existing, found, wanted = difference
            existing_type = found if kind == "modify_type" else existing.get("existing_type")
            change = plan.alter_columns.setdefault(name, ColumnChange({"existing_type": existing_type}))
            if kind == "modify_type":
                argument, said = "type_", f"type {wanted.compile(dialect=connection.dialect)}"
            elif kind == "modify_nullable":
                argument, said = "nullable", "NOT NULL" if wanted is False else "NULL"
            else:
                argument, said = "comment", f"comment {wanted!r}"
            change.arguments[argument] = wanted
            change.described.append(said)
        elif kind == "add_constraint" and isinstance(difference[1], UniqueConstraint):
            plan.add_constraints.append(difference[1])
        elif kind == "add_index":
            plan.add_indexes.append(difference[1])
        else:  # what the models lack (remove_*), and anything else the models would change
            plan.kept.append(_described(difference))
    for name, plan in plans.items():
        _add_server_defaults(connection, name, plan)
    return sorted(create, key=lambda table: table.name)


def _wanted(difference: tuple[Any, ...]) -> Any:
    """What the models want of a column Alembic found otherwise (a type, a nullability, a comment)."""
    return difference[-1]


def _flattened(differences: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
    # Alembic lists the modifications of one column together.
    for difference in differences:
        if isinstance(difference, list):
            yield from difference
        else:
            yield difference


def _table_of(difference: tuple[Any, ...]) -> str | None:
    kind, subject = difference[0], difference[1]
    if kind.endswith(("_index", "_constraint")):
        return str(subject.table.name)
    return str(difference[2]) if len(difference) > 2 else None


def _described(difference: tuple[Any, ...]) -> str:
    kind, subject = difference[0], difference[1]
    if kind.endswith(("_index", "_constraint")):
        return f"{kind.partition('_')[2]} {subject.name}"
    if kind.endswith("_column"):
        return f"column {difference[3].name}"
    return f"{kind} {subject}"


def _add_server_defaults(connection: Connection, name: str, plan: TablePlan) -> None:
    """The server defaults the models declare and the table lacks (Alembic does not compare them)."""
    found = {column["name"]: column for column in inspect(connection).get_columns(name)}
    for column in Base.metadata.tables[name].columns:
        if column.server_default is None or column.name not in found or found[column.name]["default"]:
            continue
        change = plan.alter_columns.setdefault(
            column.name, ColumnChange({"existing_type": found[column.name]["type"]})
        )
        change.arguments["server_default"] = column.server_default.arg  # type: ignore[attr-defined]
        change.described.append(f"DEFAULT {column.server_default.arg}")  # type: ignore[attr-defined]


def _count(connection: Connection, table: Table, plan: TablePlan, right_ascension_unit: str) -> None:
    """The plan's figures, and the merges, from the rows as they are."""
    where = _where(connection)
    base = table.c.base_filename
    plan.rows = connection.execute(select(func.count()).select_from(table)).scalar_one()
    nameless = connection.execute(select(func.count()).where(base.is_(None))).scalar_one()
    if nameless:
        raise Misconfigured(
            f"{where}: {nameless} rows of {table.name} have no base_filename, which the catalog requires "
            "and no rule can give them. Nothing was changed."
        )
    counts = [func.count(table.c[flag]) for flag in FLAGS]
    set_flags = connection.execute(select(*counts)).one()
    plan.null_flags = {flag: plan.rows - present for flag, present in zip(FLAGS, set_flags, strict=True)}
    duplicated = select(base).group_by(base).having(func.count() > 1)
    grouped = connection.execute(
        select(table).where(base.in_(duplicated)).order_by(base, table.c.image_id)
    ).mappings()
    for _, rows in groupby(grouped, key=lambda row: row["base_filename"]):
        group = [dict(row) for row in rows]
        plan.duplicate_groups += 1
        plan.rows_in_duplicate_groups += len(group)
        plan.merges.append(merge_duplicates(group))
    _count_headers(connection, table, plan, right_ascension_unit)


def _count_headers(connection: Connection, table: Table, plan: TablePlan, right_ascension_unit: str) -> None:
    """Right-ascension units over every row as stored; header sources and the rows a recompute would
    change over the rows that survive, as the merge leaves them."""
    in_groups = {row_id for merge in plan.merges for row_id in (merge.survivor, *merge.merged_away)}
    with_header = 0
    for row in (row for page in _pages_with_header(connection, table) for row in page):
        header = stored_header(row["header"])
        shown = right_ascension_units(row["right_ascension"], header)
        with_header += 1
        plan.right_ascension_shown[_shown(shown)] += 1
        if shown and right_ascension_unit not in shown:
            plan.in_other_unit += 1
        if row["image_id"] not in in_groups:
            _count_survivor(row, plan, right_ascension_unit)
    plan.right_ascension_shown["not shown"] += plan.rows - with_header
    for merge in plan.merges:
        if merge.row["header"] is not None:
            _count_survivor(merge.row, plan, right_ascension_unit)


def _shown(units: frozenset[str]) -> str:
    return "not shown" if not units else "either" if len(units) > 1 else next(iter(units))


def _count_survivor(row: Mapping[str, Any], plan: TablePlan, right_ascension_unit: str) -> None:
    header = stored_header(row["header"])
    if header is None:
        plan.unreadable_headers.add(row["image_id"])
        return
    if derived_header_source(row["header"]) == "small_fits":
        plan.fits_headers.add(row["image_id"])
    if recomputed_changes(row, header, right_ascension_unit):
        plan.recompute_would_change += 1


def _pages_with_header(connection: Connection, table: Table) -> Iterator[list[dict[str, Any]]]:
    """Every row with a header (its id, header and header columns), a page at a time in id order:
    keyset pages, so no cursor is held open while the caller writes between them."""
    columns = [table.c.image_id, table.c.header, *(table.c[name] for name in DERIVED_COLUMNS)]
    last: int | None = None
    while True:
        query = select(*columns).where(table.c.header.is_not(None)).order_by(table.c.image_id).limit(BATCH)
        if last is not None:
            query = query.where(table.c.image_id > last)
        page = [dict(row) for row in connection.execute(query).mappings()]
        if not page:
            return
        yield page
        last = page[-1]["image_id"]


# --------------------------------------------------------------------------------------------------
# the adoption


def adopt(
    connection: Connection, plan: AdoptionPlan, script: ScriptDirectory, recompute_from_headers: bool
) -> None:
    """Carry out ``plan`` on ``connection``, inside the caller's transaction."""
    now = datetime.now(UTC).replace(tzinfo=None)
    operations = Operations(MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE}))
    audit = _audit_table(connection, plan)
    audit.create(connection)
    for table_plan in plan.tables:
        legacy = Table(table_plan.table, MetaData(), autoload_with=connection)
        _merge(connection, legacy, audit, table_plan.merges, now)
        for flag in FLAGS:
            connection.execute(update(legacy).where(legacy.c[flag].is_(None)).values({flag: False}))
        if recompute_from_headers:
            table_plan.recomputed = _recompute(connection, legacy, plan.right_ascension_unit)
        # From the first ALTER on, PostgreSQL holds the table's ACCESS EXCLUSIVE lock until the commit
        # and readers wait: the row work that needs no new column is done by now.
        _reshape(operations, table_plan)
        reshaped = Table(table_plan.table, MetaData(), autoload_with=connection)
        _set_header_sources(connection, reshaped, table_plan)
        for index in table_plan.add_indexes:
            operations.create_index(
                str(index.name),
                table_plan.table,
                [column.name for column in index.columns],
                unique=index.unique,
            )
    for table in plan.create_tables:
        table.create(connection)
    MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE}).stamp(script, "head")


def _audit_table(connection: Connection, plan: AdoptionPlan) -> Table:
    """``adopted_duplicates``: the legacy tables' columns as found (all of them, nullable), with the
    table a row came from, the image_id it was merged into and when."""
    columns: dict[str, Column[Any]] = {}
    for table_plan in plan.tables:
        for column in inspect(connection).get_columns(table_plan.table):
            if column["name"] not in columns:
                columns[column["name"]] = Column(
                    column["name"],
                    column["type"],
                    primary_key=column["name"] == "image_id",
                    autoincrement=False,
                    nullable=column["name"] != "image_id",
                )
    return Table(
        AUDIT_TABLE,
        MetaData(),
        Column("source_table", String, primary_key=True),
        Column("merged_into", Integer, nullable=False),
        Column("adopted_at", DateTime(), nullable=False),
        *columns.values(),
    )


def _merge(
    connection: Connection, legacy: Table, audit: Table, merges: Sequence[Merge], now: datetime
) -> None:
    """Copy each merged-away row whole into the audit table, give each survivor its merged values,
    then delete the rows merged away."""
    if not merges:
        return
    names = list(legacy.c.keys())
    copy = audit.insert().from_select(
        ["source_table", "merged_into", "adopted_at", *names],
        select(
            literal(legacy.name, String),
            bindparam("into", type_=Integer),
            literal(now, DateTime()),
            *(legacy.c[name] for name in names),
        ).where(legacy.c.image_id == bindparam("moved", type_=Integer)),
    )
    moved = [{"into": m.survivor, "moved": row_id} for m in merges for row_id in m.merged_away]
    connection.execute(copy, moved)
    stored = {
        row["image_id"]: row
        for chunk in _chunks([m.survivor for m in merges])
        for row in connection.execute(select(legacy).where(legacy.c.image_id.in_(chunk))).mappings()
    }
    _update_rows(
        connection,
        legacy,
        {
            merge.survivor: {
                name: value
                for name, value in merge.row.items()
                if name != "image_id" and stored[merge.survivor][name] != value
            }
            for merge in merges
        },
    )
    for chunk in _chunks([row_id for merge in merges for row_id in merge.merged_away]):
        connection.execute(delete(legacy).where(legacy.c.image_id.in_(chunk)))


def _reshape(operations: Operations, plan: TablePlan) -> None:
    """Columns, types, NOT NULL, defaults, comments and the unique constraint of the models."""
    if not (plan.add_columns or plan.alter_columns or plan.add_constraints):
        return
    with operations.batch_alter_table(plan.table, recreate="auto") as batch:
        for column in plan.add_columns:
            batch.add_column(column)
        for name, change in plan.alter_columns.items():
            batch.alter_column(name, **change.arguments)
        for constraint in plan.add_constraints:
            batch.create_unique_constraint(
                str(constraint.name), [column.name for column in constraint.columns]
            )


def _set_header_sources(connection: Connection, table: Table, plan: TablePlan) -> None:
    """Every row with a header and no ``header_source`` gets the one its header shows: ``txt``,
    ``small_fits`` for the few a fits fallback wrote; none for a header that is no JSON object."""
    source = table.c.header_source
    for chunk in _chunks(sorted(plan.fits_headers)):
        connection.execute(
            update(table)
            .where(table.c.image_id.in_(chunk), source.is_(None))
            .values(header_source="small_fits")
        )
    unheaded = table.c.header.is_not(None) & source.is_(None)
    if plan.unreadable_headers:
        unheaded &= table.c.image_id.not_in(sorted(plan.unreadable_headers))
    connection.execute(update(table).where(unheaded).values(header_source="txt"))


def _recompute(connection: Connection, table: Table, right_ascension_unit: str) -> int:
    """Rewrite the header columns of every row whose stored header today's rules read otherwise;
    how many rows changed."""
    changed = 0
    for page in _pages_with_header(connection, table):
        updates = {}
        for row in page:
            header = stored_header(row["header"])
            changes = recomputed_changes(row, header, right_ascension_unit) if header is not None else {}
            if changes:
                updates[row["image_id"]] = changes
        _update_rows(connection, table, updates)
        changed += len(updates)
    return changed


def _update_rows(connection: Connection, table: Table, updates: Mapping[int, Mapping[str, Any]]) -> None:
    """Set each row's new values (image_id -> column -> value): one statement per set of columns."""
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for image_id, values in updates.items():
        if not values:
            continue
        parameters = {f"new_{name}": value for name, value in values.items()} | {"target": image_id}
        by_columns.setdefault(tuple(sorted(values)), []).append(parameters)
    for columns, rows in by_columns.items():
        statement = (
            update(table)
            .where(table.c.image_id == bindparam("target"))
            .values({name: bindparam(f"new_{name}", type_=table.c[name].type) for name in columns})
        )
        for chunk in _chunks(rows):
            connection.execute(statement, chunk)


def _where(connection: Connection) -> str:
    return connection.engine.url.render_as_string(hide_password=True)


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]


def _listed(items: Iterator[str] | Sequence[str]) -> str:
    items = list(items)
    return ", ".join(items) if items else "none"
