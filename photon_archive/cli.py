"""The ``photon-archive`` command: the operator's chores on a deployment.

``migrate`` brings the catalog at ``PHOTON_ARCHIVE_DATABASE_URL`` to the latest schema, adopting the
legacy system's catalog in place (``catalog/adoption.py``; ``--dry-run`` prints the plan); ``provision``
creates whatever of the bucket, queues and tables is missing, on the AWS account that boto3's
standard chain names (an emulator when ``AWS_ENDPOINT_URL`` points at one). The local stack has a
command of its own, ``photon-archive-workshop``, in the workshop package beside this one.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from photon_archive.catalog.adoption import migrate
from photon_archive.errors import Misconfigured
from photon_archive.settings import Settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="photon-archive", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("provision", help="create the bucket, queues and tables that are missing")
    migrate_command = commands.add_parser(
        "migrate",
        help="apply the catalog migrations to PHOTON_ARCHIVE_DATABASE_URL; adopt a legacy catalog in place",
    )
    migrate_command.add_argument(
        "--dry-run", action="store_true", help="print what migrate would do, with figures; change nothing"
    )
    migrate_command.add_argument(
        "--recompute-from-headers",
        action="store_true",
        help="when adopting, recompute the header columns of rows with a stored header by today's rules",
    )

    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if args.command == "provision":
        from photon_archive.provision import provision

        print(json.dumps(provision(settings), indent=2))
        return 0
    try:
        lines = migrate(
            settings.database_url,
            settings.right_ascension_unit,
            dry_run=args.dry_run,
            recompute_from_headers=args.recompute_from_headers,
        )
    except Misconfigured as error:
        print(f"photon-archive migrate: {error}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
