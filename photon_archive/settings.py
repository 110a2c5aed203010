"""Configuration from the environment, with the legacy system's names as defaults.

One frozen value read once per process, and the one place every default lives: the Dagster
definitions build every resource from it (``defs/resources.py``), the local stack provisions AWS
resources from it. A setting is one field here; its variable is ``PHOTON_ARCHIVE_`` and the field's
name in capitals unless the field names another. AWS credentials and region are never read here:
boto3's standard chain (and ``AWS_ENDPOINT_URL`` for the emulator) decides where AWS is.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from photon_archive.event_polling import Polling
from photon_archive.events import MAX_MESSAGE_BYTES
from photon_archive.headers import DEFAULT_LIMITS, DEFAULT_RIGHT_ASCENSION_UNIT, RIGHT_ASCENSION_UNITS
from photon_archive.ingest.decisions import DEFAULT_ITEM_TTL
from photon_archive.naming import Prefix
from photon_archive.retention import DEFAULT_EXPIRATION_RULES
from photon_archive.thumbnails import DEFAULT_HEIGHT, DEFAULT_MAX_IMAGE_BYTES, DEFAULT_MAX_PIXELS

DEFAULT_STATE_DIR = ".photon_archive"
# How the system is deployed: ``local`` (the embedded stack), ``aws`` (the production account, the
# catalog's URL read at launch) or ``dual`` (``aws`` run beside the old system on the same account,
# writing its own catalog and nothing the old system's readers see).
DEPLOYMENTS = ("local", "aws", "dual")
Extended = TypeVar("Extended", bound="Settings")
POLLING_SETTINGS = (
    "event_wait_seconds",
    "event_drain_seconds",
    "event_batch_messages",
    "event_visibility_timeout_seconds",
)


@dataclass(frozen=True)
class Settings:
    """Every setting, read from its environment variable in ``ENVIRONMENT``."""

    deployment: str = "local"
    state_dir: str = DEFAULT_STATE_DIR
    database_url: str = ""
    # The old system's catalog (its RDS PostgreSQL), only ever read: by compare_with_legacy, and by
    # the dual deployment's check that its own catalog is another database.
    legacy_database_url: str = ""
    bucket: str = "photonranch-001"
    event_queue: str = "photonranch-001-object-events"
    event_dead_letter_queue: str = ""
    # The SNS topic `photon-archive provision --fan-out` puts between the bucket and the event queue,
    # when another consumer already takes the bucket's events (LEGACY.md).
    event_topic: str = ""
    # The EventBridge rule `photon-archive provision --via-eventbridge` makes on the default bus to
    # send the bucket's object events under the watched prefixes to the event queue.
    event_rule: str = ""
    stage: str = "dev"
    datastream_queue: str = ""
    info_images_table: str = "info-images"
    expiration_table: str = "data-expiration-tracker"
    upload_log_table: str = "recent-uploads-log"
    upload_log_ttl_hours: float = DEFAULT_ITEM_TTL / timedelta(hours=1)
    info_image_ttl_hours: float = DEFAULT_ITEM_TTL / timedelta(hours=1)
    allsky_retention_days: float = 30.0
    thumbnail_height: int = DEFAULT_HEIGHT
    expiration_rules: str = DEFAULT_EXPIRATION_RULES
    watched_prefixes: tuple[str, ...] = field(
        default=tuple(Prefix), metadata={"variable": "PHOTON_ARCHIVE_PREFIXES"}
    )
    max_objects_per_run: int = 500
    requeue_after_minutes: float = 2.0
    right_ascension_unit: str = DEFAULT_RIGHT_ASCENSION_UNIT
    # The cutover instant (ISO 8601; UTC when no offset is given): an object uploaded before it is
    # ingested but never announced. Empty: every object is announced.
    announce_since: str = ""
    # Limits on what one input may cost; the pure rules own the defaults, and a rejection for
    # exceeding a limit names it as it is named here.
    max_header_text_bytes: int = DEFAULT_LIMITS.max_header_text_bytes
    max_header_read_bytes: int = DEFAULT_LIMITS.max_header_read_bytes
    max_decompressed_bytes: int = DEFAULT_LIMITS.max_decompressed_bytes
    max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES
    max_image_pixels: int = DEFAULT_MAX_PIXELS
    max_event_message_bytes: int = MAX_MESSAGE_BYTES
    # An event-queue tick (``event_polling.py``): one long poll of this many seconds, which answers as
    # soon as a message arrives, then short polls while they find messages, up to the batch and for at
    # most the drain's seconds. The wait fits inside the sensor daemon's 5 s loop, so a quiet queue is
    # being polled almost all the time. A received message stays hidden for the visibility timeout
    # (provisioning sets it on the queue too), which must outlast the longest tick.
    event_wait_seconds: int = 4
    event_drain_seconds: float = 10.0
    event_batch_messages: int = 2000
    event_visibility_timeout_seconds: int = 60
    # Where alerts go (a failed run, dead-lettered event messages, objects waiting for a run): an SNS
    # topic's ARN or name. Empty: alerts are only logged.
    alert_topic: str = ""
    # The Dagster webserver as an operator reaches it, for the run links in alerts.
    webserver_url: str = "http://localhost:3000"

    def __post_init__(self) -> None:
        if self.deployment not in DEPLOYMENTS:
            raise ValueError(
                f"{ENVIRONMENT['deployment']} must be one of {', '.join(DEPLOYMENTS)}, "
                f"not {self.deployment!r}"
            )
        if self.right_ascension_unit not in RIGHT_ASCENSION_UNITS:
            raise ValueError(
                f"{ENVIRONMENT['right_ascension_unit']} must be one of {', '.join(RIGHT_ASCENSION_UNITS)}, "
                f"not {self.right_ascension_unit!r}"
            )
        self.announced_from()  # a cutover that does not parse fails at start, not in a run
        problems = self.polling().problems()
        if problems:
            names = ", ".join(ENVIRONMENT[name] for name in POLLING_SETTINGS)
            raise ValueError(f"the event queue's polling settings ({names}) are wrong: {'; '.join(problems)}")
        if not self.database_url:
            path = Path(self.state_dir).resolve() / "catalog.sqlite"
            object.__setattr__(self, "database_url", f"sqlite:///{path}")
        if self.deployment == "dual":
            self._check_beside_legacy()
        if not self.event_dead_letter_queue:
            object.__setattr__(self, "event_dead_letter_queue", f"{self.event_queue}-dead-letter")
        if not self.event_topic:
            object.__setattr__(self, "event_topic", f"{self.bucket}-object-events")
        if not self.event_rule:
            object.__setattr__(self, "event_rule", f"{self.bucket}-object-events")
        if not self.datastream_queue:
            object.__setattr__(self, "datastream_queue", f"datastreamIncomingQueue-{self.stage}")

    @property
    def writes_shared_account(self) -> bool:
        """Whether this deployment writes what the old system's readers see: datastream messages,
        the three DynamoDB tables, objects in the bucket. The dual deployment never does."""
        return self.deployment != "dual"

    def _check_beside_legacy(self) -> None:
        """The dual deployment runs beside the old system: it must know the old catalog, and keep
        its own catalog in another database."""
        ours, legacy = ENVIRONMENT["database_url"], ENVIRONMENT["legacy_database_url"]
        if not self.legacy_database_url:
            raise ValueError(
                f"the dual deployment needs {legacy}, the old system's catalog, to make sure {ours} is not it"
            )
        if same_database(self.database_url, self.legacy_database_url):
            raise ValueError(
                f"the dual deployment must write its own catalog, but {ours} names the old system's "
                f"catalog ({legacy}): give photon_archive a database of its own"
            )

    def announced_from(self) -> datetime | None:
        """``announce_since`` as an aware UTC instant, None when unset."""
        if not self.announce_since:
            return None
        try:
            moment = datetime.fromisoformat(self.announce_since)
        except ValueError:
            raise ValueError(
                f"{ENVIRONMENT['announce_since']} must be an ISO 8601 time such as 2026-12-01T18:00:00Z, "
                f"not {self.announce_since!r}"
            ) from None
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

    def polling(self) -> Polling:
        """The settings that bound an event-queue tick, as its rules take them."""
        return Polling(
            wait_s=self.event_wait_seconds,
            drain_s=self.event_drain_seconds,
            batch=self.event_batch_messages,
            visibility_s=self.event_visibility_timeout_seconds,
        )

    def watches(self, key: str) -> bool:
        """Whether ``key`` lies under one of the watched prefixes."""
        return key.partition("/")[0] in self.watched_prefixes and "/" in key

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read every ``PHOTON_ARCHIVE_*`` variable that is set; the rest keep their defaults."""
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for setting in fields(Settings):
            raw = environ.get(ENVIRONMENT[setting.name])
            if raw is None or raw == "":
                continue
            default = setting.default
            if isinstance(default, tuple):
                values[setting.name] = tuple(p.strip().strip("/") for p in raw.split(",") if p.strip())
            elif isinstance(default, bool | int | float):
                values[setting.name] = type(default)(raw)
            else:
                values[setting.name] = raw
        return cls(**values)  # type: ignore[arg-type]

    def extended_as(self, kind: type[Extended]) -> Extended:
        """These settings as ``kind``, a class that extends them; its own fields keep their defaults."""
        values: dict[str, Any] = {setting.name: getattr(self, setting.name) for setting in fields(Settings)}
        return kind(**values)


def same_database(first: str, second: str) -> bool:
    """Whether two database URLs name the same database, whatever driver, user or password each
    gives: the same kind of server, host, port and database name."""
    return _database_identity(first) == _database_identity(second)


def _database_identity(url: str) -> tuple[str, str, int | None, str]:
    parts = urlsplit(url)
    backend = parts.scheme.partition("+")[0].lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if backend.startswith("postgres"):
        backend, port = "postgresql", port or 5432
    return backend, (parts.hostname or "").lower(), port, unquote(parts.path.lstrip("/"))


ENVIRONMENT: dict[str, str] = {
    setting.name: setting.metadata.get("variable", f"PHOTON_ARCHIVE_{setting.name.upper()}")
    for setting in fields(Settings)
}
