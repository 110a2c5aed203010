"""The real Dagster webserver and daemon, run as child processes the way an operator runs them.

Two shapes: the local stack's (the webserver and the daemon each load the code themselves, on the
repository's SQLite instance settings) and production's (``create_production``: the code location
served by ``dagster code-server start`` as a third process, which the webserver and the daemon
reach through ``deploy/workspace.yaml``, on the instance of ``deploy/dagster.yaml`` and its
PostgreSQL storage).

Each process starts in a process group of its own, so that its code servers and run workers can be
found and stopped with it; the daemon can be killed alone (``kill -9``) to play a crash, the code
server killed and started again on its port to play a deploy. Output goes to log files whose tails
a failing test prints.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml
from dagster import DagsterInstance
from dagster._grpc.client import DagsterGrpcClient
from sqlalchemy.engine import URL

from photon_archive_workshop.emulator import LOOPBACK, free_port
from photon_archive_workshop.instance import LOCAL_DAGSTER_YAML

DEFINITIONS_MODULE = "photon_archive.definitions"
REPOSITORY = Path(__file__).resolve().parents[2]
PRODUCTION_DAGSTER_YAML = REPOSITORY / "deploy" / "dagster.yaml"
PRODUCTION_WORKSPACE = REPOSITORY / "deploy" / "workspace.yaml"
# The code location's name, as deploy/workspace.yaml and pyproject.toml's [tool.dagster] give it.
LOCATION_NAME = "photon_archive"
TERMINAL_RUN_STATUSES = ("SUCCESS", "FAILURE", "CANCELED")

# How long to wait for a process to come up before failing: a limit, not a measure of speed (that is
# bench/'s job). The webserver answers, or both sensors tick under a new daemon, well within a minute
# on a 2-core machine busy with other work; the limit leaves room for one four times slower.
START_LIMIT_S = 300.0
# One request to the webserver, which answers in well under a second when idle.
REQUEST_LIMIT_S = 60.0

T = TypeVar("T")

SENSOR_TICKS_QUERY = """
query SensorTicks {
  repositoriesOrError {
    __typename
    ... on RepositoryConnection {
      nodes { name sensors { name sensorState { status ticks(limit: 1) { status timestamp } } } }
    }
    ... on PythonError { message }
  }
}
"""

RUN_QUERY = """
query Run($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run {
      runId status parentRunId rootRunId
      stepStats { stepKey status attempts { startTime endTime } }
    }
    ... on PythonError { message }
  }
}
"""

RUNS_BY_TAG_QUERY = """
query RunsByTag($key: String!, $value: String!) {
  runsOrError(filter: {tags: [{key: $key, value: $value}]}) {
    __typename
    ... on Runs { results { runId status } }
    ... on PythonError { message }
  }
}
"""

LAUNCH_MUTATION = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId status } }
    ... on PythonError { message stack }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on UnauthorizedError { message }
  }
}
"""

REEXECUTE_MUTATION = """
mutation Reexecute($parentRunId: String!, $strategy: ReexecutionStrategy!) {
  launchRunReexecution(reexecutionParams: {parentRunId: $parentRunId, strategy: $strategy}) {
    __typename
    ... on LaunchRunSuccess { run { runId status parentRunId } }
    ... on PythonError { message stack }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on UnauthorizedError { message }
  }
}
"""

LOCATIONS_QUERY = """
query Locations {
  repositoriesOrError {
    __typename
    ... on RepositoryConnection { nodes { name location { name } } }
    ... on PythonError { message }
  }
}
"""


def wait_for(what: str, check: Callable[[], T | None], timeout_s: float, interval_s: float = 0.5) -> T:
    """Poll ``check`` until it returns something true; fail with ``what`` after ``timeout_s``. The last
    exception ``check`` raised, if any, is part of the failure."""
    deadline = time.monotonic() + timeout_s
    last_error: Exception | None = None
    while True:
        try:
            value = check()
            if value:
                return value
        except Exception as error:  # noqa: BLE001 - a check may fail while the system is still coming up
            last_error = error
        if time.monotonic() >= deadline:
            suffix = f"; last error: {last_error!r}" if last_error else ""
            raise TimeoutError(f"{what}: not within {timeout_s:.0f} s{suffix}")
        time.sleep(interval_s)


