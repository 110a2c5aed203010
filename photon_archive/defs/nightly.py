"""Nights at a glance: the ``nightly_report`` asset, one partition per night and site.

Each materialization summarizes one night of one site from the ledger (``catalog/nights.py``,
``nightly.py``): the objects and their states as numbers the UI plots across partitions and over
time, the rejections by reason as a table, and the latency from upload to ingest. The partitions
are the nights and the sites the ledger's names give; ``nightly_report_refresh`` adds new ones
and refreshes every pair whose ledger rows were written since its last tick, and
``nightly_report_daily`` refreshes the previous night's pairs once its uploads are in.
"""

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from dagster import (
    AssetExecutionContext,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    DynamicPartitionsDefinition,
    MaterializeResult,
    MetadataValue,
    MultiPartitionKey,
    MultiPartitionsDefinition,
    RunRequest,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    TableColumn,
    TableRecord,
    TableSchema,
    asset,
    define_asset_job,
    in_process_executor,
    schedule,
    sensor,
)

from photon_archive.catalog.nights import night_objects, night_sites
from photon_archive.catalog.resource import Catalog
from photon_archive.defs.assets import S3_OBJECTS
from photon_archive.defs.policies import TRANSIENT_RETRY, retry_contract
from photon_archive.nightly import NightSummary, summarize
from photon_archive.run_tags import TAG_JOB, TAG_SITE

NIGHTS_NAME, SITES_NAME = "nights", "sites"
DIMENSIONS = {
    NIGHTS_NAME: DynamicPartitionsDefinition(name=NIGHTS_NAME),
    SITES_NAME: DynamicPartitionsDefinition(name=SITES_NAME),
}
NIGHT_SITES = MultiPartitionsDefinition({"night": DIMENSIONS[NIGHTS_NAME], "site": DIMENSIONS[SITES_NAME]})
# How long a ledger write may take to commit after the time it records: the sensor looks this far
# behind its cursor, and the run key of each refresh (the pair and its latest write) keeps a pair
# it has already requested from running twice.
COMMIT_LAG = timedelta(minutes=5)
# The first tick finds every night of the ledger's history: it adds them all as partitions but
# refreshes only the nights and sites written within this of the latest write; the older ones are
# a backfill away (materialize them from the asset's page).
FIRST_REFRESH = timedelta(days=1)
# A report waits in the run queue behind every ingest run queued with it: the frontend waits for
# the ingest, nobody for the report.
REPORT_PRIORITY = {"dagster/priority": "-1"}
REJECTION_COLUMNS = TableSchema(
    columns=[
        TableColumn("reason", "string"),
        TableColumn("count", "int", description="objects rejected for it"),
        TableColumn("example", "string", description="the first such key: look it up with whereis"),
    ]
)


def partition_key(night: date, site: str) -> MultiPartitionKey:
    return MultiPartitionKey({"night": night.isoformat(), "site": site})


@asset(
    partitions_def=NIGHT_SITES,
    deps=[S3_OBJECTS],
    retry_policy=TRANSIENT_RETRY,
    description="One night of one site from the ledger: objects by state, rejections by reason, "
    "latency from upload to ingest.",
)
def nightly_report(context: AssetExecutionContext, catalog: Catalog) -> MaterializeResult:  # type: ignore[type-arg]
    """Summarize the partition's night and site."""
    keys = context.multi_partition_key.keys_by_dimension
    night, site = date.fromisoformat(keys["night"]), keys["site"]
    with retry_contract(), catalog.engine().connect() as connection:
        summary = summarize(night, site, night_objects(connection, night, site))
    context.log.info(
        f"{site} {night}: {summary.objects} objects, {summary.ingested} ingested, "
        f"{summary.rejected} rejected, {summary.queued} queued, {summary.failed} failed"
    )
    return MaterializeResult(metadata=report_metadata(summary))


