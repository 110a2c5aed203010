"""End-to-end fixtures: the real Dagster daemon and webserver as child processes, on the test's
emulator and a fresh, migrated PostgreSQL catalog, started the way an operator starts them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from photon_archive_tests.archive import Archive
from photon_archive_tests.e2e.stack import DagsterStack, StackFactory
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
    """Makes the test's Dagster stack: ``factory(database_url=..., run_retries=..., environment=...)``.

    The catalog defaults to the archive's migrated PostgreSQL database. Stopped at teardown; when
    the test failed, the tails of the webserver's and the daemon's logs are printed.
    """
    stacks: list[DagsterStack] = []

    def factory(
        database_url: str | None = None,
        run_retries: bool = True,
        max_concurrent_runs: int | None = None,
        environment: dict[str, str] | None = None,
        start: bool = True,
    ) -> DagsterStack:
        stack = DagsterStack.create(
            tmp_path / f"stack{len(stacks)}",
            database_url or archive.settings.database_url,
            Path(archive.settings.state_dir),
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
