"""The bucket's event notifications as plain values: which entries are photon_archive's, which stand
in their way, and the configuration after adding its own, retiring or moving the ones in the way, or
sending every event to EventBridge instead.

S3 keeps one notification configuration per bucket, and PutBucketNotificationConfiguration
replaces all of it. So provisioning reads it, changes its own entries, and writes every other entry
back exactly as it read it: the legacy Lambda triggers and whatever else no source shows. S3 refuses
a configuration in which two entries share an event type for keys both can match ("Configuration
is ambiguously defined"), whatever their destinations; ``conflicts`` finds them before anything is
written. The way out is the caller's choice: send the bucket's events to EventBridge, which S3
checks against no other entry, and let a rule there pick the watched prefixes' creations and
removals for the event queue, every other entry staying as it is; retire the entries in the way;
or fan out, where the bucket sends to an SNS topic that feeds the event queue and, through a
subscription filtered to what its trigger matched, each destination that was in the way.

A configuration is S3's wire shape as boto3 reads and writes it (``QueueConfigurations``,
``TopicConfigurations``, ``LambdaFunctionConfigurations``, ``EventBridgeConfiguration``). The
access statements that let S3 and SNS deliver are here too, as policy documents.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

from photon_archive.events import BRIDGED_DETAIL_TYPES

# Every entry photon_archive makes has this Id, or this Id and "-{prefix}": anything else is another's.
OWN_ID = "photon-archive-object-events"
# Whole event families: an entry's event that overlaps one of them is covered by it.
OWN_EVENTS = ("s3:ObjectCreated:*", "s3:ObjectRemoved:*")
QUEUES, TOPICS, LAMBDAS = "QueueConfigurations", "TopicConfigurations", "LambdaFunctionConfigurations"
# The switch that sends every event of the bucket to EventBridge's default bus; it has no fields.
EVENT_BRIDGE = "EventBridgeConfiguration"
DESTINATION = {QUEUES: "QueueArn", TOPICS: "TopicArn", LAMBDAS: "LambdaFunctionArn"}
KIND_NAME = {QUEUES: "SQS queue", TOPICS: "SNS topic", LAMBDAS: "Lambda function"}

Configuration = dict[str, Any]


@dataclass(frozen=True)
class Entry:
    """One notification entry: where the events go, which events, for which keys."""

    kind: str  # QUEUES, TOPICS or LAMBDAS
    id: str
    destination: str  # the queue's, topic's or function's ARN
    events: tuple[str, ...]
    prefix: str = ""
    suffix: str = ""

    @property
    def own(self) -> bool:
        return is_own(self.id)

    def keys(self) -> str:
        return f"{self.prefix}*{self.suffix}" if self.prefix or self.suffix else "every key"

    def describe(self) -> str:
        return (
            f"{KIND_NAME[self.kind]} {self.destination} (Id {self.id!r}): "
            f"{', '.join(self.events)} on {self.keys()}"
        )


def is_own(identifier: str) -> bool:
    return identifier == OWN_ID or identifier.startswith(f"{OWN_ID}-")


def entries(configuration: Mapping[str, Any]) -> list[Entry]:
    """Every queue, topic and Lambda entry, in the order the configuration holds them."""
    return [parse_entry(kind, raw) for kind in DESTINATION for raw in configuration.get(kind) or []]


def parse_entry(kind: str, raw: Mapping[str, Any]) -> Entry:
    rules = {
        str(rule.get("Name", "")).lower(): str(rule.get("Value", ""))
        for rule in (raw.get("Filter") or {}).get("Key", {}).get("FilterRules", [])
    }
    return Entry(
        kind=kind,
        id=str(raw.get("Id", "")),
        destination=str(raw.get(DESTINATION[kind], "")),
        events=tuple(sorted(raw.get("Events") or [])),
        prefix=rules.get("prefix", ""),
        suffix=rules.get("suffix", ""),
    )


def own_entries(kind: str, destination: str, prefixes: Sequence[str]) -> list[dict[str, Any]]:
    """photon_archive's entries: one per watched prefix (S3 takes one prefix an entry), so that they
    overlap nothing under the prefixes it does not watch."""
    return [
        {
            "Id": f"{OWN_ID}-{prefix}",
            DESTINATION[kind]: destination,
            "Events": list(OWN_EVENTS),
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": f"{prefix}/"}]}},
        }
        for prefix in prefixes
    ]


# --- what S3 refuses ----------------------------------------------------------------------------


def covers(pattern: str, event: str) -> bool:
    """Whether ``pattern`` (``s3:ObjectCreated:*`` or a single type) matches every ``event`` matches."""
    return pattern == event or (pattern.endswith(":*") and event.startswith(pattern[:-1]))


def events_overlap(a: str, b: str) -> bool:
    return covers(a, b) or covers(b, a)


def keys_overlap(a: Entry, b: Entry) -> bool:
    """Whether some key matches both entries' filters: a key longer than both prefixes and both
    suffixes matches them all when one prefix extends the other and one suffix extends the other."""
    prefixes = a.prefix.startswith(b.prefix) or b.prefix.startswith(a.prefix)
    suffixes = a.suffix.endswith(b.suffix) or b.suffix.endswith(a.suffix)
    return prefixes and suffixes


def overlaps(a: Entry, b: Entry) -> bool:
    """Whether S3 would refuse ``a`` and ``b`` in one configuration."""
    return keys_overlap(a, b) and any(events_overlap(x, y) for x in a.events for y in b.events)


def conflicts(configuration: Mapping[str, Any], own: Sequence[Entry]) -> list[Entry]:
    """The entries of others that S3 would refuse beside ``own``."""
    return [
        entry
        for entry in entries(configuration)
        if not entry.own and any(overlaps(entry, mine) for mine in own)
    ]


def split_events(entry: Entry) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The entry's events that photon_archive's entries also take, and the rest: only the first are
    in the way, the rest can stay on the entry."""
    taken = tuple(event for event in entry.events if any(events_overlap(event, o) for o in OWN_EVENTS))
    return taken, tuple(event for event in entry.events if event not in taken)


