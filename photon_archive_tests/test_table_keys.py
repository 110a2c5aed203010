"""Whether an existing DynamoDB table gives the system what it needs, on describe_table's values."""

from __future__ import annotations

from typing import Any

import pytest

from photon_archive.table_keys import (
    EXPIRATION_TRACKER,
    INFO_IMAGES,
    UPLOAD_LOG,
    creation,
    key_attributes,
    key_problems,
    ttl_to_enable,
)


def described(*key: tuple[str, str]) -> dict[str, Any]:
    """describe_table's Table for a key of (attribute, type) pairs, hash key first."""
    return {
        "KeySchema": [
            {"AttributeName": name, "KeyType": "HASH" if index == 0 else "RANGE"}
            for index, (name, _) in enumerate(key)
        ],
        "AttributeDefinitions": [{"AttributeName": name, "AttributeType": kind} for name, kind in key],
    }


@pytest.mark.parametrize(
    "key",
    [
        (("site", "S"), ("filename", "S")),
        (("site", "S"), ("upload_timestamp_s", "N")),
        (("site", "S"), ("expire_timestamp_s", "N")),
        (("site", "S"),),
    ],
)
def test_the_upload_log_is_usable_keyed_by_site_and_any_attribute_its_items_carry(
    key: tuple[tuple[str, str], ...],
) -> None:
    description = described(*key)
    assert key_problems(UPLOAD_LOG, "recent-uploads-log", description) == []
    assert key_attributes(description) == tuple(name for name, _ in key)


def test_the_key_is_read_hash_first_whatever_order_describe_lists_it() -> None:
    description = described(("site", "S"), ("upload_timestamp_s", "N"))
    description["KeySchema"].reverse()
    assert key_attributes(description) == ("site", "upload_timestamp_s")


@pytest.mark.parametrize(
    ("needs", "key", "fragment"),
    [
        (
            UPLOAD_LOG,
            (("pk", "S"), ("filename", "S")),
            "has the hash key pk, but its readers query it by site",
        ),
        (
            UPLOAD_LOG,
            (("site", "N"), ("filename", "S")),
            "has site as a number (N), but its items carry a string (S)",
        ),
        (
            UPLOAD_LOG,
            (("site", "S"), ("upload_timestamp_s", "S")),
            "has the sort key upload_timestamp_s as a string (S), but the system writes it as a number (N)",
        ),
        (
            UPLOAD_LOG,
            (("site", "S"), ("uploaded_at", "N")),
            "has the sort key uploaded_at, which the system's items do not carry",
        ),
        (
            EXPIRATION_TRACKER,
            (("pk", "S"), ("s3_directory", "S")),
            "has the sort key s3_directory, but the system reads and writes its items by pk alone",
        ),
        (INFO_IMAGES, (("site", "S"),), "has the hash key site, but its readers query it by pk"),
    ],
)
def test_a_table_the_system_cannot_use_is_refused_naming_table_key_and_why(
    needs: Any, key: tuple[tuple[str, str], ...], fragment: str
) -> None:
    (problem,) = key_problems(needs, "the-table", described(*key))
    assert problem.startswith("DynamoDB table the-table (")
    assert fragment in problem


@pytest.mark.parametrize(
    ("ttl", "enable", "fragment"),
    [
        ({"TimeToLiveStatus": "DISABLED"}, True, None),
        ({}, True, None),
        ({"TimeToLiveStatus": "ENABLED", "AttributeName": "expire_timestamp_s"}, False, None),
        ({"TimeToLiveStatus": "ENABLING", "AttributeName": "expire_timestamp_s"}, False, None),
        (
            {"TimeToLiveStatus": "ENABLED", "AttributeName": "ttl"},
            False,
            "has TTL on ttl, but the system's items expire by expire_timestamp_s",
        ),
        (
            {"TimeToLiveStatus": "DISABLING", "AttributeName": "expire_timestamp_s"},
            False,
            "turning its TTL off",
        ),
    ],
)
def test_ttl_is_turned_on_only_where_there_is_none(
    ttl: dict[str, str], enable: bool, fragment: str | None
) -> None:
    turn_on, problem = ttl_to_enable(UPLOAD_LOG, "recent-uploads-log", ttl)
    assert turn_on is enable
    assert (problem is None) if fragment is None else (problem is not None and fragment in problem)


def test_a_created_table_has_the_keys_its_items_carry() -> None:
    assert creation(UPLOAD_LOG) == (
        [{"AttributeName": "site", "KeyType": "HASH"}, {"AttributeName": "filename", "KeyType": "RANGE"}],
        [
            {"AttributeName": "site", "AttributeType": "S"},
            {"AttributeName": "filename", "AttributeType": "S"},
        ],
    )
    assert creation(INFO_IMAGES) == (
        [{"AttributeName": "pk", "KeyType": "HASH"}],
        [{"AttributeName": "pk", "AttributeType": "S"}],
    )
