"""The one place that wires photon_archive together for Dagster.

Resources are chosen by deployment (``PHOTON_ARCHIVE_DEPLOYMENT``): ``local`` runs on the embedded
stack with the SQLite catalog as its default; ``aws`` requires ``PHOTON_ARCHIVE_DATABASE_URL`` so a
production deployment can never write its catalog to a local file by accident. Both reach AWS
through boto3's standard chain (``AWS_ENDPOINT_URL`` names the emulator locally).
"""

from __future__ import annotations

import os
from typing import Any

from dagster import Definitions, EnvVar

from photon_archive.assets import asset_specs
from photon_archive.aws.bucket import Bucket
from photon_archive.aws.queues import Datastream, EventQueue
from photon_archive.aws.tables import Tables
from photon_archive.catalog.resource import Catalog
from photon_archive.checks import asset_checks, checks_job, checks_schedule
from photon_archive.ingest.job import IngestRules, ingest
from photon_archive.ingest.replay import replay
from photon_archive.maintenance import Retention, maintenance_jobs, maintenance_schedules
from photon_archive.sensors.delivery import Delivery
from photon_archive.sensors.event_queue import s3_event_queue
from photon_archive.sensors.prefix_scan import s3_prefix_scan
from photon_archive.settings import ENVIRONMENT, Settings

DEPLOYMENTS = ("local", "aws")


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
        "delivery": Delivery(
            watched_prefixes=list(settings.watched_prefixes),
            max_objects_per_run=settings.max_objects_per_run,
            max_event_message_bytes=settings.max_event_message_bytes,
            requeue_after_minutes=settings.requeue_after_minutes,
        ),
        "ingest_rules": IngestRules(
            thumbnail_height=settings.thumbnail_height,
            max_image_pixels=settings.max_image_pixels,
            max_image_bytes=settings.max_image_bytes,
            max_header_text_bytes=settings.max_header_text_bytes,
            max_header_read_bytes=settings.max_header_read_bytes,
            max_decompressed_bytes=settings.max_decompressed_bytes,
            max_objects_per_run=settings.max_objects_per_run,
            upload_log_ttl_hours=settings.upload_log_ttl_hours,
            info_image_ttl_hours=settings.info_image_ttl_hours,
            expiration_rules=settings.expiration_rules,
            right_ascension_unit=settings.right_ascension_unit,
        ),
        "retention": Retention(
            expiration_rules=settings.expiration_rules,
            allsky_retention_days=settings.allsky_retention_days,
        ),
    }


def build_definitions(settings: Settings, deployment: str = "local") -> Definitions:
    return Definitions(
        assets=asset_specs,
        asset_checks=asset_checks,
        jobs=[ingest, replay, checks_job, *maintenance_jobs],
        schedules=[checks_schedule, *maintenance_schedules],
        sensors=[s3_event_queue, s3_prefix_scan],
        resources=resources_for(settings, deployment),
    )


defs = build_definitions(Settings.from_env(), os.environ.get("PHOTON_ARCHIVE_DEPLOYMENT", "local"))
