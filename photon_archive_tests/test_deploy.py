"""What can be checked of the deployment files without a Docker engine, a cluster or AWS: the code
location's image (Dockerfile, .dockerignore), the values for Dagster's Helm chart, the ECS instance
and its tasks' environment. Each is held to deploy/dagster.yaml, the one statement of production's
instance, and to the project's own names (the definitions' module, the settings' variables)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from dagster import DagsterInstance, QueuedRunCoordinator
from dagster_aws.ecs import EcsRunLauncher
from docker.utils.build import tar
from dockerfile_parse import DockerfileParser
from sqlalchemy.engine import make_url

from photon_archive.settings import ENVIRONMENT
from photon_archive_workshop.emulator import LOOPBACK, free_port

REPOSITORY = Path(__file__).resolve().parents[1]
DEPLOY = REPOSITORY / "deploy"
PYPROJECT = tomllib.loads((REPOSITORY / "pyproject.toml").read_text())
INSTANCE = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())
HELM_VALUES = yaml.safe_load((DEPLOY / "helm" / "values.yaml").read_text())
ECS_INSTANCE = yaml.safe_load((DEPLOY / "ecs" / "dagster.yaml").read_text())
TASK_ENVIRONMENT = json.loads((DEPLOY / "ecs" / "task-environment.json").read_text())
# The one variable the definitions read besides the settings (definitions.py).
DEPLOYMENT_VARIABLE = "PHOTON_ARCHIVE_DEPLOYMENT"
# A code server answers its health check within a minute of its start on a busy 2-core machine; the
# limit leaves room for one several times slower.
CODE_SERVER_LIMIT_S = 300.0


# The image


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions in order, as (INSTRUCTION, its arguments)."""
    parser = DockerfileParser(str(REPOSITORY / "Dockerfile"))
    return [(i["instruction"], i["value"]) for i in parser.structure if i["instruction"] != "COMMENT"]


def the(instruction: str) -> str:
    (value,) = [value for name, value in instructions() if name == instruction]
    return value


def exec_form(value: str) -> list[str]:
    """The argument list of an instruction in exec form (a JSON array), after its --options."""
    start = value.index("[")
    words = json.loads(value[start:])
    assert isinstance(words, list) and all(isinstance(word, str) for word in words), value
    return words


def image_command() -> list[str]:
    return exec_form(the("CMD"))


def health_check() -> list[str]:
    options, _, command = the("HEALTHCHECK").partition("CMD")
    assert options.strip().startswith("--"), "the health check's timing is set, not Docker's defaults"
    return exec_form(command)


def test_the_image_is_slim_python_3_11_or_newer_run_as_a_user_of_its_own() -> None:
    found = re.fullmatch(r"python:3\.(\d+)-slim", the("FROM"))
    assert found and int(found.group(1)) >= 11, the("FROM")
    names = [name for name, _ in instructions()]
    user = the("USER")
    assert user not in ("root", "0") and not user.startswith(("root:", "0:"))
    # Everything the image runs runs as that user: nothing after it changes who runs.
    assert names.index("USER") > max(i for i, name in enumerate(names) if name == "RUN")
    assert names.index("USER") < names.index("CMD")


def test_the_image_installs_the_product_alone_with_pip_install_dot() -> None:
    (install,) = [value for name, value in instructions() if name == "RUN" and "pip install" in value]
    assert re.search(r'pip install "\.\$\{EXTRAS:\+\[\$EXTRAS\]\}"', install), install
    assert the("ARG") == 'EXTRAS=""', "by default no extra: `pip install .` itself"
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert "k8s" in extras and "dev" in extras
    assert not any("dagster-k8s" in requirement for requirement in PYPROJECT["project"]["dependencies"])


