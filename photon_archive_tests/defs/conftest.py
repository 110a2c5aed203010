"""The archive as the dual deployment runs it, for the tests of the Dagster shell."""

from __future__ import annotations

import pytest

from photon_archive_tests.archive import Archive


@pytest.fixture
def dual(archive: Archive, legacy_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Archive:
    """The archive deployed beside the old system, whose catalog is ``legacy_database_url``: the
    catalogs' URLs are read from the environment when a run starts, as in production."""
    monkeypatch.setenv("PHOTON_ARCHIVE_DATABASE_URL", archive.settings.database_url)
    monkeypatch.setenv("PHOTON_ARCHIVE_LEGACY_DATABASE_URL", legacy_database_url)
    return archive.configured(deployment="dual", legacy_database_url=legacy_database_url)
