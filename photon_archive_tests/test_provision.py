"""Provisioning against moto's server: everything the system needs exists, what others made is kept,
and a second run changes nothing.

The old account is ``legacy_account.py``'s model of it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from dagster import instance_for_test

from photon_archive.aws.clients import client
from photon_archive.catalog.schema import upgrade
from photon_archive.errors import Misconfigured
from photon_archive.events import parse_event_message
from photon_archive.provision import RULE_SENDS, RULE_TARGET, provision
from photon_archive.settings import Settings
from photon_archive_tests.archive import Archive
from photon_archive_tests.legacy_account import (
    DOWNLOADS_QUEUE,
    LEGACY_FUNCTIONS,
    arn,
    everything,
    function_arn,
    make_legacy_account,
    make_table,
)
from photon_archive_tests.sensors.ticks import event_queue_tick, requested_objects
from photon_archive_workshop.emulator import Emulator


def _drain(queue_url: str) -> list[dict]:
    sqs = client("sqs")
    bodies: list[dict] = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def _queue_url(name: str) -> str:
    return str(client("sqs").get_queue_url(QueueName=name)["QueueUrl"])


def _notifications(settings: Settings) -> dict[str, Any]:
    configuration = client("s3").get_bucket_notification_configuration(Bucket=settings.bucket)
    configuration.pop("ResponseMetadata")
    return configuration


def _by_id(configuration: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["Id"]: entry for kind in configuration.values() for entry in kind}


@pytest.fixture
def legacy(emulator: Emulator, tmp_path: Path) -> Iterator[Settings]:
    """A reset emulator holding the old account, and the system's settings for it."""
    emulator.reset()
    settings = Settings(state_dir=str(tmp_path / "state"))
    make_legacy_account(settings)
    yield settings


# --- a fresh account ------------------------------------------------------------------------------


