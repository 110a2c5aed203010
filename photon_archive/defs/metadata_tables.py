"""The tables the ingest and the checks show in their metadata, each with its columns described, so
the UI renders them as tables (sortable, one cell per value) rather than as markdown text."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from dagster import MetadataValue, TableColumn, TableMetadataValue, TableRecord, TableSchema

REJECTION_COLUMNS = TableSchema(
    columns=[
        TableColumn("object", "string", description="the object's key"),
        TableColumn("reason", "string", description="why it was rejected"),
    ]
)
WAITING_COLUMNS = TableSchema(
    columns=[
        TableColumn("object", "string", description="the object's key"),
        TableColumn("run_key", "string", description="the run's dagster/run_key tag"),
        TableColumn("queued_since", "string", description="UTC"),
    ]
)


def rejection_table(rejections: Sequence[tuple[str, str]]) -> TableMetadataValue:
    """Each rejected object with its reason."""
    return MetadataValue.table(
        [TableRecord({"object": key, "reason": reason}) for key, reason in rejections], REJECTION_COLUMNS
    )


def waiting_table(waiting: Sequence[tuple[str, str, datetime]]) -> TableMetadataValue:
    """Each object waiting for its run, with the run's key and since when."""
    return MetadataValue.table(
        [
            TableRecord({"object": key, "run_key": run_key, "queued_since": f"{since:%Y-%m-%d %H:%M}"})
            for key, run_key, since in waiting
        ],
        WAITING_COLUMNS,
    )