def test_the_image_serves_the_projects_code_location_on_port_4000_and_checks_its_health() -> None:
    module = PYPROJECT["tool"]["dagster"]["module_name"]
    assert image_command() == ["dagster", "code-server", "start", "-m", module, "-h", "0.0.0.0", "-p", "4000"]
    assert the("EXPOSE") == "4000"
    assert health_check() == ["dagster", "api", "grpc-health-check", "-p", "4000"]


@pytest.fixture
def code_server(tmp_path: Path) -> Iterator[int]:
    """The image's command, run here on a free loopback port; its port once it has started."""
    port = free_port()
    command = [word if word != "4000" else str(port) for word in image_command()]
    command = [word if word != "0.0.0.0" else LOOPBACK for word in command]
    environment = {name: value for name, value in os.environ.items() if not name.startswith("PHOTON_")}
    environment["PHOTON_ARCHIVE_STATE_DIR"] = str(tmp_path / "state")
    with open(tmp_path / "code_server.log", "wb") as log:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name(command[0])), *command[1:]],
            cwd=tmp_path,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_health_check(port: int) -> int:
    check = [word if word != "4000" else str(port) for word in health_check()]
    executable = str(Path(sys.executable).with_name(check[0]))
    return subprocess.run([executable, *check[1:]], capture_output=True, timeout=120).returncode


def test_the_images_health_check_passes_once_its_command_serves_the_definitions(code_server: int) -> None:
    assert run_health_check(free_port()) != 0, "the health check fails where no code server listens"
    deadline = time.monotonic() + CODE_SERVER_LIMIT_S
    while run_health_check(code_server) != 0:
        assert time.monotonic() < deadline, f"no healthy code server within {CODE_SERVER_LIMIT_S:.0f} s"
        time.sleep(2)


def build_context(root: Path, into: Path) -> Path:
    """The build context Docker is sent for ``root``: every file its .dockerignore lets through, packed
    and filtered as Docker's Python SDK does, unpacked into ``into``."""
    patterns = [
        line.strip()
        for line in (root / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    packed = tar(str(root), exclude=patterns, dockerfile=("Dockerfile", None))
    with packed, tarfile.open(fileobj=packed) as archive:
        archive.extractall(into, filter="data")
    return into


def stage_copies(context: Path, into: Path) -> Path:
    """The image's working directory as its `pip install` finds it: its COPY instructions up to then,
    made from ``context``."""
    workdir = into
    for name, value in instructions():
        if name == "RUN" and "pip install" in value:
            return workdir
        if name == "WORKDIR":
            workdir = into / value.lstrip("/")
        if name == "COPY":
            *sources, destination = value.split()
            assert not any(source.startswith("--") for source in sources), "COPY options are not staged here"
            target = workdir / destination
            for source in sources:
                path = context / source
                assert path.exists(), f"COPY {source}: not in the build context"
                if path.is_dir():
                    shutil.copytree(path, target, dirs_exist_ok=True)
                else:
                    target.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, target / path.name)
    raise AssertionError("the Dockerfile never runs pip install")


def wheel_files(project: Path, into: Path) -> set[str]:
    """The files of the wheel `pip install` builds from ``project``, as pip builds it (offline)."""
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet"]
    subprocess.run([*command, "--wheel-dir", str(into), str(project)], check=True, timeout=300)
    (wheel,) = into.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return {name for name in archive.namelist() if ".dist-info/" not in name}


def test_pip_install_in_the_image_builds_the_whole_product_and_nothing_else(tmp_path: Path) -> None:
    context = build_context(REPOSITORY, tmp_path / "context")
    source = stage_copies(context, tmp_path / "image")
    assert (source / "pyproject.toml").is_file()

    # The .dockerignore keeps the workshop, the tests, the venv and git out of the image...
    sent = {path.relative_to(context).parts[0] for path in context.rglob("*")}
    assert sent.isdisjoint({"workshop", "photon_archive_tests", "bench", ".venv", ".git", ".photon_archive"})

    # ...but nothing the product's package is built from: the wheel from the image's copies is the
    # wheel of the whole checkout.
    checkout = tmp_path / "checkout"
    local = (".venv", ".git", "__pycache__", ".*_cache", "*.egg-info", "build", "dist", ".photon_archive")
    shutil.copytree(REPOSITORY, checkout, ignore=shutil.ignore_patterns(*local))
    in_image = wheel_files(source, tmp_path / "image-wheel")
    assert in_image == wheel_files(checkout, tmp_path / "checkout-wheel")
    assert {"photon_archive/definitions.py", "photon_archive/catalog/migrations/env.py"} <= in_image
    assert any(name.startswith("photon_archive/catalog/migrations/versions/") for name in in_image)
    assert all(name.startswith("photon_archive/") for name in in_image)


# Dagster's Helm chart


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.capitalize() for word in rest)


