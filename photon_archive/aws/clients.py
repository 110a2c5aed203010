"""boto3 clients, made once per process and shared by every object of a run."""

from __future__ import annotations

import os
import threading
from typing import Any

import boto3
from botocore.config import Config

# botocore's "standard" retry mode backs off on throttling and 5xx; a run's step retry policy sits above it.
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5},
    max_pool_connections=32,
    connect_timeout=5,
    read_timeout=60,
)

# Keyed by service, endpoint and region, so a changed environment gets new clients; boto3 itself reads
# the endpoint, region and credentials through its standard chain.
_clients: dict[tuple[str, str | None, str | None], Any] = {}
_sessions: dict[tuple[str | None, str | None], boto3.session.Session] = {}
_lock = threading.Lock()


def client(service: str) -> Any:
    """The shared client for ``service`` at the endpoint the environment names now.

    A run's I/O threads all ask for their clients at once when it starts: the lock makes that one
    client per service, not one per thread, and one session makes botocore load its endpoint data
    once per process, not once per service (about half a second each on a cold process).
    """
    where = (os.environ.get("AWS_ENDPOINT_URL"), os.environ.get("AWS_DEFAULT_REGION"))
    key = (service, *where)
    made = _clients.get(key)
    if made is None:
        with _lock:
            made = _clients.get(key)
            if made is None:
                session = _sessions.get(where)
                if session is None:
                    session = _sessions[where] = boto3.session.Session()
                made = _clients[key] = session.client(service, config=CLIENT_CONFIG)
    return made


def forget_clients() -> None:
    """Drop every client and session, as a new process would start: the next call resolves the
    endpoint, region and credentials afresh."""
    with _lock:
        _clients.clear()
        _sessions.clear()
