"""moto's server on a loopback port, standing in for S3, SQS and DynamoDB.

It runs as a child process so that the code under it talks HTTP to it exactly as it talks to AWS.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

LOOPBACK = "127.0.0.1"
SERVER_MODULE = "photon_archive_workshop.moto_server"  # moto's server, with its departures from AWS put right

# What the emulator accepts; never a real credential.
EMULATOR_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


@dataclass
class Emulator:
    """A moto server child process; ``environment()`` points boto3 at it."""

    port: int = field(default_factory=free_port)
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def environment(self) -> dict[str, str]:
        return {**EMULATOR_ENVIRONMENT, "AWS_ENDPOINT_URL": self.endpoint_url}

    def command(self) -> list[str]:
        """The child process that serves the emulator."""
        return [sys.executable, "-m", SERVER_MODULE, "-H", LOOPBACK, "-p", str(self.port)]

    def start(self, timeout_s: float = 30.0) -> Self:
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            self.command(),
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **EMULATOR_ENVIRONMENT},
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the AWS emulator exited at start with code {self.process.returncode}")
            if self.is_up():
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the AWS emulator did not answer on {self.endpoint_url} within {timeout_s:.0f} s")

    def is_up(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.endpoint_url}/moto-api/", timeout=1):
                return True
        except OSError:
            return False

    def reset(self) -> None:
        """Forget every bucket, queue and table: a clean slate between tests."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
