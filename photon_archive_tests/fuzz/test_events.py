"""Fuzzing the event-message parser: valid S3 notifications (records, or an S3 event as EventBridge
delivers it) with fields removed, retyped, nested wrongly or double-encoded, and the text around
them cut or spliced; nothing but ``Rejected`` escapes, and every event that comes out is well formed."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from photon_archive.events import S3Event, parse_event_message
from photon_archive_tests.fuzz.budget import fuzz, survives
from photon_archive_tests.test_events import bridged_event, s3_record

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
# Values S3 writes or could be mistaken for, beside any JSON at all.
likely_values = st.one_of(
    st.sampled_from(
        [
            "ObjectCreated:Put", "s3:ObjectRemoved:Delete", "ObjectCreated:", "s3:", "", "Notification",
            "s3:TestEvent", "2026-11-25T03:04:05.678Z", "2026-13-45T99:00:00Z", "Z", "data%2F", "%ZZ+",
            "aws.s3", "Object Created", "Object Deleted", -1, 0, 2**63, 10**30, 1.5, True, None, [], {},
        ]
    ),
    json_values,
)  # fmt: skip


@st.composite
def s3_documents(draw: st.DrawFn) -> dict[str, Any]:
    """A notification as S3 sends it: one or more records, created or removed, maybe a test event,
    or one object's event as EventBridge delivers it."""
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "photonranch-001"}
    if kind <= 3:
        detail_type = draw(st.sampled_from(["Object Created", "Object Deleted", "Object Restore Completed"]))
        key = draw(st.sampled_from(["data/sro-kb001ms-20261124-00000001-EX00.txt", "allsky/a+b%2B.jpg"]))
        size = {"size": draw(st.integers(0, 10**9))} if detail_type != "Object Deleted" else {}
        return bridged_event(key, detail_type, etag="abc", sequencer="0A1B", **size)
    records = []
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.sampled_from(["ObjectCreated:Put", "s3:ObjectCreated:Copy", "ObjectRemoved:Delete"]))
        key = draw(st.sampled_from(["data%2Fsro-kb001ms-20261124-00000001-EX00.txt", "allsky/a+b%2B.jpg"]))
        fields = {"size": draw(st.integers(0, 10**9)), "eTag": '"abc"', "sequencer": "0A1B"}
        records.append(s3_record(key, name, **fields))
    return {"Records": records}


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON tree a mutation can hit, the root included."""
    found = [path]
    if isinstance(node, dict):
        for key, child in node.items():
            found += _paths(child, (*path, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += _paths(child, (*path, index))
    return found


def _mutated(document: Any, path: tuple[Any, ...], operation: str, value: Any) -> Any:
    """``document`` with the node at ``path`` removed, retyped, wrapped or double-encoded."""
    if not path:
        return _changed(document, operation, value)
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if operation == "remove":
        del parent[last]
    else:
        parent[last] = _changed(parent[last], operation, value)
    return document


def _changed(node: Any, operation: str, value: Any) -> Any:
    if operation == "wrap in a list":
        return [node]
    if operation == "wrap in an object":
        return {"object": node}
    if operation == "encode as a string":
        return json.dumps(node)
    if operation == "remove":
        return None
    return value


mutations = st.lists(
    st.tuples(
        st.integers(min_value=0),
        st.sampled_from(["remove", "retype", "wrap in a list", "wrap in an object", "encode as a string"]),
        likely_values,
    ),
    max_size=4,
)
text_edits = st.lists(st.tuples(st.integers(min_value=0), st.text(max_size=4), st.integers(0, 4)), max_size=3)


def is_well_formed(event: S3Event) -> bool:
    return (
        isinstance(event.key, str)
        and bool(event.key)
        and isinstance(event.bucket, str)
        and isinstance(event.removed, bool)
        and (event.size is None or (type(event.size) is int and event.size >= 0))
        and (event.etag is None or isinstance(event.etag, str))
        and (event.sequencer is None or isinstance(event.sequencer, str))
        and (event.event_time is None or isinstance(event.event_time, datetime))
    )


def parses_or_is_rejected(body: str) -> None:
    events = survives("events", lambda: parse_event_message(body))
    assert events is None or all(is_well_formed(event) for event in events)


@fuzz("events")
@given(s3_documents(), mutations, st.booleans(), text_edits)
def test_mutated_s3_notifications_give_well_formed_events_or_a_rejection(
    document: dict[str, Any],
    changes: list[tuple[int, str, Any]],
    sns_wrapped: bool,
    edits: list[tuple[int, str, int]],
) -> None:
    for choice, operation, value in changes:
        paths = _paths(document)
        document = _mutated(document, paths[choice % len(paths)], operation, value)
    body = json.dumps(document)
    if sns_wrapped:
        body = json.dumps({"Type": "Notification", "MessageId": "1", "Message": body})
    parses_or_is_rejected(body)
    for position, text, cut in edits:
        at = position % (len(body) + 1)
        body = body[:at] + text + body[at + cut :]
    parses_or_is_rejected(body)


@fuzz("events")
@given(st.text(max_size=300))
def test_any_text_gives_events_or_a_rejection(body: str) -> None:
    parses_or_is_rejected(body)


@fuzz("events")
@given(st.dictionaries(st.sampled_from(["eventName", "s3", "eventTime", "x"]), json_values, max_size=4))
def test_any_record_shape_gives_events_or_a_rejection(record: dict) -> None:
    for document in (
        {"Records": [record]},
        {"Type": "Notification", "Message": json.dumps({"Records": [record]})},
    ):
        parses_or_is_rejected(json.dumps(document))


@fuzz("events")
@given(
    st.dictionaries(
        st.sampled_from(["source", "detail-type", "detail", "time", "x"]),
        st.one_of(likely_values, st.fixed_dictionaries({"object": json_values, "bucket": json_values})),
        max_size=5,
    )
)
def test_any_eventbridge_event_shape_gives_events_or_a_rejection(event: dict) -> None:
    event.setdefault("detail-type", "Object Created")
    parses_or_is_rejected(json.dumps(event))
    parses_or_is_rejected(json.dumps({**event, "source": "aws.s3"}))


@fuzz("events")
@given(
    st.integers(1, 50_000),
    st.sampled_from(
        [
            "[",
            '{"Records": ',
            '{"Type": "Notification", "Message": ',
            '{"source": "aws.s3", "detail-type": "Object Created", "detail": ',
        ]
    ),
)
def test_deeply_nested_messages_are_rejected_not_crashed(depth: int, opening: str) -> None:
    parses_or_is_rejected(opening * depth)
    parses_or_is_rejected("[" * depth + "]" * depth)