def camel_keys(node: Any) -> Any:
    return {camel(key): camel_keys(value) for key, value in node.items()} if isinstance(node, dict) else node


def test_helm_values_run_the_image_on_the_instance_of_deploy_dagster_yaml() -> None:
    (deployment,) = HELM_VALUES["dagster-user-deployments"]["deployments"]
    command = image_command()
    assert deployment["codeServerArgs"] == command[command.index("-m") : command.index("-m") + 2]
    assert deployment["port"] == int(the("EXPOSE"))
    assert {"name": DEPLOYMENT_VARIABLE, "value": "aws"} in deployment["env"]
    launcher = HELM_VALUES["runLauncher"]
    assert launcher["type"] == "K8sRunLauncher"
    assert launcher["config"]["k8sRunLauncher"]["envSecrets"] == deployment["envSecrets"]

    daemon = HELM_VALUES["dagsterDaemon"]
    coordinator = daemon["runCoordinator"]["config"]["customRunCoordinator"]
    assert coordinator == INSTANCE["run_coordinator"]
    assert daemon["runRetries"] == camel_keys(INSTANCE["run_retries"])
    assert daemon["runMonitoring"] == camel_keys(INSTANCE["run_monitoring"])
    assert daemon["sensors"] == camel_keys(INSTANCE["sensors"])
    retention = camel_keys(INSTANCE["retention"])
    assert HELM_VALUES["retention"]["schedule"] == retention["schedule"]
    # Started ticks are kept (-1), as Dagster keeps them when dagster.yaml says nothing of them.
    assert HELM_VALUES["retention"]["sensor"]["purgeAfterDays"] == {
        **retention["sensor"]["purgeAfterDays"],
        "started": -1,
    }
    assert HELM_VALUES["telemetry"] == INSTANCE["telemetry"]
    assert HELM_VALUES["postgresql"]["enabled"] is False
    assert HELM_VALUES["generatePostgresqlPasswordSecret"] is False


# ECS


def test_the_ecs_instance_is_deploy_dagster_yaml_with_the_ecs_run_launcher() -> None:
    assert ECS_INSTANCE["run_launcher"]["module"] == "dagster_aws.ecs"
    assert ECS_INSTANCE["run_launcher"]["class"] == "EcsRunLauncher"
    assert {k: v for k, v in ECS_INSTANCE.items() if k != "run_launcher"} == {
        k: v for k, v in INSTANCE.items() if k != "run_launcher"
    }


