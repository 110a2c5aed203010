"""The old account on the emulator, as LEGACY.md describes it, and a reading of everything on it.

The bucket triggers the legacy Lambda functions ``insert_data`` on ``data/`` and ``insertInfoImage``
on ``info-images/``; another consumer's queue takes removals under ``downloads/``; the tables exist,
the expiration tracker with its TTL, and the recent-uploads log made by hand, keyed by site and
upload second.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from photon_archive.aws.clients import client
from photon_archive.settings import Settings

ACCOUNT = "123456789012"  # moto's
REGION = "us-east-1"
LEGACY_FUNCTIONS = {"insert_data": "data/", "insertInfoImage": "info-images/"}
DOWNLOADS_QUEUE = "downloads-cleanup"


def arn(service: str, name: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{name}"


def function_arn(name: str) -> str:
    return arn("lambda", f"function:{name}")


def everything() -> dict[str, Any]:
    """All there is on the emulator, read back: buckets and their notifications, queues and their
    attributes, topics, their attributes and subscriptions, functions and their policies,
    EventBridge rules and their targets, tables, their keys and TTL."""
    s3, sqs, sns = client("s3"), client("sqs"), client("sns")
    awslambda, dynamodb, events = client("lambda"), client("dynamodb"), client("events")
    state: dict[str, Any] = {}
    for bucket in s3.list_buckets().get("Buckets", []):
        configuration = s3.get_bucket_notification_configuration(Bucket=bucket["Name"])
        configuration.pop("ResponseMetadata")
        state[f"bucket {bucket['Name']}"] = configuration
    for url in sqs.list_queues().get("QueueUrls", []):
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        state[f"queue {url}"] = {
            k: v for k, v in attributes.items() if k.startswith(("Policy", "Redrive", "Message"))
        }
    for topic in sns.list_topics().get("Topics", []):
        arn = topic["TopicArn"]
        subscriptions = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
        state[f"topic {arn}"] = {
            "attributes": sns.get_topic_attributes(TopicArn=arn)["Attributes"],
            "subscriptions": [
                sns.get_subscription_attributes(SubscriptionArn=s["SubscriptionArn"])["Attributes"]
                for s in subscriptions
            ],
        }
    for function in awslambda.list_functions().get("Functions", []):
        try:
            state[f"function {function['FunctionName']}"] = awslambda.get_policy(
                FunctionName=function["FunctionName"]
            )["Policy"]
        except awslambda.exceptions.ResourceNotFoundException:
            state[f"function {function['FunctionName']}"] = None
    for rule in events.list_rules().get("Rules", []):
        state[f"rule {rule['Arn']}"] = {
            "rule": rule,
            "targets": events.list_targets_by_rule(Rule=rule["Name"])["Targets"],
        }
    for table in dynamodb.list_tables()["TableNames"]:
        description = dynamodb.describe_table(TableName=table)["Table"]
        state[f"table {table}"] = {
            "key": description["KeySchema"],
            "attributes": description["AttributeDefinitions"],
            "ttl": dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"],
        }
    return state


def _lambda_zip() -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("handler.py", "def main(event, context):\n    return True\n")
    return archive.getvalue()


def make_legacy_account(
    settings: Settings, upload_log_key: tuple[str, str] = ("upload_timestamp_s", "N")
) -> None:
    """The account as the legacy system left it (see the module docstring)."""
    s3, sqs, dynamodb, awslambda = client("s3"), client("sqs"), client("dynamodb"), client("lambda")
    s3.create_bucket(Bucket=settings.bucket)
    role = client("iam").create_role(
        RoleName="photonranch-data-lambda",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ]
            }
        ),
    )["Role"]["Arn"]
    triggers = []
    for name, prefix in LEGACY_FUNCTIONS.items():
        awslambda.create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=role,
            Handler="handler.main",
            Code={"ZipFile": _lambda_zip()},
        )
        awslambda.add_permission(
            FunctionName=name,
            StatementId="s3-invokes",
            Action="lambda:InvokeFunction",
            Principal="s3.amazonaws.com",
            SourceArn=f"arn:aws:s3:::{settings.bucket}",
        )
        triggers.append(
            {
                "Id": f"legacy-{name}",
                "LambdaFunctionArn": function_arn(name),
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}},
            }
        )
    sqs.create_queue(QueueName=DOWNLOADS_QUEUE)
    s3.put_bucket_notification_configuration(
        Bucket=settings.bucket,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": triggers,
            "QueueConfigurations": [
                {
                    "Id": "downloads-removed",
                    "QueueArn": arn("sqs", DOWNLOADS_QUEUE),
                    "Events": ["s3:ObjectRemoved:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "downloads/"}]}},
                }
            ],
        },
    )
    sqs.create_queue(QueueName=settings.datastream_queue)
    make_table(settings.expiration_table, [("pk", "S")])
    dynamodb.update_time_to_live(
        TableName=settings.expiration_table,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration_timestamp_s"},
    )
    make_table(settings.info_images_table, [("pk", "S")])
    make_table(settings.upload_log_table, [("site", "S"), upload_log_key])


def make_table(name: str, key: list[tuple[str, str]]) -> None:
    client("dynamodb").create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": a, "KeyType": "HASH" if i == 0 else "RANGE"} for i, (a, _) in enumerate(key)
        ],
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": t} for a, t in key],
        BillingMode="PAY_PER_REQUEST",
    )
