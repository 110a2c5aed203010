"""The ``photon-archive`` command: the operator's chores on a deployment.

``migrate`` brings the catalog at ``PHOTON_ARCHIVE_DATABASE_URL`` to the latest schema; ``provision``
creates whatever of the bucket, queues and tables is missing, on the AWS account that boto3's
standard chain names (an emulator when ``AWS_ENDPOINT_URL`` points at one). The local stack has a
command of its own, ``photon-archive-workshop``, in the workshop package beside this one.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from photon_archive.catalog.engine import redacted_url
from photon_archive.catalog.schema import upgrade
from photon_archive.settings import Settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="photon-archive", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("provision", help="create the bucket, queues and tables that are missing")
    commands.add_parser("migrate", help="apply the catalog migrations to PHOTON_ARCHIVE_DATABASE_URL")

    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if args.command == "provision":
        from photon_archive.provision import provision

        print(json.dumps(provision(settings), indent=2))
        return 0
    upgrade(settings.database_url)
    print(f"catalog at head: {redacted_url(settings.database_url)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
