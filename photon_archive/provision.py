"""Provisioning: the queues, the bucket's notifications, the EventBridge rule or the fan-out topic
and the tables the system uses, made where missing and adopted where they exist.

``photon-archive provision`` runs it against the account boto3's chain names, the local stack against
the emulator. It reads everything first and makes a plan; a plan with problems (an overlap S3 would
refuse, a table the system cannot use) is refused whole, before any write, naming each problem and
the ways out; a dry run reports the plan and writes nothing. What others made is kept: the bucket's
other notification entries, every table's keys, a TTL another set. ``via_eventbridge`` touches
none of them: the bucket also sends its events to EventBridge, where a rule takes the watched
prefixes' to the event queue. Only when asked (``fan_out``, ``retire_legacy_triggers``) does it
touch another's notification entries, and only the events of them that stand in its way. Running
it again changes nothing, and keeps the way out an earlier run took.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from botocore.exceptions import ClientError

from photon_archive import notifications as n
from photon_archive import table_keys
from photon_archive.aws.clients import client
from photon_archive.errors import Misconfigured
from photon_archive.settings import Settings

# The dead-letter queue takes an event message after this many failed receives, so one poisoned
# message can never be retried forever.
MAX_RECEIVES_BEFORE_DEAD_LETTER = 5
EVENT_MESSAGE_RETENTION_S = 14 * 24 * 3600
# The Sids of the statements provisioning adds to access policies; it replaces only these.
BUCKET_SENDS = "photon-archive-bucket-events"
TOPIC_SENDS = "photon-archive-topic-events"
RULE_SENDS = "photon-archive-rule-events"
# The Id of the event queue among the EventBridge rule's targets; other targets are kept.
RULE_TARGET = "photon-archive-event-queue"


@dataclass(frozen=True)
class Account:
    """Where ARNs point: the caller's partition, region and account."""

    partition: str
    region: str
    id: str

    def arn(self, service: str, name: str) -> str:
        return f"arn:{self.partition}:{service}:{self.region}:{self.id}:{name}"

    def bucket_arn(self, bucket: str) -> str:
        return f"arn:{self.partition}:s3:::{bucket}"


@dataclass
class Plan:
    """What provisioning found and would do, in the order it does it."""

    changes: list[tuple[str, Callable[[], object]]] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def change(self, description: str, action: Callable[[], object]) -> None:
        self.changes.append((description, action))


@dataclass(frozen=True)
class Provisioned:
    """What provisioning did (or, in a dry run, would do), and what it left as it was."""

    bucket: str
    event_queue: str
    datastream_queue: str
    topic: str | None  # the fan-out topic's ARN, when the bucket sends to it
    rule: str | None  # the EventBridge rule's ARN, when the events reach the event queue through it
    tables: tuple[str, ...]
    changes: tuple[str, ...]
    kept: tuple[str, ...]  # others' notification entries, as they were
    retired: tuple[str, ...]  # others' notification entries (or events of them) removed, when asked
    dry_run: bool

    def report(self) -> str:
        lines = [f"bucket {self.bucket}, event queue {self.event_queue}, datastream {self.datastream_queue}"]
        if self.topic:
            lines.append(f"the bucket sends its events to SNS topic {self.topic}")
        if self.rule:
            lines.append(
                f"the bucket sends its events to EventBridge, and rule {self.rule} to the event queue"
            )
        lines.append(f"tables: {', '.join(self.tables)}")
        verb = "would change" if self.dry_run else "changed"
        lines.append(f"{verb}:" if self.changes else "nothing to change")
        lines += [f"  {line}" for change in self.changes for line in change.splitlines()]
        if self.retired:
            lines.append("retired legacy triggers:" if not self.dry_run else "would retire legacy triggers:")
            lines += [f"  {line}" for line in self.retired]
        if self.kept:
            lines.append("kept as they are (not made by photon_archive):")
            lines += [f"  {line}" for line in self.kept]
        if self.dry_run:
            lines.append("dry run: nothing was changed")
        return "\n".join(lines)


