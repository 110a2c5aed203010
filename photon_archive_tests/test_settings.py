from datetime import UTC, datetime

import pytest
from dagster import EnvVar

from photon_archive.defs.resources import resources_for
from photon_archive.headers import HeaderLimits
from photon_archive.ingest.decisions import Reach, Thumbnails
from photon_archive.settings import ENVIRONMENT, Settings


def test_defaults_are_the_legacy_names() -> None:
    settings = Settings.from_env({})
    assert settings.bucket == "photonranch-001"
    assert settings.info_images_table == "info-images"
    assert settings.expiration_table == "data-expiration-tracker"
    assert settings.upload_log_table == "recent-uploads-log"
    assert settings.upload_log_ttl_hours == 48
    assert settings.info_image_ttl_hours == 48
    assert settings.thumbnail_height == 128
    assert settings.watched_prefixes == ("data", "info-images", "allsky")
    assert settings.datastream_queue == "datastreamIncomingQueue-dev"
    assert settings.event_dead_letter_queue == "photonranch-001-object-events-dead-letter"


def test_limit_defaults_are_the_documented_ones() -> None:
    settings = Settings.from_env({})
    assert settings.max_header_text_bytes == settings.max_decompressed_bytes == 2 * 1024 * 1024
    assert settings.max_header_read_bytes == 4 * 1024 * 1024
    assert (settings.max_image_bytes, settings.max_image_pixels) == (64 * 1024 * 1024, 80_000_000)
    assert (settings.max_event_message_bytes, settings.max_objects_per_run) == (256 * 1024, 500)


def test_limits_reach_the_resources_that_enforce_them() -> None:
    settings = Settings(
        database_url="sqlite://",
        max_header_text_bytes=1,
        max_header_read_bytes=2,
        max_decompressed_bytes=3,
        max_image_bytes=4,
        max_image_pixels=5,
        max_event_message_bytes=6,
        max_objects_per_run=7,
    )
    resources = resources_for(settings)
    ingest = resources["ingest_rules"].settings()
    assert ingest.header_limits == HeaderLimits(1, 2, 3)
    assert (ingest.max_image_bytes, ingest.max_image_pixels) == (4, 5)
    assert resources["ingest_rules"].max_objects_per_run == 7
    delivery = resources["delivery"]
    assert (delivery.max_event_message_bytes, delivery.max_objects_per_run) == (6, 7)