def test_provisioning_creates_bucket_queues_and_tables(aws_settings: Settings) -> None:
    settings = aws_settings
    assert settings.bucket in {b["Name"] for b in client("s3").list_buckets()["Buckets"]}
    sqs = client("sqs")
    for name in (settings.event_queue, settings.event_dead_letter_queue, "datastreamIncomingQueue-dev"):
        sqs.get_queue_url(QueueName=name)
    event_url = sqs.get_queue_url(QueueName=settings.event_queue)["QueueUrl"]
    redrive = json.loads(
        sqs.get_queue_attributes(QueueUrl=event_url, AttributeNames=["RedrivePolicy"])["Attributes"][
            "RedrivePolicy"
        ]
    )
    assert redrive["deadLetterTargetArn"].endswith(settings.event_dead_letter_queue)
    dynamodb = client("dynamodb")
    keys = {
        name: dynamodb.describe_table(TableName=name)["Table"]["KeySchema"]
        for name in ("info-images", "data-expiration-tracker", "recent-uploads-log")
    }
    assert keys["info-images"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert keys["data-expiration-tracker"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert keys["recent-uploads-log"] == [
        {"AttributeName": "site", "KeyType": "HASH"},
        {"AttributeName": "filename", "KeyType": "RANGE"},
    ]
    ttl = {name: dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"] for name in keys}
    assert {name: t["AttributeName"] for name, t in ttl.items()} == {
        "info-images": "expiration_timestamp",
        "data-expiration-tracker": "expiration_timestamp_s",
        "recent-uploads-log": "expire_timestamp_s",
    }


def test_the_event_queue_hides_a_received_message_for_the_setting_which_provisioning_again_adjusts(
    aws_settings: Settings,
) -> None:
    def visibility_timeout() -> int:
        url = _queue_url(aws_settings.event_queue)
        attributes = client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])
        return int(attributes["Attributes"]["VisibilityTimeout"])

    settings = aws_settings
    assert visibility_timeout() == settings.event_visibility_timeout_seconds
    assert visibility_timeout() >= settings.polling().longest_tick_s
    shorter = replace(
        settings, event_wait_seconds=2, event_drain_seconds=1, event_visibility_timeout_seconds=20
    )

    report = provision(shorter).report()

    assert f"set VisibilityTimeout of SQS queue {settings.event_queue}" in report
    assert visibility_timeout() == 20


def test_bucket_sends_created_and_removed_events_of_the_watched_prefixes_to_the_event_queue(
    aws_settings: Settings,
) -> None:
    settings = aws_settings
    url = _queue_url(settings.event_queue)
    _drain(url)
    s3 = client("s3")
    s3.put_object(Bucket=settings.bucket, Key="data/sro-kb001ms-20220629-00010442-EX00.txt", Body=b"x")
    s3.delete_object(Bucket=settings.bucket, Key="data/sro-kb001ms-20220629-00010442-EX00.txt")
    s3.put_object(Bucket=settings.bucket, Key="downloads/sro-kb001ms-20220629-00010442.zip", Body=b"x")
    events = [record["eventName"] for body in _drain(url) for record in body.get("Records", [])]
    assert events == ["ObjectCreated:Put", "ObjectRemoved:Delete"]


def test_provisioning_twice_is_harmless(aws_settings: Settings) -> None:
    settings = aws_settings
    s3 = client("s3")
    s3.put_object(Bucket=settings.bucket, Key="data/kept.txt", Body=b"observatory data")
    url = _queue_url(settings.event_queue)
    _drain(url)
    before = everything()

    again = provision(settings)

    assert again.changes == ()
    assert "nothing to change" in again.report()
    assert everything() == before
    assert s3.get_object(Bucket=settings.bucket, Key="data/kept.txt")["Body"].read() == b"observatory data"
    assert _drain(url) == []  # no second s3:TestEvent


def test_a_dry_run_on_a_fresh_account_lists_everything_it_would_make_and_makes_nothing(
    emulator: Emulator, tmp_path: Path
) -> None:
    emulator.reset()
    settings = Settings(state_dir=str(tmp_path / "state"))

    planned = provision(settings, dry_run=True)

    assert everything() == {}
    report = planned.report()
    for queue in (settings.event_dead_letter_queue, settings.event_queue, settings.datastream_queue):
        assert f"create SQS queue {queue}" in report
    assert f"create S3 bucket {settings.bucket}" in report
    assert (
        f"+ SQS queue {arn('sqs', settings.event_queue)} (Id 'photon-archive-object-events-data')" in report
    )
    assert "create DynamoDB table recent-uploads-log keyed site (S) + filename (S)" in report
    assert "turn on TTL of DynamoDB table info-images on expiration_timestamp" in report
    assert report.endswith("dry run: nothing was changed")


# --- the old account ------------------------------------------------------------------------------


def test_the_legacy_triggers_in_the_way_are_reported_and_nothing_changes(legacy: Settings) -> None:
    before = everything()

    with pytest.raises(Misconfigured) as refusal:
        provision(legacy)

    message = str(refusal.value)
    assert message.startswith("provisioning refused, nothing was changed")
    for name, prefix in LEGACY_FUNCTIONS.items():
        assert (
            f"Lambda function {function_arn(name)} (Id 'legacy-{name}'): s3:ObjectCreated:* on {prefix}*"
            in message
        )
    assert DOWNLOADS_QUEUE not in message
    # The way out that changes nothing of the old system comes first.
    ways = [
        message.index(f"\n    {way}: ")
        for way in ("--via-eventbridge", "--fan-out", "--retire-legacy-triggers")
    ]
    assert ways == sorted(ways)
    assert "these entries stay exactly as they are" in message
    assert everything() == before


def test_a_dry_run_prints_every_change_of_a_fan_out_and_changes_nothing(legacy: Settings) -> None:
    before = everything()

    planned = provision(legacy, fan_out=True, dry_run=True)

    assert everything() == before
    report = planned.report()
    topic = arn("sns", legacy.event_topic)
    assert f"create SNS topic {legacy.event_topic}" in report
    assert f"let S3 bucket {legacy.bucket} publish to SNS topic {legacy.event_topic}" in report
    assert f"subscribe the event queue {legacy.event_queue} to SNS topic {legacy.event_topic}" in report
    invoke = f"let SNS topic {legacy.event_topic} invoke Lambda function {function_arn('insert_data')}"
    assert invoke in report
    assert f"- Lambda function {function_arn('insert_data')} (Id 'legacy-insert_data')" in report
    assert f"+ SNS topic {topic} (Id 'photon-archive-object-events-data')" in report
    assert f"  SQS queue {arn('sqs', DOWNLOADS_QUEUE)} (Id 'downloads-removed')" in report
    assert "turn on TTL of DynamoDB table info-images on expiration_timestamp" in report
    assert "DynamoDB table recent-uploads-log" in report  # its TTL, never its keys
    assert "create DynamoDB table" not in report


def test_fan_out_feeds_the_event_queue_and_keeps_the_legacy_triggers_as_filtered_subscriptions(
    legacy: Settings,
) -> None:
    settings = legacy
    theirs = _by_id(_notifications(settings))["downloads-removed"]

    fanned = provision(settings, fan_out=True)

    topic = arn("sns", settings.event_topic)
    assert fanned.topic == topic
    configuration = _notifications(settings)
    assert configuration.get("LambdaFunctionConfigurations", []) == []
    assert configuration["QueueConfigurations"] == [theirs]
    assert {e["Id"]: (e["TopicArn"], sorted(e["Events"])) for e in configuration["TopicConfigurations"]} == {
        f"photon-archive-object-events-{prefix}": (topic, ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"])
        for prefix in settings.watched_prefixes
    }
    sns = client("sns")
    subscriptions = {
        s["Endpoint"]: sns.get_subscription_attributes(SubscriptionArn=s["SubscriptionArn"])["Attributes"]
        for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    }
    assert set(subscriptions) == {arn("sqs", settings.event_queue), *map(function_arn, LEGACY_FUNCTIONS)}
    assert "FilterPolicy" not in subscriptions[arn("sqs", settings.event_queue)]
    for name in LEGACY_FUNCTIONS:
        policy = json.loads(client("lambda").get_policy(FunctionName=name)["Policy"])
        assert [s["Sid"] for s in policy["Statement"]] == [
            "s3-invokes",
            f"photon-archive-sns-{settings.event_topic}",
        ]
        assert policy["Statement"][1]["Principal"] == {"Service": "sns.amazonaws.com"}
        assert subscriptions[function_arn(name)]["FilterPolicyScope"] == "MessageBody"

    # Each legacy function gets from the topic what its trigger gave it: a queue subscribed with
    # insert_data's filter receives the data/ creations, and nothing else.
    probe_url = client("sqs").create_queue(QueueName="probe")["QueueUrl"]
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=arn("sqs", "probe"),
        Attributes={
            "RawMessageDelivery": "true",
            "FilterPolicyScope": "MessageBody",
            "FilterPolicy": subscriptions[function_arn("insert_data")]["FilterPolicy"],
        },
    )
    event_url = _queue_url(settings.event_queue)
    client("sqs").purge_queue(QueueUrl=event_url)
    s3 = client("s3")
    key = "data/sro-kb001ms-20261124-00000001-EX00.txt"
    s3.put_object(Bucket=settings.bucket, Key=key, Body=b"header")
    s3.put_object(Bucket=settings.bucket, Key="info-images/sro-kb001ms-20261124-00000001-EX10.jpg", Body=b"j")
    s3.delete_object(Bucket=settings.bucket, Key=key)

    wrapped = _drain(event_url)
    assert all(body["Type"] == "Notification" and body["TopicArn"] == topic for body in wrapped)
    events = [event for body in wrapped for event in parse_event_message(json.dumps(body))]
    assert [(e.key, e.removed) for e in events] == [
        (key, False),
        ("info-images/sro-kb001ms-20261124-00000001-EX10.jpg", False),
        (key, True),
    ]
    probed = [record for body in _drain(probe_url) for record in body["Records"]]
    assert [(r["eventName"], r["s3"]["object"]["key"].replace("%2F", "/")) for r in probed] == [
        ("ObjectCreated:Put", key)
    ]


def test_a_queue_in_the_way_is_fed_by_the_topic_with_the_same_messages_as_before(legacy: Settings) -> None:
    sqs, s3 = client("sqs"), client("s3")
    url = sqs.create_queue(QueueName="thumbnail-watcher")["QueueUrl"]
    theirs = {"Sid": "theirs", "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}}
    theirs |= {"Action": "sqs:SendMessage", "Resource": arn("sqs", "thumbnail-watcher")}
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({"Statement": [theirs]})})
    configuration = _notifications(legacy)
    configuration["QueueConfigurations"].append(
        {
            "Id": "thumbnails",
            "QueueArn": arn("sqs", "thumbnail-watcher"),
            "Events": ["s3:ObjectCreated:Put"],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "allsky/"}]}},
        }
    )
    s3.put_bucket_notification_configuration(Bucket=legacy.bucket, NotificationConfiguration=configuration)
    _drain(url)

    provision(legacy, fan_out=True)

    assert "thumbnails" not in _by_id(_notifications(legacy))
    policy = json.loads(
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"]
    )
    assert [statement["Sid"] for statement in policy["Statement"]] == [
        "theirs",
        "photon-archive-topic-events",
    ]
    key = "allsky/sro-kb001ms-20261124-00000001-EX10.jpg"
    s3.put_object(Bucket=legacy.bucket, Key=key, Body=b"jpg")
    s3.put_object(Bucket=legacy.bucket, Key="data/sro-kb001ms-20261124-00000001-EX10.jpg", Body=b"jpg")
    s3.delete_object(Bucket=legacy.bucket, Key=key)
    (body,) = _drain(url)  # the S3 event itself, as the bucket sent it before, and only that one
    assert [(r["eventName"], r["s3"]["object"]["key"].replace("%2F", "/")) for r in body["Records"]] == [
        ("ObjectCreated:Put", key)
    ]