def provision(
    settings: Settings,
    *,
    dry_run: bool = False,
    fan_out: bool = False,
    retire_legacy_triggers: bool = False,
    via_eventbridge: bool = False,
) -> Provisioned:
    """Plan from what exists, refuse a plan with problems, and carry it out unless ``dry_run``.

    ``via_eventbridge`` turns on the bucket's EventBridge delivery, which overlaps nothing, and
    sends the watched prefixes' events from there to the event queue by a rule; photon_archive's
    own entries leave the bucket, every other entry stays as it is. ``fan_out`` puts an SNS topic
    between the bucket and the event queue, and moves the entries in the way onto it as filtered
    subscriptions. ``retire_legacy_triggers`` removes the events of others' entries that are in the
    way instead. A bucket whose events already go through the rule or the topic stays so.
    """
    ways = {n.VIA_EVENTBRIDGE: via_eventbridge, n.FAN_OUT: fan_out, n.RETIRE: retire_legacy_triggers}
    asked = [way for way, on in ways.items() if on]
    if len(asked) > 1:
        raise ValueError(f"{' and '.join(asked)} are ways out: choose one")
    account = _account()
    topic_arn = account.arn("sns", settings.event_topic)
    rule_arn = account.arn("events", f"rule/{settings.event_rule}")
    current = _notification_configuration(settings.bucket)
    through_topic = any(
        entry.own and entry.kind == n.TOPICS and entry.destination == topic_arn
        for entry in n.entries(current)
    )
    rule = _rule(settings.event_rule)
    plan = Plan()
    plan.problems += n.ways_refused(
        asked[0] if asked else None, topic_arn if through_topic else None, rule_arn if rule else None
    )
    # The way out asked for, else the one an earlier run took; ways_refused says when not both.
    topic = topic_arn if fan_out or (through_topic and not via_eventbridge) else None
    kept_rule = rule is not None and not through_topic and asked in ([], [n.RETIRE])
    bridge = rule_arn if via_eventbridge or kept_rule else None
    _plan_queues(plan, settings, account, topic, bridge)
    if settings.bucket not in {b["Name"] for b in client("s3").list_buckets().get("Buckets", [])}:
        plan.change(
            f"create S3 bucket {settings.bucket}", lambda: client("s3").create_bucket(Bucket=settings.bucket)
        )
    if bridge:
        _plan_rule(plan, settings, account, rule)
        _plan_bridge(plan, settings, account, current, retire_legacy_triggers)
    else:
        _plan_notifications(plan, settings, account, current, topic, retire_legacy_triggers)
    needs = _tables(settings)
    for table, table_needs in needs:
        _plan_table(plan, table, table_needs)
    if plan.problems:
        raise Misconfigured(
            "provisioning refused, nothing was changed:\n" + "\n".join(f"- {p}" for p in plan.problems)
        )
    if not dry_run:
        for _, action in plan.changes:
            action()
    return Provisioned(
        bucket=settings.bucket,
        event_queue=settings.event_queue,
        datastream_queue=settings.datastream_queue,
        topic=topic,
        rule=bridge,
        tables=tuple(table for table, _ in needs),
        changes=tuple(description for description, _ in plan.changes),
        kept=tuple(plan.kept),
        retired=tuple(plan.retired),
        dry_run=dry_run,
    )


def set_bucket_notifications(settings: Settings, enabled: bool) -> None:
    """Send the bucket's events for the watched prefixes straight to the event queue, or stop
    sending them; every other entry of the bucket's configuration stays as it is."""
    account = _account()
    current = _notification_configuration(settings.bucket)
    own = n.own_entries(n.QUEUES, account.arn("sqs", settings.event_queue), settings.watched_prefixes)
    after = n.rewritten(current, [(n.QUEUES, entry) for entry in own] if enabled else [])
    if not n.same(current, after):
        _put_notifications(settings.bucket, after)


def _tables(settings: Settings) -> list[tuple[str, table_keys.TableNeeds]]:
    return [
        (settings.info_images_table, table_keys.INFO_IMAGES),
        (settings.expiration_table, table_keys.EXPIRATION_TRACKER),
        (settings.upload_log_table, table_keys.UPLOAD_LOG),
    ]


def _account() -> Account:
    identity = client("sts").get_caller_identity()
    return Account(
        str(identity["Arn"]).split(":")[1], client("sqs").meta.region_name, str(identity["Account"])
    )


# --- queues -------------------------------------------------------------------------------------