def test_embedded_default_catalog_is_sqlite_in_the_state_folder(tmp_path) -> None:
    settings = Settings.from_env({"PHOTON_ARCHIVE_STATE_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'catalog.sqlite'}"


def test_stage_names_the_datastream_queue_unless_the_queue_is_given() -> None:
    assert (
        Settings.from_env({"PHOTON_ARCHIVE_STAGE": "prod"}).datastream_queue == "datastreamIncomingQueue-prod"
    )
    explicit = {"PHOTON_ARCHIVE_STAGE": "prod", "PHOTON_ARCHIVE_DATASTREAM_QUEUE": "frontend-queue"}
    assert Settings.from_env(explicit).datastream_queue == "frontend-queue"


def test_every_setting_is_read_from_its_environment_variable() -> None:
    environ = {
        "PHOTON_ARCHIVE_DATABASE_URL": "postgresql://archive@db/photon",
        "PHOTON_ARCHIVE_BUCKET": "other-bucket",
        "PHOTON_ARCHIVE_EVENT_QUEUE": "events",
        "PHOTON_ARCHIVE_EVENT_DEAD_LETTER_QUEUE": "events-dlq",
        "PHOTON_ARCHIVE_INFO_IMAGES_TABLE": "ii",
        "PHOTON_ARCHIVE_EXPIRATION_TABLE": "et",
        "PHOTON_ARCHIVE_UPLOAD_LOG_TABLE": "ul",
        "PHOTON_ARCHIVE_UPLOAD_LOG_TTL_HOURS": "12.5",
        "PHOTON_ARCHIVE_INFO_IMAGE_TTL_HOURS": "6",
        "PHOTON_ARCHIVE_ALLSKY_RETENTION_DAYS": "3",
        "PHOTON_ARCHIVE_THUMBNAIL_HEIGHT": "256",
        "PHOTON_ARCHIVE_PREFIXES": "data/, allsky",
        "PHOTON_ARCHIVE_MAX_OBJECTS_PER_RUN": "200",
        "PHOTON_ARCHIVE_REQUEUE_AFTER_MINUTES": "0.5",
        "PHOTON_ARCHIVE_MAX_HEADER_TEXT_BYTES": "1000",
        "PHOTON_ARCHIVE_MAX_HEADER_READ_BYTES": "2000",
        "PHOTON_ARCHIVE_MAX_DECOMPRESSED_BYTES": "3000",
        "PHOTON_ARCHIVE_MAX_IMAGE_BYTES": "4000",
        "PHOTON_ARCHIVE_MAX_IMAGE_PIXELS": "5000",
        "PHOTON_ARCHIVE_MAX_EVENT_MESSAGE_BYTES": "6000",
        "PHOTON_ARCHIVE_RIGHT_ASCENSION_UNIT": "degrees",
        "PHOTON_ARCHIVE_ANNOUNCE_SINCE": "2026-12-01T18:00:00-07:00",
        "PHOTON_ARCHIVE_DEPLOYMENT": "dual",
        "PHOTON_ARCHIVE_LEGACY_DATABASE_URL": "postgresql://reader@rds/photonranch",
    }
    settings = Settings.from_env(environ)
    assert settings.database_url == "postgresql://archive@db/photon"
    assert (settings.bucket, settings.event_queue) == ("other-bucket", "events")
    assert settings.event_dead_letter_queue == "events-dlq"
    assert (settings.info_images_table, settings.expiration_table, settings.upload_log_table) == (
        "ii",
        "et",
        "ul",
    )
    assert settings.upload_log_ttl_hours == 12.5
    assert settings.info_image_ttl_hours == 6.0
    assert settings.allsky_retention_days == 3.0
    assert settings.thumbnail_height == 256
    assert settings.watched_prefixes == ("data", "allsky")
    assert (settings.max_objects_per_run, settings.requeue_after_minutes) == (200, 0.5)
    assert (settings.max_header_text_bytes, settings.max_header_read_bytes) == (1000, 2000)
    assert (settings.max_decompressed_bytes, settings.max_image_bytes) == (3000, 4000)
    assert (settings.max_image_pixels, settings.max_event_message_bytes) == (5000, 6000)
    assert settings.right_ascension_unit == "degrees"
    assert settings.announced_from() == datetime(2026, 12, 2, 1, tzinfo=UTC)
    assert (settings.deployment, settings.legacy_database_url) == (
        "dual",
        "postgresql://reader@rds/photonranch",
    )
    assert set(ENVIRONMENT) == set(Settings.__dataclass_fields__)


def test_right_ascension_is_written_in_hours_unless_degrees_are_asked_for() -> None:
    assert Settings.from_env({}).right_ascension_unit == "hours"
    rules = resources_for(Settings.from_env({"PHOTON_ARCHIVE_RIGHT_ASCENSION_UNIT": "degrees"}))
    assert rules["ingest_rules"].settings().right_ascension_unit == "degrees"


def test_an_unknown_right_ascension_unit_is_refused_naming_the_variable() -> None:
    with pytest.raises(ValueError, match="PHOTON_ARCHIVE_RIGHT_ASCENSION_UNIT must be one of hours, degrees"):
        Settings.from_env({"PHOTON_ARCHIVE_RIGHT_ASCENSION_UNIT": "radians"})


def test_the_cutover_reaches_the_ingest_in_utc_and_an_unparsable_one_is_refused() -> None:
    assert Settings.from_env({}).announced_from() is None
    rules = resources_for(Settings.from_env({"PHOTON_ARCHIVE_ANNOUNCE_SINCE": "2026-12-01T18:00:00"}))
    assert rules["ingest_rules"].settings().reach.announce_since == datetime(2026, 12, 1, 18, tzinfo=UTC)
    with pytest.raises(ValueError, match="PHOTON_ARCHIVE_ANNOUNCE_SINCE must be an ISO 8601 time"):
        Settings.from_env({"PHOTON_ARCHIVE_ANNOUNCE_SINCE": "yesterday"})


def test_the_fan_out_topic_is_named_for_the_bucket_unless_given() -> None:
    assert Settings.from_env({}).event_topic == "photonranch-001-object-events"
    assert Settings.from_env({"PHOTON_ARCHIVE_BUCKET": "b"}).event_topic == "b-object-events"
    assert Settings.from_env({"PHOTON_ARCHIVE_EVENT_TOPIC": "t"}).event_topic == "t"


def test_the_eventbridge_rule_is_named_for_the_bucket_unless_given() -> None:
    assert Settings.from_env({}).event_rule == "photonranch-001-object-events"
    assert Settings.from_env({"PHOTON_ARCHIVE_BUCKET": "b"}).event_rule == "b-object-events"
    assert Settings.from_env({"PHOTON_ARCHIVE_EVENT_RULE": "r"}).event_rule == "r"


def test_an_unknown_deployment_is_refused_naming_the_variable() -> None:
    with pytest.raises(
        ValueError, match="PHOTON_ARCHIVE_DEPLOYMENT must be one of local, aws, dual, not 'prod'"
    ):
        Settings.from_env({"PHOTON_ARCHIVE_DEPLOYMENT": "prod"})


@pytest.mark.parametrize(
    "ours",
    [
        "postgresql://reader:secret@rds.example:5432/photonranch",
        "postgresql+psycopg2://archive@RDS.example/photonranch",  # another driver, user, case, port
    ],
)
def test_the_dual_deployment_refuses_to_start_on_the_old_systems_catalog(ours: str) -> None:
    environ = {
        "PHOTON_ARCHIVE_DEPLOYMENT": "dual",
        "PHOTON_ARCHIVE_DATABASE_URL": ours,
        "PHOTON_ARCHIVE_LEGACY_DATABASE_URL": "postgresql://reader:secret@rds.example:5432/photonranch",
    }
    with pytest.raises(
        ValueError,
        match=(
            "the dual deployment must write its own catalog, but PHOTON_ARCHIVE_DATABASE_URL names the old "
            "system's catalog \\(PHOTON_ARCHIVE_LEGACY_DATABASE_URL\\)"
        ),
    ):
        Settings.from_env(environ)
    with pytest.raises(ValueError, match="the dual deployment needs PHOTON_ARCHIVE_LEGACY_DATABASE_URL"):
        Settings.from_env({"PHOTON_ARCHIVE_DEPLOYMENT": "dual", "PHOTON_ARCHIVE_DATABASE_URL": ours})


def test_the_dual_deployment_reaches_nothing_the_old_systems_readers_see() -> None:
    dual = Settings(
        deployment="dual",
        database_url="postgresql://archive@rds.example/photon_archive",
        legacy_database_url="postgresql://reader@rds.example/photonranch",
        announce_since="2026-12-01T18:00:00Z",
    )
    reach = resources_for(dual)["ingest_rules"].settings().reach
    assert reach == Reach(
        announce=False,
        announce_since=datetime(2026, 12, 1, 18, tzinfo=UTC),
        shared_tables=False,
        thumbnails=Thumbnails.NEVER,
    )
    assert not dual.writes_shared_account
    for deployment in ("local", "aws"):
        settings = Settings(deployment=deployment, database_url="sqlite://")
        assert resources_for(settings)["ingest_rules"].settings().reach == Reach()
        assert settings.writes_shared_account


def test_aws_and_dual_read_the_catalogs_urls_when_a_run_starts() -> None:
    dual = Settings(
        deployment="dual",
        database_url="postgresql://archive@rds.example/photon_archive",
        legacy_database_url="postgresql://reader@rds.example/photonranch",
    )
    resources = resources_for(dual)
    for resource, variable in (("catalog", "DATABASE_URL"), ("legacy_catalog", "LEGACY_DATABASE_URL")):
        url = resources[resource].database_url
        assert isinstance(url, EnvVar) and url == f"PHOTON_ARCHIVE_{variable}"
    local = resources_for(Settings(database_url="sqlite://", legacy_database_url="postgresql://r@h/legacy"))
    assert (local["catalog"].database_url, local["legacy_catalog"].database_url) == (
        "sqlite://",
        "postgresql://r@h/legacy",
    )
