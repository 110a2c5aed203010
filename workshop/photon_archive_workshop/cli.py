"""The ``photon-archive-workshop`` command: the embedded local stack.

``photon-archive-workshop dev`` is the whole system on one machine: the AWS emulator on loopback, the
provisioned bucket, queues and tables, the migrated SQLite catalog, ``dagster dev`` (webserver and
daemon) and a night of sample data uploaded the way an observatory sends it. The operator's chores on
a deployment (``migrate``, ``provision``) are the product's own ``photon-archive`` command.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from photon_archive.catalog.engine import redacted_url
from photon_archive.catalog.schema import upgrade
from photon_archive.naming import Prefix
from photon_archive.settings import Settings
from photon_archive_workshop.instance import local_dagster_yaml
from photon_archive_workshop.sample_night import SAMPLE_NIGHT

DEFAULT_EMULATOR_PORT = 4566
DEFAULT_WEBSERVER_PORT = 3000
STACK_FILE = "stack.json"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="photon-archive-workshop", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    dev = commands.add_parser(
        "dev", help="run the whole system locally: emulator, catalog, Dagster, sample data"
    )
    dev.add_argument("--port", type=int, default=DEFAULT_WEBSERVER_PORT, help="Dagster webserver port")
    dev.add_argument("--emulator-port", type=int, default=DEFAULT_EMULATOR_PORT)
    dev.add_argument("--exposures", type=int, default=12, help="sample exposures uploaded at start (0: none)")

    emulator = commands.add_parser(
        "emulator", help="run the AWS emulator alone, provisioned, until interrupted"
    )
    emulator.add_argument("--port", type=int, default=DEFAULT_EMULATOR_PORT)

    sample = commands.add_parser("upload-sample", help="upload sample exposures the way an observatory does")
    sample.add_argument("--site", default="sro")
    sample.add_argument("--exposures", type=int, default=10)
    sample.add_argument("--prefix", default=Prefix.DATA.value, choices=[p.value for p in Prefix])
    sample.add_argument("--data-type", default="EX")
    sample.add_argument("--channel", type=int, choices=[1, 2, 3])
    sample.add_argument(
        "--night",
        type=date.fromisoformat,
        default=SAMPLE_NIGHT,
        help=f"YYYY-MM-DD (default: the sample night, {SAMPLE_NIGHT.isoformat()})",
    )
    sample.add_argument("--first-counter", type=int, default=1)

    args = parser.parse_args(argv)
    if args.command == "upload-sample":
        if args.channel is not None and args.prefix != Prefix.INFO_IMAGES:
            parser.error("--channel goes with --prefix info-images")
        if args.prefix == Prefix.INFO_IMAGES and args.channel is None:
            args.channel = 1
    settings = Settings.from_env()
    if args.command == "dev":
        return run_dev(settings, args.port, args.emulator_port, args.exposures)
    if args.command == "emulator":
        return run_emulator(settings, args.port)
    _use_local_stack(settings)
    keys = upload_sample(
        settings,
        site=args.site,
        count=args.exposures,
        prefix=args.prefix,
        data_type=args.data_type,
        channel=args.channel,
        night=args.night,
        first_counter=args.first_counter,
    )
    print(f"uploaded {len(keys)} objects to s3://{settings.bucket}/{args.prefix}/")
    return 0


def upload_sample(settings: Settings, **options: object) -> list[str]:
    """Upload sample exposures in the observatory's order (header first); return the keys written."""
    from photon_archive.aws.clients import client
    from photon_archive_workshop.sample import sample_exposures

    s3 = client("s3")
    keys = []
    for sample in sample_exposures(**options):  # type: ignore[arg-type]
        s3.put_object(
            Bucket=settings.bucket,
            Key=sample.key,
            Body=sample.body,
            ContentType=sample.content_type,
            Metadata=sample.metadata,
        )
        keys.append(sample.key)
    return keys


