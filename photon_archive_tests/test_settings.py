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
    assert set(ENVIRONMENT) == set(Settings.__dataclass_fields__)
