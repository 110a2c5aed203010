"""What the system needs of each DynamoDB table, and whether a table that exists gives it.

The tables were made before this system, by the Serverless stack or by hand, and other services read
them, so their keys are never changed. The system takes a table's keys as the table declares them
where it can: the upload log's sort key is in no source (LEGACY.md), and its items carry every
attribute that could be it. A table it cannot use is refused with what is wrong, at provisioning
and again when a run first reads the keys, never by a write that fails at night.

Descriptions are DynamoDB's own (``describe_table``'s ``Table``, ``describe_time_to_live``'s
``TimeToLiveDescription``), as plain values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

TYPE_NAMES = {"S": "a string", "N": "a number", "B": "binary"}
TTL_ON = ("ENABLED", "ENABLING")


@dataclass(frozen=True)
class TableNeeds:
    """What the system reads and writes in one table."""

    purpose: str
    hash_key: str  # the attribute the readers query by
    attributes: Mapping[str, str]  # attribute -> DynamoDB type, carried by every item the system writes
    sort_key_allowed: bool  # whether its items are read and written by a key of more than the hash key
    created_sort_key: str | None  # the sort key of a table the system creates
    ttl_attribute: str


# The upload log's items are ``records.UploadLogItem``s, attribute for field.
UPLOAD_LOG = TableNeeds(
    purpose="the recent-uploads log",
    hash_key="site",
    attributes=MappingProxyType(
        {
            "site": "S",
            "filename": "S",
            "upload_timestamp_s": "N",
            "expire_timestamp_s": "N",
            "size_bytes": "N",
        }
    ),
    sort_key_allowed=True,
    created_sort_key="filename",
    ttl_attribute="expire_timestamp_s",
)
INFO_IMAGES = TableNeeds(
    "the info-image channels", "pk", MappingProxyType({"pk": "S"}), False, None, "expiration_timestamp"
)
EXPIRATION_TRACKER = TableNeeds(
    "the expiration tracker", "pk", MappingProxyType({"pk": "S"}), False, None, "expiration_timestamp_s"
)


def key_schema(description: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The table's key as (attribute, type) pairs, hash key first."""
    types = {a["AttributeName"]: a["AttributeType"] for a in description.get("AttributeDefinitions", [])}
    keys = sorted(description.get("KeySchema", []), key=lambda k: k["KeyType"] != "HASH")
    return [(k["AttributeName"], types.get(k["AttributeName"], "?")) for k in keys]


def key_attributes(description: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(name for name, _ in key_schema(description))


def describe_key(key: list[tuple[str, str]]) -> str:
    return " + ".join(f"{name} ({kind})" for name, kind in key)


def key_problems(needs: TableNeeds, table: str, description: Mapping[str, Any]) -> list[str]:
    """Why the system cannot use the table as its key is, or nothing when it can."""
    key = key_schema(description)
    where = f"DynamoDB table {table} ({needs.purpose}), keyed {describe_key(key)},"
    (hash_name, hash_type), sort = key[0], key[1:]
    problems = []
    if hash_name != needs.hash_key:
        problems.append(f"{where} has the hash key {hash_name}, but its readers query it by {needs.hash_key}")
    elif hash_type != needs.attributes[hash_name]:
        problems.append(
            f"{where} has {hash_name} as {_typed(hash_type)}, "
            f"but its items carry {_typed(needs.attributes[hash_name])}"
        )
    for name, kind in sort:
        if not needs.sort_key_allowed:
            problems.append(
                f"{where} has the sort key {name}, "
                f"but the system reads and writes its items by {needs.hash_key} alone"
            )
        elif name not in needs.attributes:
            carried = ", ".join(needs.attributes)
            problems.append(
                f"{where} has the sort key {name}, which the system's items do not carry ({carried})"
            )
        elif kind != needs.attributes[name]:
            problems.append(
                f"{where} has the sort key {name} as {_typed(kind)}, but the system writes it as "
                f"{_typed(needs.attributes[name])}"
            )
    return problems


def ttl_to_enable(needs: TableNeeds, table: str, ttl: Mapping[str, Any]) -> tuple[bool, str | None]:
    """Whether to turn TTL on (only on a table that has none), and why the TTL a table has is not
    the system's, if it is not. DynamoDB takes one TTL attribute a table; another's is never changed."""
    status, attribute = ttl.get("TimeToLiveStatus", "DISABLED"), ttl.get("AttributeName")
    if status in TTL_ON and attribute != needs.ttl_attribute:
        return False, (
            f"DynamoDB table {table} ({needs.purpose}) has TTL on {attribute}, but the system's items "
            f"expire by {needs.ttl_attribute}; provisioning never changes another's TTL: change it "
            f"by hand (update-time-to-live) if {needs.ttl_attribute} is right"
        )
    if status == "DISABLING":
        return False, f"DynamoDB table {table} is turning its TTL off: provision again once it is off"
    return status not in TTL_ON, None


def creation(needs: TableNeeds) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The KeySchema and AttributeDefinitions of a table the system creates."""
    names = [needs.hash_key] + ([needs.created_sort_key] if needs.created_sort_key else [])
    schema = [{"AttributeName": n, "KeyType": "HASH" if n == needs.hash_key else "RANGE"} for n in names]
    return schema, [{"AttributeName": n, "AttributeType": needs.attributes.get(n, "S")} for n in names]


def _typed(kind: str) -> str:
    return f"{TYPE_NAMES.get(kind, kind)} ({kind})"