def run_emulator(settings: Settings, port: int) -> int:
    """Serve the provisioned emulator in the foreground, for tools run from another terminal."""
    from photon_archive_workshop.emulator import Emulator

    state = _state_dir(settings)
    emulator = Emulator(port=port, log_path=state / "emulator.log").start()
    try:
        os.environ.update(emulator.environment())
        _provision(settings)
        _write_stack_file(state, emulator.environment())
        print(f"AWS emulator on {emulator.endpoint_url}; Ctrl-C stops it")
        _wait_for_signal()
    finally:
        (state / STACK_FILE).unlink(missing_ok=True)
        emulator.stop()
    return 0


def run_dev(settings: Settings, port: int, emulator_port: int, exposures: int) -> int:
    from photon_archive_workshop.emulator import Emulator

    state = _state_dir(settings)
    emulator = Emulator(port=emulator_port, log_path=state / "emulator.log").start()
    dagster: subprocess.Popen[bytes] | None = None
    try:
        os.environ.update(emulator.environment())
        print(f"AWS emulator on {emulator.endpoint_url}", flush=True)
        _provision(settings)
        upgrade(settings.database_url)
        print(f"catalog migrated: {redacted_url(settings.database_url)}", flush=True)
        _write_stack_file(state, emulator.environment())
        environment = {**os.environ, "DAGSTER_HOME": str(_dagster_home(state))}
        environment["PHOTON_ARCHIVE_STATE_DIR"] = str(state)
        command = ["dagster", "dev", "-m", "photon_archive.definitions", "-h", "127.0.0.1", "-p", str(port)]
        dagster = subprocess.Popen(
            [sys.executable, "-m", *command],
            env=environment,
            cwd=state,  # beside its Dagster home: nothing the stack writes lands in the checkout
            # dagster dev stops its webserver and daemon on SIGINT; a shell starts background
            # commands with SIGINT ignored, so the child gets the default back.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        _wait_for_webserver(port, dagster)
        print(f"Dagster UI on http://127.0.0.1:{port}", flush=True)
        if exposures > 0:
            keys = upload_sample(settings, count=exposures, night=SAMPLE_NIGHT)
            keys += upload_sample(settings, count=1, prefix=Prefix.INFO_IMAGES, channel=1, night=SAMPLE_NIGHT)
            # Last night's: all-sky images older than their retention (30 days) are expired.
            keys += upload_sample(settings, count=2, prefix=Prefix.ALLSKY)
            print(f"uploaded a night of sample data: {len(keys)} objects", flush=True)
        _wait_for_signal(dagster)
    finally:
        if dagster and dagster.poll() is None:
            dagster.send_signal(signal.SIGINT)
            try:
                dagster.wait(timeout=60)
            except subprocess.TimeoutExpired:
                dagster.kill()
        (state / STACK_FILE).unlink(missing_ok=True)
        emulator.stop()
    return 0


def _provision(settings: Settings) -> object:
    from photon_archive.provision import provision

    return provision(settings)


def _state_dir(settings: Settings) -> Path:
    state = Path(settings.state_dir).resolve()
    state.mkdir(parents=True, exist_ok=True)
    return state


def _dagster_home(state: Path) -> Path:
    home = state / "dagster_home"
    home.mkdir(exist_ok=True)
    shutil.copyfile(local_dagster_yaml(), home / "dagster.yaml")
    return home


def _write_stack_file(state: Path, environment: dict[str, str]) -> None:
    (state / STACK_FILE).write_text(json.dumps(environment, indent=2))


def _use_local_stack(settings: Settings) -> None:
    """Point boto3 at the running local stack, unless the environment already names an endpoint."""
    stack = Path(settings.state_dir) / STACK_FILE
    if "AWS_ENDPOINT_URL" not in os.environ and stack.exists():
        os.environ.update(json.loads(stack.read_text()))


def _wait_for_webserver(port: int, process: subprocess.Popen[bytes], timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"dagster dev exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the Dagster webserver did not come up on port {port} within {timeout_s:.0f} s")


def _wait_for_signal(process: subprocess.Popen[bytes] | None = None) -> None:
    """Until Ctrl-C or SIGTERM (or ``process`` ends). Both handled explicitly: a shell starts
    background commands with SIGINT ignored."""
    stop = []
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stop.append(True))
    while not stop and (process is None or process.poll() is None):
        time.sleep(0.5)


if __name__ == "__main__":
    raise SystemExit(main())
