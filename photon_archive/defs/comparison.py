"""The ``compare_with_legacy`` job: how photon_archive's catalog differs from the old system's, the
report an operator reads to decide the cutover.

It reads both catalogs and writes nothing anywhere: the legacy catalog
(``PHOTON_ARCHIVE_LEGACY_DATABASE_URL``) in read-only transactions. The rules are
``catalog/comparison.py``, the reads ``catalog/side_by_side.py``; the report is the step's output
metadata: ``summary`` (markdown), ``categories`` (a table: each category found, its count and a few
base filenames) and ``examples`` (JSON: every count, and examples with both values).
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

from photon_archive.catalog.comparison import DEFAULT_EXAMPLES, Comparison, Selection
from photon_archive.catalog.resource import Catalog, LegacyCatalog
from photon_archive.catalog.side_by_side import compare_catalogs
from photon_archive.defs.policies import contract_op
from photon_archive.run_tags import TAG_JOB

TABLE_COLUMNS = TableSchema(
    columns=[
        TableColumn("table", "string"),
        TableColumn("ours", "int", description="rows in photon_archive's catalog"),
        TableColumn("legacy", "int", description="rows in the legacy catalog"),
        TableColumn("on_both", "int", description="base filenames on both sides"),
        TableColumn("differences", "int"),
    ]
)
CATEGORY_COLUMNS = TableSchema(
    columns=[
        TableColumn("table", "string"),
        TableColumn("group", "string"),
        TableColumn("category", "string"),
        TableColumn("count", "int"),
        TableColumn("description", "string"),
        TableColumn("examples", "string", description="the first few base filenames"),
    ]
)


class CompareConfig(Config):
    """Which exposures to compare, by base filename as the replay selects them; all when empty."""

    site: str = Field(default="", description="Only this site's exposures; every site when empty.")
    first_night: str = Field(default="", description="YYYY-MM-DD, the night in the name; open when empty.")
    last_night: str = Field(default="", description="YYYY-MM-DD, inclusive; open when empty.")
    examples: int = Field(default=DEFAULT_EXAMPLES, ge=0, description="Examples kept per category.")


@contract_op
def compare_catalogs_with_legacy(
    context: OpExecutionContext, config: CompareConfig, catalog: Catalog, legacy_catalog: LegacyCatalog
) -> Output[Comparison]:
    """Stream both catalogs in base-filename order and tally every difference by category."""
    try:
        selection = Selection.parse(config.site, config.first_night, config.last_night)
    except ValueError as error:
        raise Failure(str(error), allow_retries=False) from None
    comparison = compare_catalogs(catalog.engine(), legacy_catalog.engine(), selection, config.examples)
    context.log.info(
        f"compared {selection.describe()}: {comparison.total('ours_rows')} rows in ours, "
        f"{comparison.total('legacy_rows')} in the legacy catalog, {comparison.differences} differences"
    )
    return Output(comparison, metadata=report_metadata(comparison))


def report_metadata(comparison: Comparison) -> dict[str, Any]:
    return {
        "summary": MetadataValue.md(comparison.markdown()),
        "tables": MetadataValue.table([TableRecord(row) for row in comparison.table_rows()], TABLE_COLUMNS),
        "categories": MetadataValue.table(
            [TableRecord(row) for row in comparison.category_rows()], CATEGORY_COLUMNS
        ),
        "examples": MetadataValue.json(comparison.as_json()),
        "differences": comparison.differences,
        "ours_rows": comparison.total("ours_rows"),
        "legacy_rows": comparison.total("legacy_rows"),
        "matched": comparison.total("matched"),
    }


@job(executor_def=in_process_executor, tags={TAG_JOB: "compare_with_legacy"})
def compare_with_legacy() -> None:
    """Compare photon_archive's catalog with the old system's, read only, by category."""
    compare_catalogs_with_legacy()
