"""The ``whereis`` job: what happened to a file, from the launchpad.

Give it a key, a base filename or the start of either; its step's output metadata lists every
matching object with its state, reason, size and upload time (the ``objects`` table), every run that
handled each, oldest first (the ``runs`` table), and the same with each run linked (``summary``). It
reads the ledger alone (``catalog/whereabouts.py``): no S3, nothing written. ``photon-archive
whereis`` prints the same answer without Dagster.
"""

from typing import Any

from dagster import (
    Config,
    Failure,
    MetadataValue,
    OpExecutionContext,
    Output,
    TableColumn,
    TableRecord,
    TableSchema,
    in_process_executor,
    job,
)
from pydantic import Field

from photon_archive.catalog.resource import Catalog
from photon_archive.catalog.whereabouts import DEFAULT_LIMIT, Found, whereabouts
from photon_archive.defs.policies import contract_op
from photon_archive.run_tags import TAG_JOB

OBJECT_COLUMNS = TableSchema(
    columns=[
        TableColumn("key", "string"),
        TableColumn("state", "string"),
        TableColumn("reason", "string"),
        TableColumn("size", "int", description="bytes"),
        TableColumn("last_modified", "string", description="UTC, as S3 gave it"),
        TableColumn("updated_at", "string", description="UTC, the ledger's last write"),
        TableColumn("runs", "int", description="the runs that handled it"),
    ]
)
RUN_COLUMNS = TableSchema(
    columns=[
        TableColumn("key", "string"),
        TableColumn("run_id", "string"),
        TableColumn("state", "string", description="the object's state after that run"),
        TableColumn("reason", "string"),
        TableColumn("recorded_at", "string", description="UTC"),
    ]
)


class WhereisConfig(Config):
    key: str = Field(
        description="A full key (data/sro-kb001ms-20261124-00000001-EX10.jpg), a base filename "
        "(sro-kb001ms-20261124-00000001), or the start of either."
    )
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, description="The most objects listed, in key order.")


@contract_op
def find_objects(context: OpExecutionContext, config: WhereisConfig, catalog: Catalog) -> Output[int]:
    """Look the objects up in the ledger and its history; fail when none matches."""
    try:
        with catalog.engine().connect() as connection:
            found = whereabouts(connection, config.key.strip(), config.limit)
    except ValueError as error:
        raise Failure(str(error), allow_retries=False) from None
    if not found.objects:
        raise Failure(
            f"no object in the ledger matches {found.search!r}: give a key (data/…-EX10.jpg), "
            "a base filename or the start of one",
            allow_retries=False,
        )
    context.log.info(found.headline())
    return Output(len(found.objects), metadata=answer_metadata(found))


def answer_metadata(found: Found) -> dict[str, Any]:
    objects = [
        TableRecord(
            {
                "key": item.key,
                "state": item.state,
                "reason": item.reason,
                "size": item.size,
                "last_modified": None if item.last_modified is None else str(item.last_modified),
                "updated_at": str(item.updated_at),
                "runs": len(item.runs),
            }
        )
        for item in found.objects
    ]
    runs = [
        TableRecord(
            {
                "key": item.key,
                "run_id": visit.run_id,
                "state": visit.state,
                "reason": visit.reason,
                "recorded_at": str(visit.recorded_at),
            }
        )
        for item in found.objects
        for visit in item.runs
    ]
    return {
        "summary": MetadataValue.md(_markdown(found)),
        "objects": MetadataValue.table(objects, OBJECT_COLUMNS),
        "runs": MetadataValue.table(runs, RUN_COLUMNS),
        "matched": len(found.objects),
        "more": found.more,
    }


def _markdown(found: Found) -> str:
    lines = [found.headline()]
    for item in found.objects:
        said = f": {item.reason}" if item.reason else ""
        lines += ["", f"- `{item.key}`: **{item.state}**{said}"]
        lines += [
            f"  {n}. [{visit.run_id}](/runs/{visit.run_id}) {visit.state} at {visit.recorded_at}"
            for n, visit in enumerate(item.runs, 1)
        ]
    return "\n".join(lines)


@job(executor_def=in_process_executor, tags={TAG_JOB: "whereis"})
def whereis() -> None:
    """What happened to a file: its state, reason and every run that handled it, from the ledger."""
    find_objects()
