"""The catalog schema, as typed SQLAlchemy models: this file is the schema's documentation.

``images`` and ``allsky_images`` keep the legacy column names and meanings that the Photon Ranch API
reads (SPEC §3); ``base_filename`` is unique, which the legacy table lacked. The object ledger records
every S3 object ever seen, its state and the Dagster run that last handled it; ``object_runs`` keeps
each run's outcome for it, the object's history. Migrations under
``migrations/`` are the only way this schema changes in a database.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, Float, Index, Integer, MetaData, String, Text, false
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

# The ledger's states are plain values the rules use too; the name stays importable from here.
from photon_archive.records import ObjectState as ObjectState

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ExposureColumns:
    """The columns of one exposure row, shared by ``images`` and ``allsky_images``.

    Text that comes from uploads (names, header values) has no length limit here: a long but
    valid value must never sink the transaction that holds a whole batch.
    """

    image_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    base_filename: Mapped[str] = mapped_column(String, unique=True)
    site: Mapped[str | None] = mapped_column(String)
    # Naive UTC. Until the header arrives these hold the earliest upload time of the exposure's files.
    capture_date: Mapped[datetime | None] = mapped_column(DateTime())
    sort_date: Mapped[datetime | None] = mapped_column(DateTime())
    right_ascension: Mapped[float | None] = mapped_column(Float, comment="decimal hours")
    declination: Mapped[float | None] = mapped_column(Float, comment="decimal degrees")
    altitude: Mapped[float | None] = mapped_column(Float)
    azimuth: Mapped[float | None] = mapped_column(Float)
    header: Mapped[str | None] = mapped_column(Text, comment="JSON object, keyword -> value as a string")
    filter_used: Mapped[str | None] = mapped_column(String)
    airmass: Mapped[float | None] = mapped_column(Float)
    exposure_time: Mapped[float | None] = mapped_column(Float)
    user_id: Mapped[str | None] = mapped_column(String)
    username: Mapped[str | None] = mapped_column(String)
    fits_01_exists: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    fits_10_exists: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    jpg_medium_exists: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    jpg_small_exists: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Indexed: the expiry job reads the rows of the data types that expire.
    data_type: Mapped[str | None] = mapped_column(String, index=True)
    # Where the header came from: "txt" (authoritative), "large_fits" or "small_fits" (read from a
    # data file until the .txt arrives). NULL while no header has been seen.
    header_source: Mapped[str | None] = mapped_column(String(16))

    @declared_attr.directive
    @classmethod
    def __table_args__(cls) -> tuple[Index, ...]:
        # One index for each query the readers send (LEGACY.md). jpg_medium_exists is a key column, not
        # a partial-index predicate: PostgreSQL matches a key column to both the API's "IS true" and
        # its "= true", while a partial index serves only the spelling it was declared with.
        table = cls.__tablename__  # type: ignore[attr-defined]
        return (
            # A site's newest exposures with a jpg (latest_images) and the newest of every site.
            Index(f"ix_{table}_site_jpg_medium_exists_sort_date", "site", "jpg_medium_exists", "sort_date"),
            # The same for one observer (latest_images?userid=).
            Index(
                f"ix_{table}_site_user_id_jpg_medium_exists_sort_date",
                "site",
                "user_id",
                "jpg_medium_exists",
                "sort_date",
            ),
            # The frontend's filtered query on every site load: a site's exposures in a capture window.
            Index(f"ix_{table}_site_capture_date", "site", "capture_date"),
        )


class Image(ExposureColumns, Base):
    """A regular exposure under ``data/``."""

    __tablename__ = "images"


class AllskyImage(ExposureColumns, Base):
    """An all-sky camera exposure under ``allsky/``, tracked apart from regular exposures."""

    __tablename__ = "allsky_images"


class LedgerEntry(Base):
    """One S3 object: what happened to it and in which Dagster run."""

    __tablename__ = "object_ledger"

    key: Mapped[str] = mapped_column(String, primary_key=True)
    etag: Mapped[str | None] = mapped_column(String)
    size: Mapped[int | None] = mapped_column(BigInteger)
    last_modified: Mapped[datetime | None] = mapped_column(DateTime())
    prefix: Mapped[str | None] = mapped_column(String)
    base_filename: Mapped[str | None] = mapped_column(String, index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    run_id: Mapped[str | None] = mapped_column(String(64), index=True)
    # The run key a sensor requested the object under, to find that run again.
    run_key: Mapped[str | None] = mapped_column(String(64))
    first_seen_at: Mapped[datetime] = mapped_column(DateTime())
    updated_at: Mapped[datetime] = mapped_column(DateTime(), index=True)


class ObjectRun(Base):
    """One run's outcome for one object, appended with every ledger write that names a run.

    The ledger's row holds only the last run; this keeps the run that first ingested a file after a
    replay has ingested it again. A sensor's ``queued`` claim names a run key, not a run, and is not
    kept: each row here is a run that handled the object. The table grows by one row per object per
    run (a night's objects once, again for each replay of it), a few hundred bytes a row; nothing
    prunes it yet.
    """

    __tablename__ = "object_runs"

    entry_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Indexed: an object's history is read by its key (catalog/whereabouts.py).
    key: Mapped[str] = mapped_column(String, index=True)
    run_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(String)
    recorded_at: Mapped[datetime] = mapped_column(DateTime())
