"""The archive as the dual deployment runs it, for the tests of the Dagster shell."""

from __future__ import annotations

import pytest

from photon_archive_tests.archive import Archive
from photon_archive_tests.nights import upload_nights


@pytest.fixture
def dual(archive: Archive, legacy_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Archive:
    """The archive deployed beside the old system, whose catalog is ``legacy_database_url``: the
    catalogs' URLs are read from the environment when a run starts, as in production."""
    monkeypatch.setenv("PHOTON_ARCHIVE_DATABASE_URL", archive.settings.database_url)
    monkeypatch.setenv("PHOTON_ARCHIVE_LEGACY_DATABASE_URL", legacy_database_url)
    return archive.configured(deployment="dual", legacy_database_url=legacy_database_url)


@pytest.fixture
def ingested(archive: Archive) -> tuple[Archive, list[str], str]:
    """The two nights of both sites ingested in one run from the launchpad; the keys and the run id."""
    keys = upload_nights(archive)
    return archive, keys, archive.ingest(keys).run_id
