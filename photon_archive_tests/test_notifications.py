"""The bucket-notification rules on plain values: what S3 would refuse as overlapping, and what a
merge keeps."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from photon_archive import notifications as n

LEGACY_DATA = "arn:aws:lambda:us-east-1:123456789012:function:insert_data"
LEGACY_INFO = "arn:aws:lambda:us-east-1:123456789012:function:insertInfoImage"
DOWNLOADS_QUEUE = "arn:aws:sqs:us-east-1:123456789012:downloads-cleanup"
EVENT_QUEUE = "arn:aws:sqs:us-east-1:123456789012:photonranch-001-object-events"
TOPIC = "arn:aws:sns:us-east-1:123456789012:photonranch-001-object-events"
PREFIXES = ("data", "info-images", "allsky")
# Every concrete event type S3 sends (the S3 API reference's list, wildcards left out).
CONCRETE_EVENTS = (
    "s3:ReducedRedundancyLostObject",
    "s3:ObjectCreated:Put",
    "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload",
    "s3:ObjectRemoved:Delete",
    "s3:ObjectRemoved:DeleteMarkerCreated",
    "s3:ObjectRestore:Post",
    "s3:ObjectRestore:Completed",
    "s3:ObjectRestore:Delete",
    "s3:LifecycleTransition",
    "s3:ObjectTagging:Put",
    "s3:ObjectTagging:Delete",
)
EVENTS = (
    *CONCRETE_EVENTS,
    "s3:ObjectCreated:*",
    "s3:ObjectRemoved:*",
    "s3:ObjectRestore:*",
    "s3:ObjectTagging:*",
)


def lambda_entry(
    identifier: str, arn: str, events: list[str], prefix: str = "", suffix: str = ""
) -> dict[str, Any]:
    rules = [{"Name": "Prefix", "Value": prefix}] if prefix else []
    rules += [{"Name": "Suffix", "Value": suffix}] if suffix else []
    entry: dict[str, Any] = {"Id": identifier, "LambdaFunctionArn": arn, "Events": events}
    if rules:
        entry["Filter"] = {"Key": {"FilterRules": rules}}
    return entry


def legacy_configuration() -> dict[str, Any]:
    """The old account's bucket, as S3 lists it: the two legacy triggers and a queue of someone's."""
    return {
        "LambdaFunctionConfigurations": [
            lambda_entry("insert-data", LEGACY_DATA, ["s3:ObjectCreated:*"], prefix="data/"),
            lambda_entry("insert-info-image", LEGACY_INFO, ["s3:ObjectCreated:*"], prefix="info-images/"),
        ],
        "QueueConfigurations": [
            {
                "Id": "downloads-removed",
                "QueueArn": DOWNLOADS_QUEUE,
                "Events": ["s3:ObjectRemoved:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "Prefix", "Value": "downloads/"}]}},
            }
        ],
        "TopicConfigurations": [],
        "EventBridgeConfiguration": {},
    }


def own(kind: str = n.QUEUES, destination: str = EVENT_QUEUE) -> list[dict[str, Any]]:
    return n.own_entries(kind, destination, PREFIXES)


def own_entries(kind: str = n.QUEUES, destination: str = EVENT_QUEUE) -> list[n.Entry]:
    return [n.parse_entry(kind, entry) for entry in own(kind, destination)]


def entry(events: tuple[str, ...], prefix: str = "", suffix: str = "", kind: str = n.LAMBDAS) -> n.Entry:
    return n.Entry(kind, "x", "arn", events, prefix, suffix)


# --- overlap --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "overlapping"),
    [
        ("s3:ObjectCreated:*", "s3:ObjectCreated:Put", True),
        ("s3:ObjectCreated:Put", "s3:ObjectCreated:*", True),
        ("s3:ObjectCreated:*", "s3:ObjectCreated:*", True),
        ("s3:ObjectCreated:Put", "s3:ObjectCreated:Copy", False),
        ("s3:ObjectCreated:*", "s3:ObjectRemoved:*", False),
        ("s3:ObjectRemoved:*", "s3:ObjectRestore:Delete", False),
        ("s3:ObjectRestore:*", "s3:ObjectRestore:Delete", True),
    ],
)
def test_event_types_overlap_when_one_covers_the_other(a: str, b: str, overlapping: bool) -> None:
    assert n.events_overlap(a, b) is overlapping


@pytest.mark.parametrize(
    ("a", "b", "overlapping"),
    [
        (("data/", ""), ("data/", ""), True),
        (("data/", ""), ("", ""), True),  # no filter: every key
        (("data/", ""), ("data/sro", ""), True),
        (("data/", ""), ("info-images/", ""), False),
        (("data/", ""), ("downloads/", ""), False),
        (("", ".csv"), ("data/", ""), True),  # data/x.csv matches both
        (("", ".csv"), ("", ".jpg"), False),
        (("", "10.jpg"), ("", ".jpg"), True),
        (("downloads/", ".csv"), ("data/", ""), False),
    ],
)
def test_filters_overlap_when_some_key_matches_both(
    a: tuple[str, str], b: tuple[str, str], overlapping: bool
) -> None:
    created = ("s3:ObjectCreated:*",)
    assert n.overlaps(entry(created, *a), entry(created, *b)) is overlapping
    assert n.overlaps(entry(created, *b), entry(created, *a)) is overlapping


def test_the_legacy_triggers_are_in_the_way_and_the_downloads_queue_is_not() -> None:
    in_the_way = n.conflicts(legacy_configuration(), own_entries())

    assert [(e.id, e.destination) for e in in_the_way] == [
        ("insert-data", LEGACY_DATA),
        ("insert-info-image", LEGACY_INFO),
    ]


def test_removals_elsewhere_and_creations_in_an_unwatched_prefix_are_not_in_the_way() -> None:
    configuration = {
        "LambdaFunctionConfigurations": [
            lambda_entry("csv", LEGACY_DATA, ["s3:ObjectCreated:*"], prefix="downloads/", suffix=".csv"),
            lambda_entry("restores", LEGACY_INFO, ["s3:ObjectRestore:*"], prefix="data/"),
        ]
    }
    assert n.conflicts(configuration, own_entries()) == []


keys = st.text(alphabet="ab/.", max_size=4)


@given(
    keys,
    keys,
    keys,
    keys,
    st.lists(st.sampled_from(EVENTS), min_size=1, max_size=3),
    st.lists(st.sampled_from(EVENTS), min_size=1, max_size=3),
)
def test_overlap_is_exactly_some_key_and_some_event_matched_by_both(
    prefix_a: str, suffix_a: str, prefix_b: str, suffix_b: str, events_a: list[str], events_b: list[str]
) -> None:
    a, b = entry(tuple(events_a), prefix_a, suffix_a), entry(tuple(events_b), prefix_b, suffix_b)

    def matches(e: n.Entry, key: str) -> bool:
        return key.startswith(e.prefix) and key.endswith(e.suffix)

    # A key both match, if any, is one of these: the longer prefix then the longer suffix.
    candidates = [p + s for p in (prefix_a, prefix_b) for s in (suffix_a, suffix_b)]
    some_key = any(matches(a, key) and matches(b, key) for key in candidates)
    some_event = any(
        any(n.covers(x, event) for x in a.events) and any(n.covers(y, event) for y in b.events)
        for event in CONCRETE_EVENTS
    )
    assert n.overlaps(a, b) is (some_key and some_event)


# --- the merge ------------------------------------------------------------------------------------


def test_merging_adds_its_own_entries_and_keeps_every_other_exactly() -> None:
    before = legacy_configuration()
    snapshot = copy.deepcopy(before)

    after = n.rewritten(before, [(n.QUEUES, e) for e in own()])

    assert before == snapshot  # the configuration read is not changed in place
    assert after["LambdaFunctionConfigurations"] == before["LambdaFunctionConfigurations"]
    assert after["QueueConfigurations"][0] == before["QueueConfigurations"][0]
    assert [e["Id"] for e in after["QueueConfigurations"][1:]] == [
        "photon-archive-object-events-data",
        "photon-archive-object-events-info-images",
        "photon-archive-object-events-allsky",
    ]
    assert after["EventBridgeConfiguration"] == {}


def test_merging_replaces_its_own_earlier_entries_by_their_id() -> None:
    earlier = {
        "QueueConfigurations": [{"Id": n.OWN_ID, "QueueArn": EVENT_QUEUE, "Events": ["s3:ObjectCreated:*"]}]
    }

    after = n.rewritten(earlier, [(n.TOPICS, e) for e in own(n.TOPICS, TOPIC)])

    assert after["QueueConfigurations"] == []
    assert {e["TopicArn"] for e in after["TopicConfigurations"]} == {TOPIC}


def test_retiring_keeps_the_events_of_an_entry_that_are_not_in_the_way() -> None:
    configuration = {
        "LambdaFunctionConfigurations": [
            lambda_entry("both", LEGACY_DATA, ["s3:ObjectCreated:*", "s3:ObjectRestore:*"], prefix="data/")
        ]
    }
    (in_the_way,) = n.conflicts(configuration, own_entries())
    taken, rest = n.split_events(in_the_way)

    after = n.rewritten(configuration, [], {in_the_way.id: rest})

    assert taken == ("s3:ObjectCreated:*",)
    assert after["LambdaFunctionConfigurations"] == [
        lambda_entry("both", LEGACY_DATA, ["s3:ObjectRestore:*"], prefix="data/")
    ]


def test_differences_name_what_goes_what_comes_and_what_stays() -> None:
    before = legacy_configuration()
    after = n.rewritten(before, [(n.TOPICS, e) for e in own(n.TOPICS, TOPIC)], {"insert-data": ()})

    lines = n.differences(before, after)

    assert f"- Lambda function {LEGACY_DATA} (Id 'insert-data'): s3:ObjectCreated:* on data/*" in lines
    assert (
        f"  Lambda function {LEGACY_INFO} (Id 'insert-info-image'): s3:ObjectCreated:* on info-images/*"
        in lines
    )
    assert (
        f"  SQS queue {DOWNLOADS_QUEUE} (Id 'downloads-removed'): s3:ObjectRemoved:* on downloads/*" in lines
    )
    assert (
        f"+ SNS topic {TOPIC} (Id 'photon-archive-object-events-allsky'): "
        "s3:ObjectCreated:*, s3:ObjectRemoved:* on allsky/*"
    ) in lines


def test_a_configuration_listed_in_another_order_is_the_same() -> None:
    configuration = n.rewritten(legacy_configuration(), [(n.QUEUES, e) for e in own()])
    shuffled = {
        kind: list(reversed(value)) if isinstance(value, list) else value
        for kind, value in configuration.items()
    }
    assert n.same(configuration, shuffled)
    assert not n.same(configuration, legacy_configuration())


filters = st.one_of(
    st.none(),
    st.builds(
        lambda name, value: {"Key": {"FilterRules": [{"Name": name, "Value": value}]}},
        st.sampled_from(["prefix", "Prefix", "suffix"]),
        st.sampled_from(["data/", "info-images/", "downloads/", ".csv", ""]),
    ),
)
raw_entries = st.builds(
    lambda identifier, events, rule: {
        "Id": identifier,
        "Events": events,
        **({"Filter": rule} if rule else {}),
    },
    st.one_of(
        st.sampled_from([n.OWN_ID, f"{n.OWN_ID}-data", f"{n.OWN_ID}-old"]), st.text(min_size=1, max_size=6)
    ),
    st.lists(st.sampled_from(EVENTS), min_size=1, max_size=3, unique=True),
    filters,
)


@st.composite
def configurations(draw: st.DrawFn) -> dict[str, Any]:
    configuration: dict[str, Any] = {}
    for kind, destination in n.DESTINATION.items():
        if draw(st.booleans()):
            configuration[kind] = [
                {**raw, destination: f"arn:{kind}:{index}"}
                for index, raw in enumerate(draw(st.lists(raw_entries, max_size=4)))
            ]
    if draw(st.booleans()):
        configuration["EventBridgeConfiguration"] = {}
    return configuration


@given(configurations(), st.sampled_from([n.QUEUES, n.TOPICS]))
def test_merge_never_drops_a_foreign_entry_and_merging_twice_is_merging_once(
    configuration: dict[str, Any], kind: str
) -> None:
    mine = [(kind, e) for e in own(kind, TOPIC if kind == n.TOPICS else EVENT_QUEUE)]

    once = n.rewritten(configuration, mine)
    twice = n.rewritten(once, mine)

    assert twice == once
    for each_kind in n.DESTINATION:
        foreign = [raw for raw in configuration.get(each_kind, []) if not n.is_own(raw["Id"])]
        assert [raw for raw in once.get(each_kind, []) if not n.is_own(raw["Id"])] == foreign
    assert [e for k, e in mine] == [raw for raw in once[kind] if n.is_own(raw["Id"])]
    assert ("EventBridgeConfiguration" in once) == ("EventBridgeConfiguration" in configuration)


# --- fanning out ----------------------------------------------------------------------------------


def test_a_legacy_trigger_becomes_a_filter_on_its_own_events_and_prefix() -> None:
    (insert_data, _) = n.conflicts(legacy_configuration(), own_entries(n.TOPICS, TOPIC))

    policy = n.filter_policy(insert_data, ("s3:ObjectCreated:*",))

    assert policy == {
        "Records": {
            "eventName": [{"prefix": "ObjectCreated:"}],
            "s3": {"object": {"key": [{"prefix": "data/"}, {"prefix": "data%2F"}]}},
        }
    }
    assert n.fan_out_refusal(insert_data, PREFIXES) is None


def test_single_event_types_are_matched_exactly_and_suffixes_by_suffix() -> None:
    csv = n.Entry(
        n.LAMBDAS, "csv", LEGACY_DATA, ("s3:ObjectCreated:Put", "s3:ObjectRemoved:*"), suffix=".csv"
    )
    assert n.filter_policy(csv, csv.events) == {
        "Records": {
            "eventName": ["ObjectCreated:Put", {"prefix": "ObjectRemoved:"}],
            "s3": {"object": {"key": [{"suffix": ".csv"}]}},
        }
    }


@pytest.mark.parametrize(
    ("found", "why"),
    [
        (
            n.Entry(n.TOPICS, "t", TOPIC, ("s3:ObjectCreated:*",), "data/"),
            "cannot subscribe to another topic",
        ),
        (
            n.Entry(n.LAMBDAS, "l", LEGACY_DATA, ("s3:ObjectCreated:*",), "data/", ".fits"),
            "both a prefix and a suffix",
        ),
        (
            n.Entry(n.LAMBDAS, "l", LEGACY_DATA, ("s3:ObjectCreated:*",), "", ".csv"),
            "outside the watched prefixes",
        ),
        (n.Entry(n.LAMBDAS, "l", LEGACY_DATA, ("s3:ObjectCreated:*",), "da"), "outside the watched prefixes"),
    ],
)
def test_what_the_topic_cannot_carry_is_refused_with_the_reason(found: n.Entry, why: str) -> None:
    refusal = n.fan_out_refusal(found, PREFIXES)
    assert refusal is not None and why in refusal


def test_statements_are_added_by_sid_and_others_kept() -> None:
    theirs = {
        "Sid": "theirs",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "sqs:SendMessage",
        "Resource": "q",
    }
    existing = json.dumps({"Version": "2012-10-17", "Id": "kept", "Statement": [theirs]})
    mine = n.delivery_statement("mine", "sns.amazonaws.com", "sqs:SendMessage", "q", TOPIC)

    once = n.with_statements(existing, [mine])
    again = n.with_statements(json.dumps(once), [{**mine, "Resource": "q2"}])

    assert once == {"Version": "2012-10-17", "Id": "kept", "Statement": [theirs, mine]}
    assert again["Statement"] == [theirs, {**mine, "Resource": "q2"}]
    assert n.with_statements(None, [mine]) == {"Version": "2012-10-17", "Statement": [mine]}


# --- through EventBridge --------------------------------------------------------------------------


def test_bridging_turns_eventbridge_on_and_drops_only_its_own_entries() -> None:
    before = {kind: value for kind, value in legacy_configuration().items() if kind != n.EVENT_BRIDGE}
    before["QueueConfigurations"] += own()  # an earlier plain provision's
    snapshot = copy.deepcopy(before)

    after = n.bridged(before)

    assert before == snapshot  # the configuration read is not changed in place
    assert after["LambdaFunctionConfigurations"] == before["LambdaFunctionConfigurations"]
    assert after["QueueConfigurations"] == before["QueueConfigurations"][:1]  # the downloads queue
    assert after[n.EVENT_BRIDGE] == {}
    lines = n.differences(before, after)
    assert f"- SQS queue {EVENT_QUEUE} (Id 'photon-archive-object-events-data'): " in "\n".join(lines)
    assert lines[-1] == "+ EventBridge: every event of the bucket to the default event bus"
    assert n.differences(after, n.bridged(after))[-1].startswith("  EventBridge")


@given(configurations())
def test_bridging_never_drops_a_foreign_entry_and_bridging_twice_is_bridging_once(
    configuration: dict[str, Any],
) -> None:
    once = n.bridged(configuration)

    assert n.bridged(once) == once and n.same(once, n.bridged(once))
    assert once["EventBridgeConfiguration"] == {}
    for kind in n.DESTINATION:
        foreign = [raw for raw in configuration.get(kind, []) if not n.is_own(raw["Id"])]
        assert once.get(kind, []) == foreign


def test_the_rule_takes_creations_and_removals_of_the_watched_prefixes_of_its_bucket() -> None:
    assert n.event_pattern("photonranch-001", PREFIXES) == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created", "Object Deleted"],
        "detail": {
            "bucket": {"name": ["photonranch-001"]},
            "object": {"key": [{"prefix": "data/"}, {"prefix": "info-images/"}, {"prefix": "allsky/"}]},
        },
    }


RULE = "arn:aws:events:us-east-1:123456789012:rule/photonranch-001-object-events"


@pytest.mark.parametrize(
    ("asked", "topic", "rule", "fragment"),
    [
        (None, TOPIC, RULE, "reach the event queue twice, through SNS topic"),
        (n.FAN_OUT, None, RULE, "--fan-out would add photon_archive's own entries beside it"),
        (n.VIA_EVENTBRIDGE, TOPIC, None, "with them every event those triggers get"),
    ],
)
def test_a_way_out_beside_another_in_place_is_refused_with_why(
    asked: str | None, topic: str | None, rule: str | None, fragment: str
) -> None:
    (why,) = n.ways_refused(asked, topic, rule)
    assert fragment in why


@pytest.mark.parametrize(
    ("asked", "topic", "rule"),
    [
        (None, None, None),
        (None, TOPIC, None),
        (None, None, RULE),
        (n.VIA_EVENTBRIDGE, None, RULE),
        (n.FAN_OUT, TOPIC, None),
        (n.RETIRE, None, None),
        (n.RETIRE, None, RULE),
        (n.VIA_EVENTBRIDGE, None, None),
    ],
)
def test_keeping_or_taking_one_way_out_is_not_refused(
    asked: str | None, topic: str | None, rule: str | None
) -> None:
    assert n.ways_refused(asked, topic, rule) == []
