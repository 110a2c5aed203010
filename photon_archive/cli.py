"""The ``photon-archive`` command: the operator's chores on a deployment.

``migrate`` brings the catalog at ``PHOTON_ARCHIVE_DATABASE_URL`` to the latest schema;
``provision`` creates whatever of the bucket, queues and tables is missing and adopts what exists,
on the AWS account that boto3's standard chain names (an emulator when ``AWS_ENDPOINT_URL`` points
at one). The local stack has a command of its own, ``photon-archive-workshop``, in the workshop
package beside this one.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from photon_archive.catalog.engine import redacted_url
from photon_archive.catalog.schema import upgrade
from photon_archive.errors import Misconfigured
from photon_archive.settings import Settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="photon-archive", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    provisioning = commands.add_parser(
        "provision", help="create the bucket, queues and tables that are missing; adopt those that exist"
    )
    provisioning.add_argument(
        "--dry-run", action="store_true", help="print every change it would make, and make none"
    )
    way_out = provisioning.add_mutually_exclusive_group()
    way_out.add_argument(
        "--via-eventbridge",
        action="store_true",
        help="leave the bucket's other notifications as they are: turn on its EventBridge delivery "
        "and send the watched prefixes' events on to the event queue by a rule (PHOTON_ARCHIVE_EVENT_RULE)",
    )
    way_out.add_argument(
        "--fan-out",
        action="store_true",
        help="where another notification of the bucket is in the way, send the bucket's events to an "
        "SNS topic (PHOTON_ARCHIVE_EVENT_TOPIC) that feeds the event queue and, filtered, each one",
    )
    way_out.add_argument(
        "--retire-legacy-triggers",
        action="store_true",
        help="remove the events of the bucket's other notifications that are in the way",
    )
    commands.add_parser("migrate", help="apply the catalog migrations to PHOTON_ARCHIVE_DATABASE_URL")

    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if args.command == "provision":
        from photon_archive.provision import provision

        try:
            provisioned = provision(
                settings,
                dry_run=args.dry_run,
                fan_out=args.fan_out,
                retire_legacy_triggers=args.retire_legacy_triggers,
                via_eventbridge=args.via_eventbridge,
            )
        except Misconfigured as refusal:
            print(refusal, file=sys.stderr)
            return 2
        print(provisioned.report())
        return 0
    upgrade(settings.database_url)
    print(f"catalog at head: {redacted_url(settings.database_url)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