def test_provisioning_again_after_a_fan_out_changes_nothing(legacy: Settings) -> None:
    provision(legacy, fan_out=True)
    before = everything()

    again = provision(legacy)

    assert again.changes == ()
    assert again.topic == arn("sns", legacy.event_topic)
    assert everything() == before


def test_retiring_the_legacy_triggers_removes_only_them_and_says_so(legacy: Settings) -> None:
    theirs = _by_id(_notifications(legacy))["downloads-removed"]

    retired = provision(legacy, retire_legacy_triggers=True)

    configuration = _notifications(legacy)
    assert configuration.get("LambdaFunctionConfigurations", []) == []
    assert configuration["QueueConfigurations"][0] == theirs
    assert {e["Id"] for e in configuration["QueueConfigurations"][1:]} == {
        f"photon-archive-object-events-{prefix}" for prefix in legacy.watched_prefixes
    }
    assert [line.split(" (Id")[0] for line in retired.retired] == [
        f"Lambda function {function_arn(name)}" for name in LEGACY_FUNCTIONS
    ]
    assert "retired legacy triggers:" in retired.report()
    before = everything()
    assert provision(legacy).changes == ()
    assert everything() == before


def test_provisioning_keeps_every_configuration_it_did_not_make(legacy: Settings) -> None:
    s3 = client("s3")
    theirs = {
        "QueueConfigurations": [
            *_notifications(legacy)["QueueConfigurations"],
        ],
        "LambdaFunctionConfigurations": [
            {
                "Id": "csv-exports",
                "LambdaFunctionArn": function_arn("insert_data"),
                "Events": ["s3:ObjectCreated:Put"],
                "Filter": {
                    "Key": {
                        "FilterRules": [
                            {"Name": "prefix", "Value": "downloads/"},
                            {"Name": "suffix", "Value": ".csv"},
                        ]
                    }
                },
            },
            {
                "Id": "restores",
                "LambdaFunctionArn": function_arn("insertInfoImage"),
                "Events": ["s3:ObjectRestore:Completed"],
                "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "data/"}]}},
            },
        ],
    }
    s3.put_bucket_notification_configuration(Bucket=legacy.bucket, NotificationConfiguration=theirs)

    provisioned = provision(legacy)

    after = _by_id(_notifications(legacy))
    for kind in theirs.values():
        for entry in kind:
            assert after[entry["Id"]] == entry
    assert len(provisioned.kept) == 3
    assert {identifier for identifier in after if identifier.startswith("photon-archive")} == {
        f"photon-archive-object-events-{prefix}" for prefix in legacy.watched_prefixes
    }