def _plan_queues(
    plan: Plan, settings: Settings, account: Account, topic_arn: str | None, rule_arn: str | None
) -> None:
    for name in (settings.event_dead_letter_queue, settings.event_queue, settings.datastream_queue):
        if _queue_url(name) is None:
            plan.change(f"create SQS queue {name}", partial(client("sqs").create_queue, QueueName=name))
    queue_arn = account.arn("sqs", settings.event_queue)
    senders = [
        n.delivery_statement(
            BUCKET_SENDS,
            "s3.amazonaws.com",
            "sqs:SendMessage",
            queue_arn,
            account.bucket_arn(settings.bucket),
        )
    ]
    if topic_arn:
        senders.append(
            n.delivery_statement(TOPIC_SENDS, "sns.amazonaws.com", "sqs:SendMessage", queue_arn, topic_arn)
        )
    if rule_arn:
        senders.append(
            n.delivery_statement(RULE_SENDS, "events.amazonaws.com", "sqs:SendMessage", queue_arn, rule_arn)
        )
    redrive = {
        "deadLetterTargetArn": account.arn("sqs", settings.event_dead_letter_queue),
        "maxReceiveCount": str(MAX_RECEIVES_BEFORE_DEAD_LETTER),
    }
    current = _queue_attributes(settings.event_queue)
    wanted = {
        "Policy": json.dumps(n.with_statements(current.get("Policy"), senders)),
        "RedrivePolicy": json.dumps(redrive),
        "MessageRetentionPeriod": str(EVENT_MESSAGE_RETENTION_S),
        # The sensor asks for the same on every receive; on the queue too, so that every receiver of
        # it holds a message as long as a tick may (event_polling.py).
        "VisibilityTimeout": str(settings.event_visibility_timeout_seconds),
    }
    different = {name: value for name, value in wanted.items() if not _same_value(current.get(name), value)}
    if different:
        plan.change(
            f"set {', '.join(different)} of SQS queue {settings.event_queue}",
            lambda: client("sqs").set_queue_attributes(
                QueueUrl=_queue_url(settings.event_queue), Attributes=different
            ),
        )


def _queue_url(name: str, owner: str | None = None) -> str | None:
    sqs = client("sqs")
    try:
        arguments = {"QueueName": name, **({"QueueOwnerAWSAccountId": owner} if owner else {})}
        return str(sqs.get_queue_url(**arguments)["QueueUrl"])
    except sqs.exceptions.QueueDoesNotExist:
        return None


def _queue_attributes(name: str, owner: str | None = None) -> dict[str, str]:
    url = _queue_url(name, owner)
    if url is None:
        return {}
    attributes = client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
    return dict(attributes.get("Attributes", {}))


def _same_value(current: str | None, wanted: str) -> bool:
    """Attribute values compared as JSON where they are JSON (AWS may reorder or retype them)."""
    if current is None:
        return False
    try:
        return _normal(json.loads(current)) == _normal(json.loads(wanted))
    except ValueError:
        return current == wanted


def _normal(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _normal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_normal(item) for item in value]
    return str(value)


# --- the bucket's notifications -----------------------------------------------------------------


def _notification_configuration(bucket: str) -> dict[str, Any]:
    s3 = client("s3")
    try:
        configuration = s3.get_bucket_notification_configuration(Bucket=bucket)
    except s3.exceptions.NoSuchBucket:
        return {}
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "NoSuchBucket":
            return {}
        raise
    return {key: value for key, value in configuration.items() if key != "ResponseMetadata"}


def _put_notifications(bucket: str, configuration: dict[str, Any]) -> None:
    client("s3").put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=configuration)


@dataclass(frozen=True)
class Move:
    """An entry in the way, moved onto the topic: its destination subscribes, filtered to the
    events of it that photon_archive also takes, for the keys it matched."""

    entry: n.Entry
    events: tuple[str, ...]

    def attributes(self) -> dict[str, str]:
        attributes = {
            "FilterPolicy": json.dumps(n.filter_policy(self.entry, self.events), sort_keys=True),
            "FilterPolicyScope": "MessageBody",
        }
        if self.entry.kind == n.QUEUES:
            attributes["RawMessageDelivery"] = "true"  # the queue's reader gets the S3 event as before
        return attributes


