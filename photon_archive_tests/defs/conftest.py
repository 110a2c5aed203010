"""Fixtures of the Dagster shell's tests."""

from __future__ import annotations

import pytest

from photon_archive_tests.archive import Archive
from photon_archive_tests.nights import upload_nights


@pytest.fixture
def ingested(archive: Archive) -> tuple[Archive, list[str], str]:
    """The two nights of both sites ingested in one run from the launchpad; the keys and the run id."""
    keys = upload_nights(archive)
    return archive, keys, archive.ingest(keys).run_id