def report_metadata(summary: NightSummary) -> dict[str, Any]:
    rejections = [
        TableRecord({"reason": group.reason, "count": group.count, "example": group.example})
        for group in summary.rejections
    ]
    metadata: dict[str, Any] = {
        "objects": MetadataValue.int(summary.objects),
        "ingested": MetadataValue.int(summary.ingested),
        "rejected": MetadataValue.int(summary.rejected),
        "queued": MetadataValue.int(summary.queued),
        "failed": MetadataValue.int(summary.failed),
        "removed": MetadataValue.int(summary.removed),
        "rejections": MetadataValue.table(rejections, REJECTION_COLUMNS),
    }
    # Without an ingested object there is no latency to plot, rather than a zero.
    if summary.latency_median_s is not None:
        metadata["latency_median_seconds"] = MetadataValue.float(summary.latency_median_s)
    if summary.latency_p95_s is not None:
        metadata["latency_p95_seconds"] = MetadataValue.float(summary.latency_p95_s)
    return metadata


nightly_report_job = define_asset_job(
    "nightly_report_job",
    selection=[nightly_report],
    executor_def=in_process_executor,
    tags={TAG_JOB: "nightly_report"},
    description="Refresh the nightly report of a night and site.",
)


def _refresh(pair: tuple[date, str], latest: datetime | None = None) -> RunRequest:
    night, site = pair
    key = partition_key(night, site)
    run_key = None if latest is None else f"{key}@{latest.isoformat()}"
    return RunRequest(partition_key=key, run_key=run_key, tags={TAG_SITE: site, **REPORT_PRIORITY})


def _new_partitions(
    context: SensorEvaluationContext | ScheduleEvaluationContext, pairs: Mapping[tuple[date, str], object]
) -> dict[str, list[str]]:
    """The nights and the sites of ``pairs`` that are no partitions yet, by dimension."""
    wanted = {NIGHTS_NAME: {night.isoformat() for night, _ in pairs}, SITES_NAME: {site for _, site in pairs}}
    new = {
        name: sorted(keys - set(context.instance.get_dynamic_partitions(name)))
        for name, keys in wanted.items()
    }
    return {name: keys for name, keys in new.items() if keys}


@sensor(
    job=nightly_report_job,
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.RUNNING,
    description="Adds the nights and sites of new uploads as partitions, and refreshes the report of "
    "every night and site whose ledger rows were written since the last tick.",
)
def nightly_report_refresh(context: SensorEvaluationContext, catalog: Catalog) -> SensorResult | SkipReason:
    cursor = datetime.fromisoformat(context.cursor) if context.cursor else None
    with catalog.engine().connect() as connection:
        changed = night_sites(connection, written_after=None if cursor is None else cursor - COMMIT_LAG)
    if not changed:
        return SkipReason("no ledger row written since the last tick")
    newest = max(changed.values())
    since = newest - FIRST_REFRESH if cursor is None else None
    new = _new_partitions(context, changed)
    return SensorResult(
        run_requests=[
            _refresh(pair, latest)
            for pair, latest in sorted(changed.items())
            if since is None or latest >= since
        ],
        dynamic_partitions_requests=[DIMENSIONS[name].build_add_request(keys) for name, keys in new.items()],
        cursor=max(newest, cursor or newest).isoformat(),
    )


@schedule(
    job=nightly_report_job,
    cron_schedule="0 14 * * *",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING,
    description="Refreshes the previous night's report of every site, after its uploads are in.",
)
def nightly_report_daily(
    context: ScheduleEvaluationContext, catalog: Catalog
) -> list[RunRequest] | SkipReason:
    moment = context.scheduled_execution_time or datetime.now(UTC)
    night = moment.astimezone(UTC).date() - timedelta(days=1)
    with catalog.engine().connect() as connection:
        pairs = night_sites(connection, night=night)
    if not pairs:
        return SkipReason(f"no object of the night of {night} in the ledger")
    # A schedule cannot ask for partitions as a sensor does: it adds them itself (idempotent).
    for name, keys in _new_partitions(context, pairs).items():
        context.instance.add_dynamic_partitions(name, keys)
    return [_refresh(pair) for pair in sorted(pairs)]
