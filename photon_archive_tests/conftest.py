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

from photon_archive.catalog.schema import create_database, drop_database, upgrade
from photon_archive.local.emulator import Emulator
from photon_archive.local.provision import provision
from photon_archive.settings import Settings
from photon_archive_tests.archive import Archive

# The machine's PostgreSQL (trust auth); CI starts it before the tests.
DEFAULT_TEST_DATABASE_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
# moto's server answers within seconds, even on a busy machine; the limit leaves room for a slower one.
EMULATOR_START_LIMIT_S = 120.0

# Property tests check what a function returns, not how fast: hypothesis's default 200 ms deadline per
# example and its health check on slow data generation fail on a machine busy with other work. A
# test's own @settings, or the fuzz profiles, still apply on top of these.
settings.register_profile("suite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("suite")


@pytest.fixture(scope="session")
def postgres_admin_url() -> URL:
    """The server every test database is created on. Postgres is mandatory: no server, no test run."""
    url = make_url(os.environ.get("PHOTON_ARCHIVE_TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL))
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001 - the message is what matters here
        pytest.exit(
            f"PostgreSQL is required for the tests and is not reachable at {url}: {error}", returncode=3
        )
    finally:
        engine.dispose()
    return url


@pytest.fixture
def postgres_url(postgres_admin_url: URL) -> Iterator[str]:
    """A new, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"photon_archive_test_{uuid.uuid4().hex[:12]}"
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