# --- the configuration written back -------------------------------------------------------------


def rewritten(
    configuration: Mapping[str, Any],
    own: Sequence[tuple[str, Mapping[str, Any]]],
    events_left: Mapping[str, Sequence[str]] | None = None,
) -> Configuration:
    """The configuration with photon_archive's entries replaced by ``own`` ((kind, entry) pairs) and
    every other entry exactly as it was, except those named in ``events_left``, which keep only the
    events given there (none: the entry goes). Keys other than the three lists (the EventBridge
    switch) are kept as they are."""
    events_left = events_left or {}
    result: Configuration = {key: value for key, value in configuration.items() if key != "ResponseMetadata"}
    for kind in DESTINATION:
        kept: list[Any] = []
        for raw in configuration.get(kind) or []:
            identifier = str(raw.get("Id", ""))
            if is_own(identifier):
                continue
            if identifier in events_left:
                if events_left[identifier]:
                    kept.append({**raw, "Events": list(events_left[identifier])})
                continue
            kept.append(raw)
        kept += [dict(entry) for entry_kind, entry in own if entry_kind == kind]
        if kept or kind in configuration:
            result[kind] = kept
    return result


def same(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two configurations send the same events to the same places (S3 may list entries in
    another order than they were written)."""
    return sorted(entries(a), key=_order) == sorted(entries(b), key=_order) and (EVENT_BRIDGE in a) == (
        EVENT_BRIDGE in b
    )


def _order(entry: Entry) -> tuple[str, ...]:
    return (entry.kind, entry.id, entry.destination, *entry.events, entry.prefix, entry.suffix)


def differences(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """The entries as a diff: ``-`` gone, ``+`` new, ``~`` changed (the new form), blank kept."""
    old = {entry.id: entry for entry in entries(before)}
    new = {entry.id: entry for entry in entries(after)}
    lines = []
    for identifier, entry in old.items():
        if identifier not in new:
            lines.append(f"- {entry.describe()}")
        elif new[identifier] != entry:
            lines.append(f"~ {new[identifier].describe()} (was {', '.join(entry.events)} on {entry.keys()})")
        else:
            lines.append(f"  {entry.describe()}")
    lines += [f"+ {entry.describe()}" for identifier, entry in new.items() if identifier not in old]
    was, now = EVENT_BRIDGE in before, EVENT_BRIDGE in after
    if was or now:
        mark = " " if was == now else "+" if now else "-"
        lines.append(f"{mark} EventBridge: every event of the bucket to the default event bus")
    return lines


# --- the ways out -------------------------------------------------------------------------------

VIA_EVENTBRIDGE, FAN_OUT, RETIRE = "--via-eventbridge", "--fan-out", "--retire-legacy-triggers"


def ways_refused(asked: str | None, topic: str | None, rule: str | None) -> list[str]:
    """Why the way out ``asked`` for (None: none) cannot be taken beside the one in place. ``topic``
    and ``rule`` name the fan-out topic and the EventBridge rule when the bucket's events already
    reach the event queue through them (an earlier run's way out, which later runs keep)."""
    if topic and rule:
        return [
            f"the bucket's events reach the event queue twice, through SNS topic {topic} and "
            f"EventBridge rule {rule}: remove one"
        ]
    if rule and asked == FAN_OUT:
        return [
            f"the bucket's events reach the event queue through EventBridge rule {rule} (an earlier "
            f"{VIA_EVENTBRIDGE}), which overlaps no trigger; {asked} would add photon_archive's own "
            "entries beside it and every event would arrive twice: remove the rule first "
            "(aws events remove-targets, delete-rule)"
        ]
    if topic and asked == VIA_EVENTBRIDGE:
        return [
            f"the bucket sends photon_archive's events to SNS topic {topic} (an earlier {FAN_OUT}), "
            f"and the triggers moved onto it get their events from it; {VIA_EVENTBRIDGE} would remove "
            "photon_archive's entries, and with them every event those triggers get"
        ]
    return []


# --- through EventBridge ------------------------------------------------------------------------


def bridged(configuration: Mapping[str, Any]) -> Configuration:
    """The configuration sending every event of the bucket to EventBridge as well as wherever it
    sent them, with no entry of photon_archive's: a rule on the bus takes their place. S3 checks no
    overlap for EventBridge, so every other entry is written back as it was."""
    return {**rewritten(configuration, []), EVENT_BRIDGE: dict(configuration.get(EVENT_BRIDGE) or {})}


def event_pattern(bucket: str, prefixes: Sequence[str]) -> dict[str, Any]:
    """The rule's pattern: what photon_archive's own entries would have taken, creations and
    removals of the bucket's keys under the watched prefixes, out of everything the bucket sends."""
    return {
        "source": ["aws.s3"],
        "detail-type": list(BRIDGED_DETAIL_TYPES),
        "detail": {
            "bucket": {"name": [bucket]},
            "object": {"key": [{"prefix": f"{prefix}/"} for prefix in prefixes]},
        },
    }


# --- fanning out --------------------------------------------------------------------------------


def fan_out_refusal(entry: Entry, prefixes: Sequence[str]) -> str | None:
    """Why the topic cannot carry what ``entry`` receives, or None when it can."""
    if entry.kind == TOPICS:
        return "an SNS topic cannot subscribe to another topic"
    if entry.prefix and entry.suffix:
        return "an SNS filter policy cannot require both a prefix and a suffix of one key"
    if not any(entry.prefix.startswith(f"{prefix}/") for prefix in prefixes):
        watched = ", ".join(f"{prefix}/" for prefix in prefixes)
        return f"it takes keys outside the watched prefixes ({watched}), which the topic does not carry"
    return None


def filter_policy(entry: Entry, events: Sequence[str]) -> dict[str, Any]:
    """A subscription filter policy (scope ``MessageBody``) passing the S3 events ``entry`` matched
    for ``events``: its subscriber gets from the topic what it got from its trigger, and never the
    ``s3:TestEvent``, which has no ``Records``. Keys in the events are URL-encoded; AWS keeps ``/``
    as it is and the emulator escapes it, so both spellings of the prefix are given: they name the
    same keys."""
    names: list[Any] = []
    for event in events:
        name = event.removeprefix("s3:")
        rule: Any = {"prefix": name[:-1]} if name.endswith(":*") else name
        if rule not in names:
            names.append(rule)
    records: dict[str, Any] = {"eventName": names}
    if entry.prefix:
        records["s3"] = {"object": {"key": [{"prefix": s} for s in _spellings(entry.prefix)]}}
    elif entry.suffix:
        records["s3"] = {"object": {"key": [{"suffix": s} for s in _spellings(entry.suffix)]}}
    return {"Records": records}


def _spellings(text: str) -> list[str]:
    return list(dict.fromkeys([quote_plus(text, safe="/"), quote_plus(text)]))


# --- who may deliver ----------------------------------------------------------------------------


def delivery_statement(sid: str, service: str, action: str, resource: str, source_arn: str) -> dict[str, Any]:
    """An access statement letting ``service`` (``s3.amazonaws.com``…) ``action`` on ``resource``
    for ``source_arn`` alone."""
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": action,
        "Resource": resource,
        "Condition": {"ArnLike": {"aws:SourceArn": source_arn}},
    }


def with_statements(policy: str | None, statements: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The policy document with ``statements`` in it, each replacing the statement of its Sid; every
    other statement kept."""
    document: dict[str, Any] = json.loads(policy) if policy else {"Version": "2012-10-17"}
    present = list(document.get("Statement") or [])
    if isinstance(document.get("Statement"), dict):
        present = [document["Statement"]]
    wanted = {statement["Sid"]: dict(statement) for statement in statements}
    merged = [wanted.pop(s.get("Sid"), s) if s.get("Sid") in wanted else s for s in present]
    return {**document, "Statement": merged + list(wanted.values())}