def _plan_notifications(
    plan: Plan,
    settings: Settings,
    account: Account,
    current: dict[str, Any],
    topic_arn: str | None,
    retire: bool,
) -> None:
    kind, destination = (
        (n.TOPICS, topic_arn) if topic_arn else (n.QUEUES, account.arn("sqs", settings.event_queue))
    )
    own = n.own_entries(kind, destination, settings.watched_prefixes)
    in_the_way = n.conflicts(current, [n.parse_entry(kind, entry) for entry in own])
    if not topic_arn and retire:
        after = n.rewritten(current, [(kind, entry) for entry in own], _retired(plan, in_the_way))
        _plan_put(plan, settings, current, after)
        return
    events_left: dict[str, tuple[str, ...]] = {}
    moves: list[Move] = []
    refused: list[str] = []
    for entry in in_the_way:
        taken, rest = n.split_events(entry)
        events_left[entry.id] = rest
        if topic_arn:
            why = n.fan_out_refusal(entry, settings.watched_prefixes)
            if why:
                plan.problems.append(f"{entry.describe()} cannot be moved onto SNS topic {topic_arn}: {why}")
            else:
                moves.append(Move(entry, taken))
        else:
            refused.append(entry.describe())
    if refused:
        plan.problems.append(_overlap_refusal(settings, refused))
    after = n.rewritten(current, [(kind, entry) for entry in own], events_left)
    if topic_arn:
        _plan_topic(plan, settings, account, topic_arn, moves)
    _plan_put(plan, settings, current, after)


def _retired(plan: Plan, in_the_way: Sequence[n.Entry]) -> dict[str, tuple[str, ...]]:
    """The events each entry in the way keeps once those photon_archive takes are removed from it."""
    events_left: dict[str, tuple[str, ...]] = {}
    for entry in in_the_way:
        taken, events_left[entry.id] = n.split_events(entry)
        plan.retired.append(f"{entry.describe()}: {', '.join(taken)} removed")
    return events_left


def _plan_put(plan: Plan, settings: Settings, current: dict[str, Any], after: dict[str, Any]) -> None:
    """Keep every other entry of ``after``, and write it if it differs from ``current``."""
    plan.kept += [entry.describe() for entry in n.entries(after) if not entry.own]
    if not n.same(current, after):
        plan.change(
            "\n  ".join(
                [f"set the notifications of S3 bucket {settings.bucket}:", *n.differences(current, after)]
            ),
            lambda: _put_notifications(settings.bucket, after),
        )


def _overlap_refusal(settings: Settings, entries: Sequence[str]) -> str:
    listed = "".join(f"\n    {entry}" for entry in entries)
    return (
        f"S3 refuses two notification entries that share an event type for keys both match, and "
        f"these entries of S3 bucket {settings.bucket} overlap photon_archive's "
        f"({', '.join(n.OWN_EVENTS)} on {', '.join(p + '/*' for p in settings.watched_prefixes)}):"
        f"{listed}\n  Ways out:"
        f"\n    {n.VIA_EVENTBRIDGE}: these entries stay exactly as they are. The bucket also sends its "
        f"events to EventBridge, which S3 checks against no entry, and EventBridge rule "
        f"{settings.event_rule} sends the watched prefixes' creations and removals to the event queue. "
        "Nothing of the old system changes."
        f"\n    {n.FAN_OUT}: the bucket sends to SNS topic {settings.event_topic}, which feeds the event "
        "queue and each of these, filtered to what its trigger matched. A Lambda then receives the S3 "
        "event inside an SNS notification (Records[0].Sns.Message), which its handler must unwrap; the "
        "legacy handlers read Records[0].s3 directly (ptr_data's lambda_service/insert_data.py)."
        f"\n    {n.RETIRE}: remove these events from these entries; photon_archive does their work "
        "from then on."
    )


def _rule(name: str) -> dict[str, Any] | None:
    events = client("events")
    try:
        return dict(events.describe_rule(Name=name))
    except events.exceptions.ResourceNotFoundException:
        return None