@dataclass
class DagsterStack:
    """A Dagster home with the local stack's instance settings, and the webserver and daemon on it."""

    home: Path
    environment: dict[str, str]
    port: int = field(default_factory=free_port)
    # Production's shape: the workspace the webserver and the daemon load, and the code server's port.
    workspace: Path | None = None
    code_server_port: int = field(default_factory=free_port)
    webserver: subprocess.Popen[bytes] | None = None
    daemon: subprocess.Popen[bytes] | None = None
    code_server: subprocess.Popen[bytes] | None = None
    daemon_starts: int = 0
    code_server_starts: int = 0
    _groups: list[int] = field(default_factory=list)

    @classmethod
    def create(
        cls,
        root: Path,
        database_url: str,
        state_dir: Path,
        run_retries: bool = True,
        max_concurrent_runs: int | None = None,
        environment: dict[str, str] | None = None,
    ) -> DagsterStack:
        """A fresh Dagster home under ``root`` whose runs and sensors use ``database_url`` and the
        emulator that ``os.environ`` names (``AWS_ENDPOINT_URL`` and the emulator's credentials);
        ``environment`` adds settings of the project's own (``PHOTON_ARCHIVE_*``)."""
        home = root / "dagster_home"
        home.mkdir(parents=True)
        config = yaml.safe_load(LOCAL_DAGSTER_YAML.read_text())
        config["run_retries"]["enabled"] = run_retries
        if max_concurrent_runs is not None:
            config["run_coordinator"]["config"]["max_concurrent_runs"] = max_concurrent_runs
        (home / "dagster.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        return cls(home=home, environment=_variables(home, database_url, state_dir, environment))

    @classmethod
    def create_production(
        cls,
        root: Path,
        database_url: str,
        state_dir: Path,
        storage_url: URL,
        environment: dict[str, str] | None = None,
    ) -> DagsterStack:
        """A fresh Dagster home under ``root`` holding the shipped ``deploy/dagster.yaml`` as it is,
        its storage the database ``storage_url`` names (through the ``DAGSTER_PG_*`` variables); the
        webserver and the daemon load ``deploy/workspace.yaml``, which names the code server; the
        catalog is ``database_url``, read at launch as the ``aws`` deployment reads it."""
        home = root / "dagster_home"
        home.mkdir(parents=True)
        shutil.copy(PRODUCTION_DAGSTER_YAML, home / "dagster.yaml")
        code_server_port = free_port()
        variables = _variables(
            home,
            database_url,
            state_dir,
            {
                "PHOTON_ARCHIVE_DEPLOYMENT": "aws",
                "DAGSTER_PG_HOST": storage_url.host or LOOPBACK,
                "DAGSTER_PG_PORT": str(storage_url.port or 5432),
                "DAGSTER_PG_USERNAME": storage_url.username or "postgres",
                "DAGSTER_PG_PASSWORD": storage_url.password or "",
                "DAGSTER_PG_DB": storage_url.database or "",
                "DAGSTER_CODE_SERVER_HOST": LOOPBACK,
                "DAGSTER_CODE_SERVER_PORT": str(code_server_port),
                **(environment or {}),
            },
        )
        stack = cls(home, variables, workspace=PRODUCTION_WORKSPACE, code_server_port=code_server_port)
        # Dagster's tables are made once, as `dagster instance migrate` makes them, before the webserver
        # and the daemon start side by side: both would otherwise create them at once.
        with stack.instance():
            pass
        return stack

    # Processes

    def start(self, timeout_s: float = START_LIMIT_S) -> None:
        if self.workspace is not None:
            self.start_code_server(timeout_s)
        self.start_webserver(timeout_s)
        self.start_daemon(timeout_s)

    def start_webserver(self, timeout_s: float = START_LIMIT_S) -> None:
        command = [sys.executable, "-m", "dagster_webserver", *self._code_location_arguments()]
        command += ["-h", LOOPBACK, "-p", str(self.port)]
        self.webserver = self._spawn(command, self.webserver_log)
        wait_for("the Dagster webserver answers /server_info", self._webserver_answers, timeout_s)

    def start_daemon(self, timeout_s: float = START_LIMIT_S, wait: bool = True) -> None:
        """Start ``dagster-daemon run`` and (``wait``) wait until both sensors have ticked under it."""
        started = time.time()
        self.daemon_starts += 1
        with open(self.daemon_log, "ab") as log:
            log.write(f"\n===== daemon start {self.daemon_starts} =====\n".encode())
        command = [str(Path(sys.executable).with_name("dagster-daemon")), "run"]
        self.daemon = self._spawn(command + self._code_location_arguments(), self.daemon_log)
        if not wait:
            return
        wait_for(
            "both sensors tick under the new daemon",
            lambda: self._daemon_alive() and self.sensors_ticked_since(started),
            timeout_s,
        )

    def kill_daemon(self) -> None:
        """``kill -9`` of the daemon process alone: its code server and runs are left as they are."""
        assert self.daemon is not None
        self.daemon.kill()
        self.daemon.wait()

    def start_code_server(self, timeout_s: float = START_LIMIT_S) -> None:
        """Start ``dagster code-server start`` on the code server's port, as the image does, and wait
        until it serves the definitions."""
        assert self.workspace is not None, "only production's shape has a code server"
        self.code_server_starts += 1
        with open(self.code_server_log, "ab") as log:
            log.write(f"\n===== code server start {self.code_server_starts} =====\n".encode())
        command = [str(Path(sys.executable).with_name("dagster")), "code-server", "start"]
        command += ["-m", DEFINITIONS_MODULE, "-h", LOOPBACK, "-p", str(self.code_server_port)]
        self.code_server = self._spawn(command, self.code_server_log)
        wait_for("the code server serves the definitions", self._code_server_serves, timeout_s)

    def deploy_code_server(self, timeout_s: float = START_LIMIT_S) -> None:
        """A deploy of the code: the code server is killed (``kill -9``) and a new one starts on the
        same port.

        The processes it started go on: its own gRPC child finishes the call it was answering, and the
        run workers their runs, as each run is a task or pod of its own in production, which a deploy
        of the code server leaves alone.
        """
        assert self.code_server is not None
        self.code_server.kill()
        self.code_server.wait()
        self.start_code_server(timeout_s)

    def stop(self) -> None:
        """Interrupt each process as Ctrl-C would, then kill whatever of its groups is still there."""
        processes = (self.daemon, self.webserver, self.code_server)
        for process in processes:
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in processes:
            if process is not None:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        for group in self._groups:
            _signal_group(group, signal.SIGTERM)
        time.sleep(1)
        for group in self._groups:
            _signal_group(group, signal.SIGKILL)

    def _spawn(self, command: list[str], log_path: Path) -> subprocess.Popen[bytes]:
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                command,
                env=self.environment,
                cwd=self.home,  # the Dagster home: nothing the processes write lands in the checkout
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: code servers and runs go with it
            )
        self._groups.append(process.pid)
        return process

    def _code_location_arguments(self) -> list[str]:
        return ["-w", str(self.workspace)] if self.workspace is not None else ["-m", DEFINITIONS_MODULE]

    def _code_server_serves(self) -> bool:
        assert self.code_server is not None
        if self.code_server.poll() is not None:
            raise RuntimeError(f"the code server exited with code {self.code_server.returncode}")
        try:  # the port first: the gRPC client complains loudly of a refused connection
            socket.create_connection((LOOPBACK, self.code_server_port), timeout=2).close()
        except OSError:
            return False
        client = DagsterGrpcClient(port=self.code_server_port, host=LOOPBACK)
        return bool(client.health_check_query() == "SERVING")

    def _webserver_answers(self) -> bool:
        assert self.webserver is not None
        if self.webserver.poll() is not None:
            raise RuntimeError(f"the webserver exited with code {self.webserver.returncode}")
        try:
            with urllib.request.urlopen(f"{self.url}/server_info", timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def _daemon_alive(self) -> bool:
        assert self.daemon is not None
        if self.daemon.poll() is not None:
            raise RuntimeError(f"the daemon exited with code {self.daemon.returncode}")
        return True

    # Logs

    @property
    def webserver_log(self) -> Path:
        return self.home / "webserver.log"

    @property
    def daemon_log(self) -> Path:
        return self.home / "daemon.log"

    @property
    def code_server_log(self) -> Path:
        return self.home / "code_server.log"

    def log_tails(self, lines: int = 80) -> str:
        parts = []
        for path in (self.webserver_log, self.daemon_log, self.code_server_log):
            text = path.read_text(errors="replace").splitlines() if path.exists() else []
            parts.append(f"----- last {lines} lines of {path} -----\n" + "\n".join(text[-lines:]))
        return "\n".join(parts)

    # The webserver's GraphQL API

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        body = json.dumps({"query": query, "variables": variables}).encode()
        request = urllib.request.Request(
            f"{self.url}/graphql", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=REQUEST_LIMIT_S) as response:
            answer = json.loads(response.read())
        if answer.get("errors"):
            raise RuntimeError(f"GraphQL errors: {answer['errors']}")
        data: dict[str, Any] = answer["data"]
        return data

    def latest_ticks(self) -> dict[str, dict[str, Any] | None]:
        """Each sensor's latest tick (``status``: STARTED while it is being evaluated, ``timestamp``)."""
        answer = self.graphql(SENSOR_TICKS_QUERY)["repositoriesOrError"]
        if answer["__typename"] != "RepositoryConnection":
            raise RuntimeError(f"no repositories: {answer}")
        return {
            sensor["name"]: (sensor["sensorState"]["ticks"] or [None])[0]
            for node in answer["nodes"]
            for sensor in node["sensors"]
        }

    def sensors_ticked_since(self, started: float) -> bool:
        """Whether every sensor of the code location has a tick that began after ``started``."""
        ticks = self.latest_ticks()
        return bool(ticks) and all(tick and tick["timestamp"] >= started for tick in ticks.values())

    def run(self, run_id: str) -> dict[str, Any]:
        answer = self.graphql(RUN_QUERY, runId=run_id)["runOrError"]
        if answer["__typename"] != "Run":
            raise RuntimeError(f"run {run_id}: {answer}")
        return dict(answer)

    def runs_tagged(self, key: str, value: str) -> list[dict[str, Any]]:
        answer = self.graphql(RUNS_BY_TAG_QUERY, key=key, value=value)["runsOrError"]
        if answer["__typename"] != "Runs":
            raise RuntimeError(f"runs tagged {key}={value}: {answer}")
        return list(answer["results"])

    def wait_for_run_to_end(self, run_id: str, timeout_s: float) -> dict[str, Any]:
        def ended() -> dict[str, Any] | None:
            run = self.run(run_id)
            return run if run["status"] in TERMINAL_RUN_STATUSES else None

        return wait_for(f"run {run_id} ends", ended, timeout_s)

    def launch(self, job_name: str, run_config: dict[str, Any], tags: dict[str, str] | None = None) -> str:
        """Launch a run of ``job_name`` as the launchpad's button does; returns its run id."""
        answer = self.graphql(LOCATIONS_QUERY)["repositoriesOrError"]
        if answer["__typename"] != "RepositoryConnection":
            raise RuntimeError(f"no repositories: {answer}")
        (repository,) = answer["nodes"]
        params = {
            "selector": {
                "repositoryLocationName": repository["location"]["name"],
                "repositoryName": repository["name"],
                "jobName": job_name,
            },
            "runConfigData": run_config,
            "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in (tags or {}).items()]},
        }
        result = self.graphql(LAUNCH_MUTATION, params=params)["launchRun"]
        if result["__typename"] != "LaunchRunSuccess":
            raise RuntimeError(f"run of {job_name} not launched: {result}")
        return str(result["run"]["runId"])

    def reexecute(self, parent_run_id: str, strategy: str = "FROM_FAILURE") -> str:
        """Launch a re-execution of ``parent_run_id`` as the UI's button does; returns the new run id."""
        answer = self.graphql(REEXECUTE_MUTATION, parentRunId=parent_run_id, strategy=strategy)
        result = answer["launchRunReexecution"]
        if result["__typename"] != "LaunchRunSuccess":
            raise RuntimeError(f"re-execution of {parent_run_id} not launched: {result}")
        return str(result["run"]["runId"])

    # The instance itself, read from the test process

    @contextmanager
    def instance(self) -> Iterator[DagsterInstance]:
        """The stack's instance; its ``dagster.yaml`` may name its storage by environment variables
        (``DAGSTER_PG_*``), which are the stack's while it is made."""
        with pytest.MonkeyPatch.context() as patch:
            for name, value in self.environment.items():
                if name.startswith("DAGSTER_"):
                    patch.setenv(name, value)
            instance = DagsterInstance.from_config(str(self.home))
        with instance:
            yield instance


StackFactory = Callable[..., DagsterStack]
"""What the ``dagster_stack_factory`` fixture hands a test."""


def _variables(
    home: Path, database_url: str, state_dir: Path, environment: dict[str, str] | None
) -> dict[str, str]:
    """The test process's environment, which points boto3 at the emulator, without the developer's own
    photon_archive and Dagster settings, and with the stack's."""
    variables = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PHOTON_ARCHIVE_", "DAGSTER_", "AWS_PROFILE"))
    }
    variables.update(
        {
            "DAGSTER_HOME": str(home),
            "PHOTON_ARCHIVE_DATABASE_URL": database_url,
            "PHOTON_ARCHIVE_STATE_DIR": str(state_dir),
            "PYTHONUNBUFFERED": "1",
            **(environment or {}),
        }
    )
    assert "AWS_ENDPOINT_URL" in variables, "the emulator fixture must point boto3 at moto first"
    return variables


def _signal_group(group: int, number: signal.Signals) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(group, number)
