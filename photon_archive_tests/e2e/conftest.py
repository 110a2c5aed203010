"""End-to-end fixtures: the real Dagster daemon and webserver (and, in production's shape, the code
server) as child processes, on the test's emulator and a fresh, migrated PostgreSQL catalog, started
the way an operator starts them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import URL, make_url

from photon_archive_tests.archive import Archive
from photon_archive_tests.e2e.stack import DagsterStack, StackFactory
from photon_archive_tests.postgres import create_database, drop_database
from photon_archive_tests.proxy import TcpProxy


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "e2e: runs the real Dagster daemon and webserver (minutes; deselect with -m 'not e2e')"
    )


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    """Keep each phase's report on the test item, so a fixture can tell whether its test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def _failed(request: pytest.FixtureRequest) -> bool:
    reports = [getattr(request.node, f"report_{when}", None) for when in ("setup", "call")]
    return any(report is not None and report.failed for report in reports)


@pytest.fixture
def dagster_stack_factory(
    archive: Archive, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[StackFactory]:
    """Makes the test's Dagster stack: ``factory(database_url=..., run_retries=..., environment=...)``,
    or ``factory(production=True)`` for production's: the code server, the webserver and the daemon
    on the shipped ``deploy/dagster.yaml``, its storage a fresh PostgreSQL database of its own.

    The catalog defaults to the archive's migrated PostgreSQL database. Stopped at teardown (and
    production's storage dropped); when the test failed, the tails of the processes' logs are printed.
    """
    stacks: list[DagsterStack] = []
    storages: list[str] = []

    def factory(
        database_url: str | None = None,
        run_retries: bool = True,
        max_concurrent_runs: int | None = None,
        environment: dict[str, str] | None = None,
        start: bool = True,
        production: bool = False,
    ) -> DagsterStack:
        root = tmp_path / f"stack{len(stacks)}"
        catalog = database_url or archive.settings.database_url
        state_dir = Path(archive.settings.state_dir)
        if production:
            assert run_retries and max_concurrent_runs is None, "production's is deploy/dagster.yaml as it is"
            admin: URL = request.getfixturevalue("postgres_admin_url")
            storages.append(f"photon_archive_dagster_{uuid.uuid4().hex[:12]}")
            storage = create_database(admin, storages[-1])
            stack = DagsterStack.create_production(root, catalog, state_dir, storage, environment=environment)
        else:
            stack = DagsterStack.create(
                root,
                catalog,
                state_dir,
                run_retries=run_retries,
                max_concurrent_runs=max_concurrent_runs,
                environment=environment,
            )
        stacks.append(stack)
        if start:
            stack.start()
        return stack

    yield factory
    failed = _failed(request)
    for stack in stacks:
        stack.stop()
        if failed:
            print(stack.log_tails())
    for name in storages:
        drop_database(request.getfixturevalue("postgres_admin_url"), name)


@pytest.fixture
def dagster_stack(dagster_stack_factory: StackFactory) -> DagsterStack:
    """The webserver and daemon up, with the local stack's instance settings, sensors ticking."""
    return dagster_stack_factory()


@pytest.fixture
def catalog_proxy(postgres_url: str) -> Iterator[TcpProxy]:
    """A running proxy in front of the test's PostgreSQL server; ``url_for(database_url)`` goes through it."""
    url = make_url(postgres_url)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432)).start()
    try:
        yield proxy
    finally:
        proxy.stop()
