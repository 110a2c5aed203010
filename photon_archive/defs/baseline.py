"""The ``baseline`` job: before the sensors first start against a bucket with years of history, the
ledger learns every object in it, and the rows that lack what their files give are brought up to
date without a word to the readers. What it records and what it ingests is ``ingest/baseline.py``.

Run it while the daemon is stopped: the sensors start with the daemon, and would sweep the
history in as new uploads. ``photon-archive baseline`` runs this job with no daemon.
"""

from dataclasses import asdict, replace
from datetime import UTC, datetime
from typing import Any

from dagster import (
    Config,
    Failure,
    MetadataValue,
    OpExecutionContext,
    Output,
    ResourceParam,
    in_process_executor,
    job,
)
from pydantic import Field

from photon_archive.aws.bucket import Bucket
from photon_archive.aws.tables import Tables
from photon_archive.catalog.resource import Catalog
from photon_archive.defs.ingest import fill_in_tags, ingest_in_batches
from photon_archive.defs.policies import contract_op
from photon_archive.defs.resources import IngestRules
from photon_archive.ingest.baseline import (
    BASELINE_REACH,
    PAGE_SIZE,
    Figures,
    Page,
    baseline_pages,
    listing_prefixes,
)
from photon_archive.ingest.batch import Services
from photon_archive.ingest.decisions import BatchResult
from photon_archive.ingest.objects import ObjectRef
from photon_archive.run_tags import (
    SEVERAL,
    TAG_JOB,
    TAG_OBJECTS,
    TAG_PREFIX,
    TAG_SITE,
    TAG_SOURCE,
    one_or_several,
)

OP_NAME = "baseline_ledger"
# The rows brought up to date that the run's metadata names; the figures count them all.
LISTED_ROWS = 200


class BaselineConfig(Config):
    prefixes: list[str] = Field(
        default=[],
        description="The prefixes to baseline; empty: every watched one (PHOTON_ARCHIVE_PREFIXES).",
    )
    site: str = Field(default="", description="Only this site's objects; empty: every site.")
    dry_run: bool = Field(
        default=False,
        description="List and count what would be recorded and which rows brought up to date; write nothing.",
    )
    page_size: int = Field(
        default=PAGE_SIZE, description="Objects listed per page, 1 to 1,000 (S3's most per request)."
    )


def baseline_run_config(prefixes: list[str], site: str = "", dry_run: bool = False) -> dict[str, Any]:
    """The run config of a baseline run, as the launchpad or ``photon-archive baseline`` gives it."""
    config = {"prefixes": prefixes, "site": site, "dry_run": dry_run}
    return {"ops": {OP_NAME: {"config": config}}}


@contract_op
def baseline_ledger(
    context: OpExecutionContext,
    config: BaselineConfig,
    bucket: Bucket,
    tables: Tables,
    catalog: Catalog,
    ingest_rules: ResourceParam[IngestRules],
) -> Output[dict[str, Figures]]:
    """Every object of the prefixes recorded in the ledger; the rows that lack what an object gives
    brought up to date through the ingest, which announces nothing and writes no shared table."""
    try:
        if not 1 <= config.page_size <= PAGE_SIZE:
            raise ValueError(f"page_size must be 1 to {PAGE_SIZE:,}, not {config.page_size}")
        wheres = listing_prefixes(config.prefixes, config.site, ingest_rules.watched_prefixes)
    except ValueError as error:
        raise Failure(description=str(error), allow_retries=False) from None
    fill_in_tags(
        context,
        {TAG_PREFIX: one_or_several(w.partition("/")[0] for w in wheres), TAG_SITE: config.site or SEVERAL},
    )
    began = _began(context)
    settings = ingest_rules.settings()
    settings = replace(settings, reach=BASELINE_REACH.within(settings.reach))  # dual: not even thumbnails
    services = Services(bucket, tables, catalog.engine(), settings)

    def ingest(refs: list[ObjectRef]) -> BatchResult:
        return ingest_in_batches(context, refs, services)

    dry = " (a dry run: nothing is written)" if config.dry_run else ""
    context.log.info(f"baseline of the objects uploaded before {began.isoformat()}{dry}")
    totals: dict[str, Figures] = {}
    rows: list[str] = []
    for where in wheres:
        figures = totals.setdefault(where, Figures())
        pages = baseline_pages(
            where,
            bucket,
            catalog.engine(),
            began,
            context.run_id,
            None if config.dry_run else ingest,
            config.page_size,
        )
        for number, page in enumerate(pages, start=1):
            context.log.info(_page_line(where, number, page, config.dry_run))
            figures.absorb(page.figures)
            rows.extend(page.rows[: LISTED_ROWS - len(rows)])
    fill_in_tags(context, {TAG_OBJECTS: str(sum(figures.listed for figures in totals.values()))})
    return Output(totals, metadata=_metadata(totals, rows, config.dry_run))


def _began(context: OpExecutionContext) -> datetime:
    """When the baseline began: its first run's start, so that a re-execution from failure still
    leaves to the sensors what was uploaded since then."""
    run = context.dagster_run
    record = context.instance.get_run_record_by_id(run.root_run_id or run.run_id)
    if record is None or record.start_time is None:
        return datetime.now(UTC)
    return datetime.fromtimestamp(record.start_time, UTC)


def _page_line(where: str, number: int, page: Page, dry_run: bool) -> str:
    f = page.figures
    would = "would be " if dry_run else ""
    return (
        f"{where} page {number} ({page.first} … {page.last}): {f.listed} listed, "
        f"{f.recorded} {would}recorded, "
        f"{f.ingested} {would}ingested to bring {f.rows} rows up to date ({f.rejected} rejected, "
        f"{f.thumbnails_written} thumbnails made, {f.thumbnails_recorded} recorded), "
        f"{f.already_in_ledger} already in the ledger, {f.uploaded_since} uploaded since the baseline began"
    )


def _metadata(totals: dict[str, Figures], rows: list[str], dry_run: bool) -> dict[str, Any]:
    everything = Figures()
    for figures in totals.values():
        everything.absorb(figures)
    metadata: dict[str, Any] = {"dry_run": dry_run, **asdict(everything)}
    metadata["prefixes"] = MetadataValue.json({where: asdict(figures) for where, figures in totals.items()})
    more = everything.rows - len(rows)
    listing = "\n".join(f"- `{row}`" for row in rows) + (f"\n- … and {more} more" if more > 0 else "")
    metadata["rows_brought_up_to_date"] = MetadataValue.md(listing or "none")
    return metadata


@job(
    executor_def=in_process_executor,
    tags={TAG_JOB: "baseline", TAG_SOURCE: "baseline"},
)
def baseline() -> None:
    """Record a bucket's history in the ledger before the sensors first start, announcing nothing."""
    baseline_ledger()