def _plan_rule(plan: Plan, settings: Settings, account: Account, rule: dict[str, Any] | None) -> None:
    """The rule on the default bus, enabled, with the pattern for the watched prefixes and the event
    queue among its targets; other targets of it are kept."""
    events, name = client("events"), settings.event_rule
    pattern = json.dumps(n.event_pattern(settings.bucket, settings.watched_prefixes))
    if rule is None or not _same_value(rule.get("EventPattern"), pattern) or rule.get("State") != "ENABLED":
        plan.change(
            f"{'create' if rule is None else 'set'} EventBridge rule {name} on the default event bus, "
            f"enabled, with EventPattern {pattern}",
            partial(
                events.put_rule,
                Name=name,
                EventPattern=pattern,
                State="ENABLED",
                Description=f"photon_archive: {settings.bucket}'s object events for its event queue",
            ),
        )
    queue_arn = account.arn("sqs", settings.event_queue)
    targets = {} if rule is None else dict(_targets(name))
    if targets.get(RULE_TARGET) != queue_arn:
        plan.change(
            f"send the events of EventBridge rule {name} to the event queue {settings.event_queue}",
            partial(events.put_targets, Rule=name, Targets=[{"Id": RULE_TARGET, "Arn": queue_arn}]),
        )


def _targets(rule: str) -> Iterator[tuple[str, str]]:
    for page in client("events").get_paginator("list_targets_by_rule").paginate(Rule=rule):
        for target in page.get("Targets", []):
            yield target["Id"], target["Arn"]


def _plan_bridge(
    plan: Plan, settings: Settings, account: Account, current: dict[str, Any], retire: bool
) -> None:
    """EventBridge delivery on, photon_archive's own entries gone (the rule does their work), every
    other entry kept; with ``retire``, less the events of those in the way of what the rule takes."""
    events_left: dict[str, tuple[str, ...]] = {}
    if retire:
        destination = account.arn("sqs", settings.event_queue)
        own = n.own_entries(n.QUEUES, destination, settings.watched_prefixes)
        in_the_way = n.conflicts(current, [n.parse_entry(n.QUEUES, entry) for entry in own])
        events_left = _retired(plan, in_the_way)
    _plan_put(plan, settings, current, n.bridged(n.rewritten(current, [], events_left)))


def _plan_topic(
    plan: Plan, settings: Settings, account: Account, topic_arn: str, moves: Sequence[Move]
) -> None:
    sns = client("sns")
    topic = settings.event_topic
    try:
        attributes: dict[str, str] | None = sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]
    except sns.exceptions.NotFoundException:
        attributes = None
        plan.change(f"create SNS topic {topic}", lambda: sns.create_topic(Name=topic))
    bucket_publishes = n.delivery_statement(
        BUCKET_SENDS, "s3.amazonaws.com", "sns:Publish", topic_arn, account.bucket_arn(settings.bucket)
    )
    policy = json.dumps(n.with_statements((attributes or {}).get("Policy"), [bucket_publishes]))
    if not _same_value((attributes or {}).get("Policy"), policy):
        plan.change(
            f"let S3 bucket {settings.bucket} publish to SNS topic {topic}",
            lambda: sns.set_topic_attributes(
                TopicArn=topic_arn, AttributeName="Policy", AttributeValue=policy
            ),
        )
    present = dict(_subscriptions(topic_arn)) if attributes is not None else {}
    # (protocol, endpoint, attributes, what it is), the event queue first.
    wanted: list[tuple[str, str, dict[str, str], str]] = [
        ("sqs", account.arn("sqs", settings.event_queue), {}, f"the event queue {settings.event_queue}")
    ]
    for move in moves:
        protocol = "lambda" if move.entry.kind == n.LAMBDAS else "sqs"
        what = (
            f"{n.KIND_NAME[move.entry.kind]} {move.entry.destination} (in place of entry {move.entry.id!r})"
        )
        wanted.append((protocol, move.entry.destination, move.attributes(), what))
    for protocol, endpoint, wanted_attributes, what in wanted:
        subscription = present.get((protocol, endpoint))
        if subscription is None:
            plan.change(
                f"subscribe {what} to SNS topic {topic}"
                + (f" with FilterPolicy {wanted_attributes['FilterPolicy']}" if wanted_attributes else ""),
                partial(
                    sns.subscribe,
                    TopicArn=topic_arn,
                    Protocol=protocol,
                    Endpoint=endpoint,
                    Attributes=wanted_attributes,
                    ReturnSubscriptionArn=True,
                ),
            )
            continue
        have = sns.get_subscription_attributes(SubscriptionArn=subscription)["Attributes"]
        for name, value in wanted_attributes.items():
            if not _same_value(have.get(name), value):
                plan.change(
                    f"set {name} of the subscription of {what} to SNS topic {topic} to {value}",
                    partial(
                        sns.set_subscription_attributes,
                        SubscriptionArn=subscription,
                        AttributeName=name,
                        AttributeValue=value,
                    ),
                )
    for move in moves:
        if move.entry.kind == n.LAMBDAS:
            _plan_invoke_permission(plan, settings, move.entry.destination, topic_arn)
        else:
            _plan_queue_sender(plan, move.entry.destination, topic_arn)