# --- through EventBridge --------------------------------------------------------------------------

DATA_KEY = "data/sro-kb001ms-20261124-00000001-EX00.txt"


def _rule_arn(settings: Settings) -> str:
    return arn("events", f"rule/{settings.event_rule}")


def _queue_policy(settings: Settings) -> dict[str, Any]:
    attributes = client("sqs").get_queue_attributes(
        QueueUrl=_queue_url(settings.event_queue), AttributeNames=["Policy"]
    )["Attributes"]
    return dict(json.loads(attributes["Policy"]))


def test_via_eventbridge_keeps_every_trigger_and_sends_the_watched_prefixes_to_the_event_queue(
    legacy: Settings,
) -> None:
    before = everything()
    theirs = _notifications(legacy)

    bridged = provision(legacy, via_eventbridge=True)

    assert bridged.rule == _rule_arn(legacy) and bridged.topic is None
    configuration = _notifications(legacy)
    assert configuration == {**theirs, "EventBridgeConfiguration": {}}
    after = everything()
    # The functions, their permissions, the other queue: as they were. The bucket gained the switch,
    # two tables their TTL; the event queues and the rule are new.
    changed = {name for name in before if after[name] != before[name]}
    assert changed == {f"bucket {legacy.bucket}", "table info-images", "table recent-uploads-log"}
    assert {name.rpartition("/")[2] for name in after if name not in before} == {
        legacy.event_queue,
        legacy.event_dead_letter_queue,
        legacy.event_rule,
    }
    rule = after[f"rule {_rule_arn(legacy)}"]
    assert rule["rule"]["State"] == "ENABLED" and rule["rule"]["EventBusName"] == "default"
    assert json.loads(rule["rule"]["EventPattern"])["detail"]["object"]["key"] == [
        {"prefix": f"{prefix}/"} for prefix in legacy.watched_prefixes
    ]
    assert rule["targets"] == [{"Id": RULE_TARGET, "Arn": arn("sqs", legacy.event_queue)}]
    (sends,) = [s for s in _queue_policy(legacy)["Statement"] if s["Sid"] == RULE_SENDS]
    assert sends["Principal"] == {"Service": "events.amazonaws.com"}
    assert sends["Action"] == "sqs:SendMessage" and sends["Resource"] == arn("sqs", legacy.event_queue)
    assert sends["Condition"] == {"ArnLike": {"aws:SourceArn": _rule_arn(legacy)}}
    assert len(bridged.kept) == 3 and "nothing to change" not in bridged.report()
    assert f"rule {_rule_arn(legacy)} to the event queue" in bridged.report()


