"""Fixtures for the fault tests: a private PostgreSQL server to restart, a proxy in front of the
emulator to take down or slow down, and a second catalog for the same night ingested without fault."""

from __future__ import annotations

import os
import pwd
import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy.engine import URL

from photon_archive.catalog.schema import create_database, drop_database, upgrade
from photon_archive.local.emulator import LOOPBACK, Emulator
from photon_archive_tests.archive import Archive
from photon_archive_tests.faults.cluster import SERVER_USER, PostgresCluster, server_binaries
from photon_archive_tests.proxy import TcpProxy


@pytest.fixture(scope="module")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A running PostgreSQL server of the test's own, which it may crash and restart. The tests need
    PostgreSQL anyway: a machine without its server binaries fails them, saying what is missing."""
    binaries = server_binaries()
    if binaries is None:
        pytest.fail("no PostgreSQL server binaries (initdb, pg_ctl) on this machine", pytrace=False)
    if os.geteuid() == 0 and not _user_exists(SERVER_USER):
        pytest.fail(
            f"running as root and there is no {SERVER_USER!r} user to run a PostgreSQL server as",
            pytrace=False,
        )
    cluster = PostgresCluster.create(binaries)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


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
