"""The two DynamoDB calls maintenance makes: a filtered scan and a conditional delete.

Every delete is conditional on the item still being due, so an item the ingest rewrote between the
scan and the delete (a new exposure on a channel, a file uploaded again) is left alone, and an item
already gone is simply not deleted again.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from photon_archive.aws.clients import client


def scan(table: str, **arguments: Any) -> Iterator[dict[str, Any]]:
    """Every item of ``table`` that passes the scan's filter, page after page."""
    pages = (
        client("dynamodb").get_paginator("scan").paginate(TableName=table, ConsistentRead=True, **arguments)
    )
    for page in pages:
        yield from page.get("Items", [])


def delete_if(table: str, key: dict[str, Any], condition: str, values: dict[str, Any]) -> bool:
    """Delete the item if ``condition`` still holds; False when it does not or the item is gone."""
    try:
        client("dynamodb").delete_item(
            TableName=table, Key=key, ConditionExpression=condition, ExpressionAttributeValues=values
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True


def number(value: int) -> dict[str, str]:
    return {"N": str(value)}
