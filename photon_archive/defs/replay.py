"""Re-ingest a prefix, a site or a range of nights: the way to reprocess after a rule changes."""

from dataclasses import replace

from dagster import Config, Failure, OpExecutionContext, Output, ResourceParam, in_process_executor, job

from photon_archive.aws.bucket import Bucket
from photon_archive.aws.tables import Tables
from photon_archive.catalog.resource import Catalog
from photon_archive.catalog.store import known_objects
from photon_archive.defs.ingest import fill_in_tags, notify_datastream, run_batches
from photon_archive.defs.policies import contract_op
from photon_archive.defs.resources import IngestRules
from photon_archive.ingest.batch import Services
from photon_archive.ingest.decisions import BatchResult, Thumbnails
from photon_archive.ingest.objects import ObjectEvent, ObjectRef
from photon_archive.ingest.selection import already_done, in_nights
from photon_archive.naming import Prefix
from photon_archive.run_tags import TAG_JOB, TAG_PREFIX, TAG_SITE, TAG_SOURCE, scope_tags


class ReplayConfig(Config):
    """What to re-ingest. Without ``force``, objects the ledger has ingested at their current
    version are left alone; with it, everything selected is ingested again and thumbnails remade
    (beside the old system, the dual deployment writes none)."""

    prefix: str = Prefix.DATA.value
    site: str = ""  # every site when empty
    first_night: str = ""  # YYYY-MM-DD, from the object name; open when empty
    last_night: str = ""
    force: bool = False

    def describe(self) -> str:
        """The selection in words, as a failure or a log line names it."""
        site = f"site {self.site}" if self.site else "every site"
        if self.first_night or self.last_night:
            nights = f"nights {self.first_night or '(open)'} to {self.last_night or '(open)'}"
        else:
            nights = "every night"
        return f"prefix {self.prefix.strip('/')}/, {site}, {nights}"


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
        if in_nights(info.key, config.first_night, config.last_night)
    ]
    if not refs:
        raise Failure(
            f"the replay selects no object: nothing in the bucket matches {config.describe()}",
            allow_retries=False,
        )
    if not config.force:
        with catalog.engine().connect() as connection:
            known = known_objects(connection, [ref.key for ref in refs])
        refs = [ref for ref in refs if not already_done(known.get(ref.key), ref)]
    context.log.info(f"replaying {len(refs)} objects of {config.describe()}")
    # What the replay selected, as run_batches would tag it, but an empty selection still names its
    # prefix, and a replay of one site names it.
    scope = scope_tags(ref.key for ref in refs)
    prefix, site = config.prefix.strip("/"), config.site or scope[TAG_SITE]
    fill_in_tags(context, {**scope, TAG_PREFIX: prefix, TAG_SITE: site})
    settings = ingest_rules.settings()
    if config.force:
        forced = replace(settings.reach, thumbnails=Thumbnails.ALWAYS)
        settings = replace(settings, reach=forced.within(settings.reach))
    return run_batches(context, refs, Services(bucket, tables, catalog.engine(), settings), "replayed")


@job(executor_def=in_process_executor, tags={TAG_JOB: "replay", TAG_SOURCE: "replay"})
def replay() -> None:
    """Re-ingest what a prefix, site and range of nights select, from the launchpad."""
    notify_datastream(replay_objects())