def test_an_upload_under_a_watched_prefix_reaches_the_sensor_through_eventbridge_and_others_do_not(
    legacy: Settings, postgres_url: str
) -> None:
    provision(legacy, via_eventbridge=True)
    _drain(_queue_url(legacy.event_queue))
    s3 = client("s3")
    s3.put_object(Bucket=legacy.bucket, Key=DATA_KEY, Body=b"header")
    s3.put_object(Bucket=legacy.bucket, Key="test/sro-kb001ms-20261124-00000001-EX00.txt", Body=b"x")
    s3.put_object(Bucket=legacy.bucket, Key="downloads/sro-kb001ms-20261124.zip", Body=b"x")
    upgrade(postgres_url)

    with instance_for_test() as instance:
        archive = Archive(replace(legacy, database_url=postgres_url), instance)
        created = requested_objects(event_queue_tick(archive))
        ledger = archive.ledger(DATA_KEY)
        s3.delete_object(Bucket=legacy.bucket, Key=DATA_KEY)
        removed = requested_objects(event_queue_tick(archive))

    assert [(o["key"], o["event"], o["size"], bool(o["etag"])) for o in created] == [
        (DATA_KEY, "created", 6, True)
    ]
    assert ledger["state"] == "queued"
    assert [(o["key"], o["event"]) for o in removed] == [(DATA_KEY, "removed")]
    assert _drain(_queue_url(legacy.event_queue)) == []  # both messages deleted once queued
    assert _drain(_queue_url(legacy.event_dead_letter_queue)) == []


