"""The tests' private PostgreSQL servers leave nothing running and nothing on disk, however the test
process that made one ends: a killed test run included."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg2

from photon_archive_tests.e2e.stack import wait_for
from photon_archive_workshop.emulator import LOOPBACK

# A test process that makes a private server, says where it is, and waits to be killed.
OWNER = """
import time
from photon_archive_tests.postgres import PostgresCluster, find_server_binaries

cluster = PostgresCluster.create(find_server_binaries())
cluster.start()
print(cluster.directory, cluster.port, flush=True)
time.sleep(600)
"""


def _answers(port: int) -> bool:
    try:
        psycopg2.connect(
            host=LOOPBACK, port=port, user="postgres", dbname="postgres", connect_timeout=5
        ).close()
    except psycopg2.OperationalError:
        return False
    return True


def test_a_private_server_is_stopped_and_removed_when_the_process_that_made_it_is_killed() -> None:
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER],
        cwd=Path(__file__).parents[1],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert owner.stdout is not None and owner.stderr is not None
        started = owner.stdout.readline().split()
        if not started:
            owner.wait()
            raise AssertionError(f"the private server did not start: {owner.stderr.read()}")
        directory, port = Path(started[0]), int(started[1])
        assert _answers(port) and directory.is_dir()

        owner.kill()
        owner.wait()

        wait_for(
            "the server stopped and its folder removed",
            lambda: not _answers(port) and not directory.exists(),
            60,
        )
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()
