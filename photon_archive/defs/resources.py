"""Every resource the Dagster objects use, built in one place from one ``Settings``.

The adapters (``aws/``, ``catalog/``) are configured with the names the settings give. The rules the
jobs and sensors follow are the settings themselves, seen through what each adds: ``IngestRules``
the ingest's settings in the shape its decisions take, ``Delivery`` a sensor tick's budget,
``Retention`` the parsed expiry rules. Each is a ``Settings``, so a setting has its one default in
``settings.py`` and reaches every resource without being named again here.

The deployment (``Settings.deployment``: ``local``, ``aws`` or ``dual``) chooses how the catalogs
are reached and what an ingest reaches: ``aws`` and ``dual`` read the database URLs from the
environment at launch, so a production deployment can never write its catalog to a local file by
accident; ``dual``, beside the old system, ingests with a ``Reach`` that announces nothing, writes
no shared table and no object (``Settings.writes_shared_account``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from dagster import EnvVar

from photon_archive.aws.alerts import AlertTopic
from photon_archive.aws.bucket import Bucket
from photon_archive.aws.queues import Datastream, EventQueue
from photon_archive.aws.tables import Tables
from photon_archive.catalog.resource import Catalog, LegacyCatalog
from photon_archive.headers import HeaderLimits
from photon_archive.ingest.decisions import IngestSettings, Reach, Thumbnails
from photon_archive.retention import parse_rules
from photon_archive.settings import ENVIRONMENT, Settings

# The deployments whose database URLs are read from the environment when a run starts.
READ_AT_LAUNCH = ("aws", "dual")


@dataclass(frozen=True)
class IngestRules(Settings):
    """The ingest's rules (thumbnail size, limits, lifetimes, expiries), as its decisions take them."""

    def settings(self) -> IngestSettings:
        return IngestSettings(
            thumbnail_height=self.thumbnail_height,
            max_image_pixels=self.max_image_pixels,
            max_image_bytes=self.max_image_bytes,
            upload_log_ttl=timedelta(hours=self.upload_log_ttl_hours),
            info_image_ttl=timedelta(hours=self.info_image_ttl_hours),
            expiration_rules=parse_rules(self.expiration_rules),
            right_ascension_unit=self.right_ascension_unit,
            reach=self.reach(),
            header_limits=HeaderLimits(
                max_header_text_bytes=self.max_header_text_bytes,
                max_header_read_bytes=self.max_header_read_bytes,
                max_decompressed_bytes=self.max_decompressed_bytes,
            ),
        )

    def reach(self) -> Reach:
        """What an ingest touches beyond its catalog: everything the readers see, except beside the
        old system, where the old system alone speaks to them."""
        if self.writes_shared_account:
            return Reach(announce_since=self.announced_from())
        return Reach(
            announce=False,
            announce_since=self.announced_from(),
            shared_tables=False,
            thumbnails=Thumbnails.NEVER,
        )


@dataclass(frozen=True)
class Delivery(Settings):
    """What the sensors deliver by (watched prefixes, run size, requeue delay, the event queue's
    polling), and how much a prefix scan's tick takes on."""

    scan_lookback_days: int = 2
    sweep_page: int = 1000


@dataclass(frozen=True)
class Retention(Settings):
    """How long exposures and all-sky images live; the same rules the ingest writes expiries with."""

    def rules(self) -> dict[tuple[str | None, str], int]:
        return parse_rules(self.expiration_rules)

    def allsky_retention_seconds(self) -> int:
        return int(self.allsky_retention_days * 86_400)


@dataclass(frozen=True)
class Alerting(Settings):
    """The settings alerts are written with: the webserver their run links point at."""


def resources_for(settings: Settings) -> dict[str, Any]:
    database_url: Any = settings.database_url
    legacy_database_url: Any = settings.legacy_database_url
    if settings.deployment in READ_AT_LAUNCH:
        database_url = EnvVar(ENVIRONMENT["database_url"])
        if legacy_database_url:  # unset, compare_with_legacy says so when launched
            legacy_database_url = EnvVar(ENVIRONMENT["legacy_database_url"])
    return {
        "catalog": Catalog(database_url=database_url),
        "legacy_catalog": LegacyCatalog(database_url=legacy_database_url),
        "bucket": Bucket(bucket=settings.bucket),
        "datastream": Datastream(queue_name=settings.datastream_queue),
        "tables": Tables(
            info_images=settings.info_images_table,
            expiration_tracker=settings.expiration_table,
            upload_log=settings.upload_log_table,
        ),
        "event_queue": EventQueue(
            queue_name=settings.event_queue, dead_letter_queue_name=settings.event_dead_letter_queue
        ),
        "alert_topic": AlertTopic(topic=settings.alert_topic),
        "alerting": settings.extended_as(Alerting),
        "delivery": settings.extended_as(Delivery),
        "ingest_rules": settings.extended_as(IngestRules),
        "retention": settings.extended_as(Retention),
    }