def test_the_ecs_instance_loads_with_its_run_launcher(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = make_url(postgres_url)
    for name, value in {
        "DAGSTER_PG_HOST": url.host or LOOPBACK,
        "DAGSTER_PG_PORT": str(url.port or 5432),
        "DAGSTER_PG_USERNAME": url.username or "postgres",
        "DAGSTER_PG_PASSWORD": url.password or "",
        "DAGSTER_PG_DB": url.database or "",
        # The launcher makes its ECS clients when it is made; they call nothing until a run launches.
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    shutil.copy(DEPLOY / "ecs" / "dagster.yaml", tmp_path / "dagster.yaml")

    with DagsterInstance.from_config(str(tmp_path)) as instance:
        launcher = instance.run_launcher
        assert isinstance(launcher, EcsRunLauncher)
        assert launcher.secrets == ECS_INSTANCE["run_launcher"]["config"]["secrets"]
        assert launcher.env_vars == ECS_INSTANCE["run_launcher"]["config"]["env_vars"]
        assert launcher.use_current_ecs_task_config
        coordinator = instance.run_coordinator
        assert isinstance(coordinator, QueuedRunCoordinator)
        queue = coordinator.get_run_queue_config()
        assert queue.max_concurrent_runs == INSTANCE["run_coordinator"]["config"]["max_concurrent_runs"]
        assert queue.max_user_code_failure_retries > 0
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert instance.run_retries_enabled


def environment_references(node: Any) -> set[str]:
    """The variables a Dagster YAML file reads with ``{env: NAME}``."""
    if isinstance(node, dict):
        if set(node) == {"env"}:
            return {node["env"]}
        return set().union(*map(environment_references, node.values())) if node else set()
    if isinstance(node, list):
        return set().union(*map(environment_references, node)) if node else set()
    return set()


def test_the_ecs_tasks_environment_gives_every_variable_the_instance_workspace_and_code_read() -> None:
    plain = {entry["name"]: entry["value"] for entry in TASK_ENVIRONMENT["environment"]}
    secret = {entry["name"]: entry["valueFrom"] for entry in TASK_ENVIRONMENT["secrets"]}
    given = set(plain) | set(secret)
    assert set(plain).isdisjoint(secret)
    workspace = yaml.safe_load((DEPLOY / "workspace.yaml").read_text())
    assert environment_references(ECS_INSTANCE) | environment_references(workspace) <= given
    launcher = ECS_INSTANCE["run_launcher"]["config"]
    assert set(launcher["env_vars"]) <= set(plain)
    assert {entry["name"] for entry in launcher["secrets"]} == set(secret)
    assert {entry["valueFrom"] for entry in launcher["secrets"]} == set(secret.values())
    # The aws deployment reads the catalog's URL from the environment; it is a secret, as the
    # storage's password is, never a plain value.
    assert plain[DEPLOYMENT_VARIABLE] == "aws"
    assert {ENVIRONMENT["database_url"], "DAGSTER_PG_PASSWORD"} <= set(secret)
    ours = {name for name in given if name.startswith("PHOTON_ARCHIVE_")}
    assert ours <= set(ENVIRONMENT.values()) | {DEPLOYMENT_VARIABLE}, "every variable is a setting"


def test_deploy_files_name_no_secret_and_no_account() -> None:
    for path in [*DEPLOY.rglob("*.yaml"), *DEPLOY.rglob("*.json")]:
        text = path.read_text()
        assert not re.search(r"\b\d{12}\b", text), f"{path}: an AWS account id"
        assert not re.search(r"AKIA[0-9A-Z]{16}", text), f"{path}: an access key"
        assert not re.search(r"postgres(ql)?(\+\w+)?://\w+:[^@\s{]+@", text), f"{path}: a password in a URL"


def test_the_build_context_helper_sees_what_docker_is_sent(tmp_path: Path) -> None:
    root = tmp_path / "project"
    (root / "kept").mkdir(parents=True)
    (root / "kept" / "module.py").write_text("")
    (root / "kept" / "__pycache__").mkdir()
    (root / "kept" / "__pycache__" / "module.pyc").write_bytes(b"")
    (root / "left-out.txt").write_text("")
    (root / "Dockerfile").write_text("FROM scratch\n")
    (root / ".dockerignore").write_text("# comment\n*\n!kept/\n**/__pycache__\n")
    context = build_context(root, tmp_path / "context")
    sent = {path.relative_to(context).as_posix() for path in context.rglob("*") if path.is_file()}
    assert "kept/module.py" in sent
    assert "left-out.txt" not in sent
    assert not any("__pycache__" in name for name in sent)
