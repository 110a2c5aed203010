"""boto3 clients, made once per process and shared by every object of a run."""

from __future__ import annotations

import functools
import os
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


def client(service: str) -> Any:
    """The shared client for ``service`` at the endpoint the environment names now."""
    return _client(service, os.environ.get("AWS_ENDPOINT_URL"), os.environ.get("AWS_DEFAULT_REGION"))


@functools.cache
def _client(service: str, endpoint_url: str | None, region: str | None) -> Any:
    # The endpoint and region are part of the cache key so a changed environment gets a new client;
    # boto3 itself reads them (and the credentials) through its standard chain.
    return boto3.session.Session().client(service, config=CLIENT_CONFIG)
