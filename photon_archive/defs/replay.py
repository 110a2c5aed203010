"""Re-ingest a prefix, a site or a range of nights: the way to reprocess after a rule changes."""

from dataclasses import replace
from datetime import date

from dagster import Config, OpExecutionContext, Output, ResourceParam, in_process_executor, job

from photon_archive.aws.bucket import Bucket
from photon_archive.aws.tables import Tables
from photon_archive.catalog.models import ObjectState
from photon_archive.catalog.resource import Catalog
from photon_archive.catalog.store import known_objects
from photon_archive.defs.ingest import notify_datastream, run_batches
from photon_archive.defs.policies import contract_op
from photon_archive.defs.resources import IngestRules
from photon_archive.errors import Rejected
from photon_archive.ingest.batch import Services
from photon_archive.ingest.decisions import BatchResult
from photon_archive.ingest.objects import ObjectEvent, ObjectRef
from photon_archive.naming import Prefix, parse_key
from photon_archive.records import KnownObject


class ReplayConfig(Config):
    """What to re-ingest. Without ``force``, objects the ledger has ingested at their current
    version are left alone; with it, everything selected is ingested again and thumbnails remade."""

    prefix: str = Prefix.DATA.value
    site: str = ""  # every site when empty
    first_night: str = ""  # YYYY-MM-DD, from the object name; open when empty
    last_night: str = ""
    force: bool = False


def selected(key: str, config: ReplayConfig) -> bool:
    """Whether ``key`` falls in the site and nights asked for (a bad name only without a night filter)."""
    if not (config.first_night or config.last_night):
        return True
    try:
        night = parse_key(key).date
    except Rejected:
        return False
    first = date.fromisoformat(config.first_night) if config.first_night else date.min
    last = date.fromisoformat(config.last_night) if config.last_night else date.max
    return first <= night <= last


@contract_op
def replay_objects(
    context: OpExecutionContext,
    config: ReplayConfig,
    bucket: Bucket,
    tables: Tables,
    catalog: Catalog,
    ingest_rules: ResourceParam[IngestRules],
) -> Output[BatchResult]:
    """List the selection, leave out what is already done (unless forced), and ingest the rest."""
    listing_prefix = f"{config.prefix.strip('/')}/{config.site + '-' if config.site else ''}"
    refs = [
        ObjectRef(info.key, ObjectEvent.CREATED, info.size, info.etag, info.last_modified)
        for info in bucket.list_objects(listing_prefix)
        if selected(info.key, config)
    ]
    if not config.force:
        with catalog.engine().connect() as connection:
            known = known_objects(connection, [ref.key for ref in refs])
        refs = [ref for ref in refs if not _done(known.get(ref.key), ref)]
    context.log.info(f"replaying {len(refs)} objects under {listing_prefix}")
    settings = replace(ingest_rules.settings(), rebuild_thumbnails=config.force)
    return run_batches(context, refs, Services(bucket, tables, catalog.engine(), settings))


def _done(known: KnownObject | None, ref: ObjectRef) -> bool:
    finished = (ObjectState.INGESTED, ObjectState.REJECTED)
    return known is not None and known.etag == ref.etag and known.state in finished


@job(
    executor_def=in_process_executor, tags={"photon_archive/job": "replay", "photon_archive/source": "replay"}
)
def replay() -> None:
    """Re-ingest what a prefix, site and range of nights select, from the launchpad."""
    notify_datastream(replay_objects())