def test_a_dry_run_via_eventbridge_prints_every_change_and_changes_nothing(legacy: Settings) -> None:
    before = everything()

    planned = provision(legacy, via_eventbridge=True, dry_run=True)

    assert everything() == before
    report = planned.report()
    assert f"create EventBridge rule {legacy.event_rule} on the default event bus, enabled" in report
    assert f"send the events of EventBridge rule {legacy.event_rule} to the event queue" in report
    assert (
        "set Policy, RedrivePolicy, MessageRetentionPeriod, VisibilityTimeout of SQS queue "
        f"{legacy.event_queue}" in report
    )
    assert "+ EventBridge: every event of the bucket to the default event bus" in report
    assert f"  Lambda function {function_arn('insert_data')} (Id 'legacy-insert_data')" in report
    assert "- Lambda function" not in report and "photon-archive-object-events-data" not in report
    assert report.endswith("dry run: nothing was changed")


def test_provisioning_again_after_going_via_eventbridge_changes_nothing(legacy: Settings) -> None:
    provision(legacy, via_eventbridge=True)
    before = everything()

    again, plain = provision(legacy, via_eventbridge=True), provision(legacy)

    assert again.changes == plain.changes == ()
    assert plain.rule == _rule_arn(legacy)  # a later run keeps the way out
    assert everything() == before


