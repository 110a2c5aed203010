"""A private PostgreSQL server that a test may stop and start: the machine's own server is shared
with other test runs and is never restarted by a test.

initdb and postgres refuse to run as root, so as root (as CI runs) the server runs as the
``postgres`` user, in a directory that user owns.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL

from photon_archive.catalog.schema import create_database, upgrade
from photon_archive.local.emulator import LOOPBACK, free_port

# Debian and Ubuntu keep the server binaries out of PATH, one directory per major version.
DEBIAN_BINARIES = Path("/usr/lib/postgresql")
SERVER_USER = "postgres"


def server_binaries() -> Path | None:
    """The directory holding initdb and pg_ctl (the newest version installed), or None."""
    on_path = shutil.which("initdb")
    candidates = [Path(on_path).parent] if on_path else []
    candidates += sorted(
        (p.parent for p in DEBIAN_BINARIES.glob("*/bin/initdb")),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    return next((c for c in candidates if (c / "pg_ctl").exists()), None)


@dataclass
class PostgresCluster:
    """One initdb'd data directory and the server on it, on a free loopback port, trust auth."""

    binaries: Path
    directory: Path
    port: int

    @classmethod
    def create(cls, binaries: Path) -> PostgresCluster:
        directory = Path(tempfile.mkdtemp(prefix="photon-archive-pg-"))
        cluster = cls(binaries, directory, free_port())
        if os.geteuid() == 0:
            shutil.chown(directory, SERVER_USER)
        cluster._run(
            "initdb", "-D", str(cluster.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"
        )
        return cluster

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def log(self) -> Path:
        return self.directory / "server.log"

    @property
    def admin_url(self) -> URL:
        return URL.create(
            "postgresql+psycopg2", "postgres", host=LOOPBACK, port=self.port, database="postgres"
        )

    def start(self) -> None:
        """Start the server and wait until it accepts connections (after crash recovery, if any)."""
        options = f"-p {self.port} -c listen_addresses={LOOPBACK} -k {self.directory} -c fsync=off"
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start"
        )

    def stop(self, mode: str = "immediate") -> None:
        """``immediate`` is a crash as far as clients can tell: every backend dies, nothing is flushed."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def is_running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def new_catalog(self) -> str:
        """A new, migrated catalog database on this server; its URL."""
        url = create_database(self.admin_url, f"catalog_{uuid.uuid4().hex[:12]}")
        rendered = url.render_as_string(hide_password=False)
        upgrade(rendered)
        return rendered

    def destroy(self) -> None:
        if self.is_running():
            self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def _run(self, program: str, *arguments: str) -> None:
        command = [str(self.binaries / program), *arguments]
        if os.geteuid() == 0:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.directory, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{program} failed ({done.returncode}): {done.stderr or done.stdout}")
