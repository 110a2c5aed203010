"""The ``photon-archive`` command: the operator's chores on a deployment.

``migrate`` brings the catalog at ``PHOTON_ARCHIVE_DATABASE_URL`` to the latest schema, adopting the
legacy system's catalog in place (``catalog/adoption.py``; ``--dry-run`` prints the plan);
``provision`` creates whatever of the bucket, queues and tables is missing and adopts what exists,
on the AWS account that boto3's standard chain names (an emulator when ``AWS_ENDPOINT_URL`` points
at one). ``baseline`` records the bucket's history in the ledger before the sensors first start (the
``baseline`` job). ``whereis`` prints what happened to a file (its key, base filename or the start of
either) from the ledger, as the ``whereis`` job does, with no Dagster instance. The local stack has a
command of its own, ``photon-archive-workshop``, in the workshop package beside this one.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict

from photon_archive.catalog.adoption import migrate
from photon_archive.catalog.engine import engine_for
from photon_archive.catalog.whereabouts import DEFAULT_LIMIT, whereabouts
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
    baseline = commands.add_parser(
        "baseline",
        help="record the bucket's history in the ledger before the sensors first start, announcing nothing",
    )
    baseline.add_argument(
        "--dry-run", action="store_true", help="list and count what would be recorded; write nothing"
    )
    baseline.add_argument(
        "--prefix",
        dest="prefixes",
        action="extend",
        nargs="+",
        default=[],
        metavar="P",
        help="a prefix to baseline (repeatable); default: every watched one",
    )
    baseline.add_argument("--site", default="", help="only this site's objects")

    whereis = commands.add_parser(
        "whereis", help="what happened to a file: its state, reason and every run that handled it"
    )
    whereis.add_argument("key", help="a full key, a base filename, or the start of either")
    whereis.add_argument(
        "--limit", type=int, default=DEFAULT_LIMIT, help=f"the most objects listed (default {DEFAULT_LIMIT})"
    )

    args = parser.parse_args(argv)
    if args.command == "baseline":
        return run_baseline(args.prefixes, args.site, args.dry_run)
    if args.command == "whereis":
        return run_whereis(args.key, args.limit)
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


def run_baseline(prefixes: list[str], site: str, dry_run: bool) -> int:
    """Run the ``baseline`` job in this process, on the Dagster instance DAGSTER_HOME names, and print
    its figures.

    In this process rather than through the run queue: a queued run needs the daemon, and the
    daemon starts the sensors, whose first sweep is what the baseline must come before. Run here,
    it needs neither daemon nor webserver, yet the instance records it like any other run, so the
    Runs page shows it with its log (a line per page) and its figures. A run that fails is finished
    by running the command again, which goes on from what the ledger has.
    """
    import os

    from dagster import DagsterInstance

    from photon_archive.definitions import definitions_from_env
    from photon_archive.defs.baseline import OP_NAME, baseline_run_config

    if not os.environ.get("DAGSTER_HOME"):
        print(
            "photon-archive baseline: DAGSTER_HOME must name the Dagster instance to record the run in "
            "(the one the webserver and daemon use)",
            file=sys.stderr,
        )
        return 2
    job = definitions_from_env().resolve_job_def("baseline")
    with DagsterInstance.get() as instance:
        result = job.execute_in_process(
            run_config=baseline_run_config(prefixes, site, dry_run), instance=instance, raise_on_error=False
        )
    if not result.success:
        failures = [event for event in result.all_events if event.is_step_failure]
        said = [event.step_failure_data.error.message for event in failures if event.step_failure_data.error]
        print(f"baseline run {result.run_id} failed: {' '.join(said).strip()}", file=sys.stderr)
        return 1
    totals = {where: asdict(figures) for where, figures in result.output_for_node(OP_NAME).items()}
    print(json.dumps({"run_id": result.run_id, "dry_run": dry_run, "prefixes": totals}, indent=2))
    return 0


def run_whereis(search: str, limit: int) -> int:
    """Print what the ledger at PHOTON_ARCHIVE_DATABASE_URL holds of the objects ``search`` names;
    1 when none matches, 2 when the search or the catalog is wrong."""
    try:
        with engine_for(Settings.from_env().database_url).connect() as connection:
            found = whereabouts(connection, search.strip(), limit)
    except (ValueError, Misconfigured) as error:
        print(f"photon-archive whereis: {error}", file=sys.stderr)
        return 2
    if not found.objects:
        print(f"photon-archive whereis: no object in the ledger matches {found.search!r}", file=sys.stderr)
        return 1
    print("\n".join(found.lines()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