def test_via_eventbridge_replaces_only_photon_archives_own_queue_entries(aws_settings: Settings) -> None:
    settings = aws_settings  # provisioned plainly: its own queue entries, one per prefix
    s3 = client("s3")
    theirs = {
        "Id": "downloads-removed",
        "QueueArn": arn("sqs", DOWNLOADS_QUEUE),
        "Events": ["s3:ObjectRemoved:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "downloads/"}]}},
    }
    client("sqs").create_queue(QueueName=DOWNLOADS_QUEUE)
    configuration = _notifications(settings)
    configuration["QueueConfigurations"].append(theirs)
    s3.put_bucket_notification_configuration(Bucket=settings.bucket, NotificationConfiguration=configuration)

    provision(settings, via_eventbridge=True)

    assert _notifications(settings) == {"QueueConfigurations": [theirs], "EventBridgeConfiguration": {}}
    url = _queue_url(settings.event_queue)
    _drain(url)
    s3.put_object(Bucket=settings.bucket, Key=DATA_KEY, Body=b"header")
    (body,) = _drain(url)  # once, through the rule: no entry of its own delivers it a second time
    assert body["detail-type"] == "Object Created" and body["detail"]["object"]["key"] == DATA_KEY


def test_retiring_the_legacy_triggers_after_going_via_eventbridge_removes_only_them_and_keeps_the_rule(
    legacy: Settings,
) -> None:
    provision(legacy, via_eventbridge=True)
    theirs = _by_id(_notifications(legacy))["downloads-removed"]
    rule = client("events").describe_rule(Name=legacy.event_rule)

    dry = provision(legacy, retire_legacy_triggers=True, dry_run=True)
    assert dry.retired and _by_id(_notifications(legacy)).keys() >= {"downloads-removed"}
    assert _notifications(legacy).get("LambdaFunctionConfigurations")  # the dry run changed nothing

    retired = provision(legacy, retire_legacy_triggers=True)

    configuration = _notifications(legacy)
    assert configuration.get("LambdaFunctionConfigurations", []) == []
    assert configuration["QueueConfigurations"] == [theirs]  # and none of photon_archive's own
    assert configuration["EventBridgeConfiguration"] == {}
    assert [line.split(" (Id")[0] for line in retired.retired] == [
        f"Lambda function {function_arn(name)}" for name in LEGACY_FUNCTIONS
    ]
    assert retired.rule == _rule_arn(legacy)
    assert client("events").describe_rule(Name=legacy.event_rule)["EventPattern"] == rule["EventPattern"]
    before = everything()
    assert provision(legacy, retire_legacy_triggers=True).changes == ()
    assert provision(legacy).changes == ()
    assert everything() == before


def test_a_second_way_out_beside_the_one_in_place_is_refused_and_nothing_changes(legacy: Settings) -> None:
    provision(legacy, via_eventbridge=True)
    bridged = everything()
    with pytest.raises(Misconfigured, match="every event would arrive twice: remove the rule first"):
        provision(legacy, fan_out=True)
    assert everything() == bridged

    client("events").remove_targets(Rule=legacy.event_rule, Ids=[RULE_TARGET])
    client("events").delete_rule(Name=legacy.event_rule)
    provision(legacy, fan_out=True)
    fanned = everything()
    with pytest.raises(Misconfigured, match="with them every event those triggers get"):
        provision(legacy, via_eventbridge=True)
    assert everything() == fanned


# --- tables ---------------------------------------------------------------------------------------


def test_existing_tables_are_adopted_with_their_keys_and_ttl_turned_on_only_where_there_was_none(
    legacy: Settings,
) -> None:
    dynamodb = client("dynamodb")
    keys_before = {
        t: dynamodb.describe_table(TableName=t)["Table"]["KeySchema"]
        for t in dynamodb.list_tables()["TableNames"]
    }

    provisioned = provision(legacy, retire_legacy_triggers=True)

    assert {t: dynamodb.describe_table(TableName=t)["Table"]["KeySchema"] for t in keys_before} == keys_before
    assert [c for c in provisioned.changes if "DynamoDB" in c] == [
        "turn on TTL of DynamoDB table info-images on expiration_timestamp",
        "turn on TTL of DynamoDB table recent-uploads-log on expire_timestamp_s",
    ]


@pytest.mark.parametrize(
    ("table", "key", "ttl", "fragment"),
    [
        (
            "recent-uploads-log",
            [("pk", "S"), ("filename", "S")],
            None,
            "has the hash key pk, but its readers query it by site",
        ),
        (
            "recent-uploads-log",
            [("site", "S"), ("upload_timestamp_s", "S")],
            None,
            "has the sort key upload_timestamp_s as a string (S)",
        ),
        (
            "recent-uploads-log",
            [("site", "S"), ("uploaded_at", "N")],
            None,
            "has the sort key uploaded_at, which the system's items do not carry",
        ),
        ("data-expiration-tracker", [("pk", "S"), ("s3_directory", "S")], None, "by pk alone"),
        (
            "info-images",
            [("pk", "S")],
            "expires_at",
            "has TTL on expires_at, but the system's items expire by expiration_timestamp",
        ),
    ],
)
def test_a_table_the_system_cannot_use_fails_provisioning_with_what_is_wrong(
    legacy: Settings, table: str, key: list[tuple[str, str]], ttl: str | None, fragment: str
) -> None:
    dynamodb = client("dynamodb")
    dynamodb.delete_table(TableName=table)
    make_table(table, key)
    if ttl:
        dynamodb.update_time_to_live(
            TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl}
        )
    before = everything()

    with pytest.raises(Misconfigured) as refusal:
        provision(legacy, retire_legacy_triggers=True)

    assert f"DynamoDB table {table} (" in str(refusal.value) and fragment in str(refusal.value)
    assert everything() == before