def _subscriptions(topic_arn: str) -> Iterator[tuple[tuple[str, str], str]]:
    for page in client("sns").get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn):
        for subscription in page.get("Subscriptions", []):
            yield (subscription["Protocol"], subscription["Endpoint"]), subscription["SubscriptionArn"]


def _plan_invoke_permission(plan: Plan, settings: Settings, function_arn: str, topic_arn: str) -> None:
    sid = f"photon-archive-sns-{settings.event_topic}"[:100]
    awslambda = client("lambda")
    try:
        policy = json.loads(awslambda.get_policy(FunctionName=function_arn)["Policy"])
    except awslambda.exceptions.ResourceNotFoundException:
        policy = {}
    if any(statement.get("Sid") == sid for statement in policy.get("Statement", [])):
        return
    plan.change(
        f"let SNS topic {settings.event_topic} invoke Lambda function {function_arn}",
        lambda: awslambda.add_permission(
            FunctionName=function_arn,
            StatementId=sid,
            Action="lambda:InvokeFunction",
            Principal="sns.amazonaws.com",
            SourceArn=topic_arn,
        ),
    )


def _plan_queue_sender(plan: Plan, queue_arn: str, topic_arn: str) -> None:
    """Let the topic send to another's queue: one statement added to its policy, the rest kept."""
    owner, name = queue_arn.split(":")[4], queue_arn.split(":")[5]
    current = _queue_attributes(name, owner).get("Policy")
    statement = n.delivery_statement(
        TOPIC_SENDS, "sns.amazonaws.com", "sqs:SendMessage", queue_arn, topic_arn
    )
    policy = json.dumps(n.with_statements(current, [statement]))
    if not _same_value(current, policy):
        plan.change(
            f"let SNS topic {topic_arn} send to SQS queue {queue_arn}",
            lambda: client("sqs").set_queue_attributes(
                QueueUrl=_queue_url(name, owner), Attributes={"Policy": policy}
            ),
        )


# --- tables -------------------------------------------------------------------------------------


def _plan_table(plan: Plan, table: str, needs: table_keys.TableNeeds) -> None:
    dynamodb = client("dynamodb")
    try:
        description = dynamodb.describe_table(TableName=table)["Table"]
    except dynamodb.exceptions.ResourceNotFoundException:
        schema, attributes = table_keys.creation(needs)
        key = table_keys.describe_key([(a["AttributeName"], a["AttributeType"]) for a in attributes])
        plan.change(
            f"create DynamoDB table {table} keyed {key}", lambda: _create_table(table, schema, attributes)
        )
        plan.change(
            f"turn on TTL of DynamoDB table {table} on {needs.ttl_attribute}",
            lambda: _enable_ttl(table, needs),
        )
        return
    plan.problems += table_keys.key_problems(needs, table, description)
    ttl = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    enable, problem = table_keys.ttl_to_enable(needs, table, ttl)
    if problem:
        plan.problems.append(problem)
    if enable:
        plan.change(
            f"turn on TTL of DynamoDB table {table} on {needs.ttl_attribute}",
            lambda: _enable_ttl(table, needs),
        )


def _create_table(table: str, schema: list[dict[str, str]], attributes: list[dict[str, str]]) -> None:
    dynamodb = client("dynamodb")
    # Created meanwhile by someone else: the same outcome, unless its keys differ.
    with contextlib.suppress(dynamodb.exceptions.ResourceInUseException):
        dynamodb.create_table(
            TableName=table, KeySchema=schema, AttributeDefinitions=attributes, BillingMode="PAY_PER_REQUEST"
        )
    dynamodb.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 1})


def _enable_ttl(table: str, needs: table_keys.TableNeeds) -> None:
    client("dynamodb").update_time_to_live(
        TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": needs.ttl_attribute}
    )
