"""Every resource the Dagster objects use, built in one place from one ``Settings``.

The adapters (``aws/``, ``catalog/``) are configured with the names the settings give. The rules the
jobs and sensors follow are the settings themselves, seen through what each adds: ``IngestRules``
the ingest's settings in the shape its decisions take, ``Delivery`` a sensor tick's budget,
``Retention`` the parsed expiry rules. Each is a ``Settings``, so a setting has its one default in
``settings.py`` and reaches every resource without being named again here.

The deployment (``local`` or ``aws``) chooses how the catalog is reached: ``aws`` reads the
database URL from the environment at launch, so a production deployment can never write its
catalog to a local file by accident.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from dagster import EnvVar

from photon_archive.aws.bucket import Bucket
from photon_archive.aws.queues import Datastream, EventQueue
from photon_archive.aws.tables import Tables
from photon_archive.catalog.resource import Catalog
from photon_archive.headers import HeaderLimits
from photon_archive.ingest.decisions import IngestSettings, Reach
from photon_archive.retention import parse_rules
from photon_archive.settings import ENVIRONMENT, Settings

DEPLOYMENTS = ("local", "aws")


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
            reach=Reach(announce_since=self.announced_from()),
            header_limits=HeaderLimits(
                max_header_text_bytes=self.max_header_text_bytes,
                max_header_read_bytes=self.max_header_read_bytes,
                max_decompressed_bytes=self.max_decompressed_bytes,
            ),
        )


@dataclass(frozen=True)
class Delivery(Settings):
    """What the sensors deliver by (watched prefixes, run size, requeue delay), and how much one
    tick takes on."""

    tick_seconds: float = 20.0
    tick_max_messages: int = 2000
    scan_lookback_days: int = 2
    sweep_page: int = 1000


@dataclass(frozen=True)
class Retention(Settings):
    """How long exposures and all-sky images live; the same rules the ingest writes expiries with."""

    def rules(self) -> dict[tuple[str | None, str], int]:
        return parse_rules(self.expiration_rules)

    def allsky_retention_seconds(self) -> int:
        return int(self.allsky_retention_days * 86_400)


def resources_for(settings: Settings, deployment: str = "local") -> dict[str, Any]:
    if deployment not in DEPLOYMENTS:
        raise ValueError(
            f"PHOTON_ARCHIVE_DEPLOYMENT must be one of {', '.join(DEPLOYMENTS)}, not {deployment!r}"
        )
    database_url: Any = settings.database_url
    if deployment == "aws":
        database_url = EnvVar(ENVIRONMENT["database_url"])
    return {
        "catalog": Catalog(database_url=database_url),
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
        "delivery": settings.extended_as(Delivery),
        "ingest_rules": settings.extended_as(IngestRules),
        "retention": settings.extended_as(Retention),
    }
