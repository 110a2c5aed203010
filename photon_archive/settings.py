"""Configuration from the environment, with the legacy system's names as defaults.

One frozen value read once per process: the Dagster definitions turn it into resources, the local
stack into provisioned AWS resources. AWS credentials and region are never read here: boto3's standard
chain (and ``AWS_ENDPOINT_URL`` for the emulator) decides where AWS is.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from photon_archive.events import MAX_MESSAGE_BYTES
from photon_archive.headers import DEFAULT_LIMITS, DEFAULT_RIGHT_ASCENSION_UNIT, RIGHT_ASCENSION_UNITS
from photon_archive.naming import Prefix
from photon_archive.retention import DEFAULT_EXPIRATION_RULES
from photon_archive.thumbnails import DEFAULT_HEIGHT, DEFAULT_MAX_IMAGE_BYTES, DEFAULT_MAX_PIXELS

DEFAULT_STATE_DIR = ".photon_archive"


@dataclass(frozen=True)
class Settings:
    """Every setting, named by its environment variable in ``ENVIRONMENT``."""

    state_dir: str = DEFAULT_STATE_DIR
    database_url: str = ""
    bucket: str = "photonranch-001"
    event_queue: str = "photonranch-001-object-events"
    event_dead_letter_queue: str = ""
    stage: str = "dev"
    datastream_queue: str = ""
    info_images_table: str = "info-images"
    expiration_table: str = "data-expiration-tracker"
    upload_log_table: str = "recent-uploads-log"
    upload_log_ttl_hours: float = 48.0
    info_image_ttl_hours: float = 48.0
    allsky_retention_days: float = 30.0
    thumbnail_height: int = DEFAULT_HEIGHT
    expiration_rules: str = DEFAULT_EXPIRATION_RULES
    watched_prefixes: tuple[str, ...] = tuple(Prefix)
    max_objects_per_run: int = 500
    requeue_after_minutes: float = 2.0
    right_ascension_unit: str = DEFAULT_RIGHT_ASCENSION_UNIT
    # Limits on what one input may cost; the pure rules own the defaults, and a rejection for
    # exceeding a limit names it as it is named here.
    max_header_text_bytes: int = DEFAULT_LIMITS.max_header_text_bytes
    max_header_read_bytes: int = DEFAULT_LIMITS.max_header_read_bytes
    max_decompressed_bytes: int = DEFAULT_LIMITS.max_decompressed_bytes
    max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES
    max_image_pixels: int = DEFAULT_MAX_PIXELS
    max_event_message_bytes: int = MAX_MESSAGE_BYTES

    def __post_init__(self) -> None:
        if self.right_ascension_unit not in RIGHT_ASCENSION_UNITS:
            raise ValueError(
                f"{ENVIRONMENT['right_ascension_unit']} must be one of {', '.join(RIGHT_ASCENSION_UNITS)}, "
                f"not {self.right_ascension_unit!r}"
            )
        if not self.database_url:
            path = Path(self.state_dir).resolve() / "catalog.sqlite"
            object.__setattr__(self, "database_url", f"sqlite:///{path}")
        if not self.event_dead_letter_queue:
            object.__setattr__(self, "event_dead_letter_queue", f"{self.event_queue}-dead-letter")
        if not self.datastream_queue:
            object.__setattr__(self, "datastream_queue", f"datastreamIncomingQueue-{self.stage}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read every ``PHOTON_ARCHIVE_*`` variable that is set; the rest keep their defaults."""
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for field in fields(cls):
            raw = environ.get(ENVIRONMENT[field.name])
            if raw is None or raw == "":
                continue
            default = field.default
            if isinstance(default, tuple):
                values[field.name] = tuple(p.strip().strip("/") for p in raw.split(",") if p.strip())
            elif isinstance(default, bool | int | float):
                values[field.name] = type(default)(raw)
            else:
                values[field.name] = raw
        return cls(**values)  # type: ignore[arg-type]


ENVIRONMENT: dict[str, str] = {
    "state_dir": "PHOTON_ARCHIVE_STATE_DIR",
    "database_url": "PHOTON_ARCHIVE_DATABASE_URL",
    "bucket": "PHOTON_ARCHIVE_BUCKET",
    "event_queue": "PHOTON_ARCHIVE_EVENT_QUEUE",
    "event_dead_letter_queue": "PHOTON_ARCHIVE_EVENT_DEAD_LETTER_QUEUE",
    "stage": "PHOTON_ARCHIVE_STAGE",
    "datastream_queue": "PHOTON_ARCHIVE_DATASTREAM_QUEUE",
    "info_images_table": "PHOTON_ARCHIVE_INFO_IMAGES_TABLE",
    "expiration_table": "PHOTON_ARCHIVE_EXPIRATION_TABLE",
    "upload_log_table": "PHOTON_ARCHIVE_UPLOAD_LOG_TABLE",
    "upload_log_ttl_hours": "PHOTON_ARCHIVE_UPLOAD_LOG_TTL_HOURS",
    "info_image_ttl_hours": "PHOTON_ARCHIVE_INFO_IMAGE_TTL_HOURS",
    "allsky_retention_days": "PHOTON_ARCHIVE_ALLSKY_RETENTION_DAYS",
    "thumbnail_height": "PHOTON_ARCHIVE_THUMBNAIL_HEIGHT",
    "expiration_rules": "PHOTON_ARCHIVE_EXPIRATION_RULES",
    "watched_prefixes": "PHOTON_ARCHIVE_PREFIXES",
    "max_objects_per_run": "PHOTON_ARCHIVE_MAX_OBJECTS_PER_RUN",
    "requeue_after_minutes": "PHOTON_ARCHIVE_REQUEUE_AFTER_MINUTES",
    "right_ascension_unit": "PHOTON_ARCHIVE_RIGHT_ASCENSION_UNIT",
    "max_header_text_bytes": "PHOTON_ARCHIVE_MAX_HEADER_TEXT_BYTES",
    "max_header_read_bytes": "PHOTON_ARCHIVE_MAX_HEADER_READ_BYTES",
    "max_decompressed_bytes": "PHOTON_ARCHIVE_MAX_DECOMPRESSED_BYTES",
    "max_image_bytes": "PHOTON_ARCHIVE_MAX_IMAGE_BYTES",
    "max_image_pixels": "PHOTON_ARCHIVE_MAX_IMAGE_PIXELS",
    "max_event_message_bytes": "PHOTON_ARCHIVE_MAX_EVENT_MESSAGE_BYTES",
}
