"""The shipped IAM policy (``deploy/iam-policy.json``) lets the running system do all it does, and no more.

The system runs here as an IAM user holding only that policy, against a moto server of its own started
with ``INITIAL_NO_AUTH_ACTION_COUNT``. moto counts the AWS requests it serves while the count is below
that threshold and checks none of them; from the threshold on, every request must be signed with an IAM
user's access key and be allowed by that user's policies. ``/moto-api/reset-auth`` sets the threshold
and zeroes the count, so each scenario opens an unchecked window (threshold ``inf``) to provision, seed
the observatory's uploads and make the user, then closes it (threshold ``0``) before the system runs.

The scenario is the whole running system: a tick of each sensor that reads the queues or the bucket (the
event-queue tick also dead-letters a message that is no S3 event, which the dead-letter alert sensor
then counts and alerts on the alert topic), the ingest runs the event tick requests (an exposure with
all its files and its thumbnail, a fits-only exposure whose header is read by ranged GETs, an info
image on the channel its metadata names, one on the channel the site's metadata item names, an all-sky
exposure), a forced replay, then the four maintenance jobs that touch AWS, at an instant when everything
has expired.

What moto 5.2 enforces (moto/core/authorization.py, moto/iam/access_control.py, the services' responses):

- S3: actions and resources, bucket ARN and object ARNs. HEAD and ranged GETs are ``s3:GetObject``,
  ListObjectsV2 is ``s3:ListBucket``. DeleteObjects is authorized as ``s3:DeleteObject`` on the bucket's
  ARN, where AWS authorizes each object's ARN; refused, every key comes back AccessDenied in ``Errors``.
- SQS: actions and queue ARNs, except GetQueueUrl, which moto authorizes against ``*`` (it finds the queue
  from a QueueUrl, which GetQueueUrl does not carry). Batch calls are checked under their API names
  (``sqs:SendMessageBatch``, ``sqs:DeleteMessageBatch``); IAM has no such actions and checks
  ``sqs:SendMessage`` and ``sqs:DeleteMessage``.
- DynamoDB: actions only. moto authorizes every DynamoDB request against ``*``, never a table's ARN.
- SNS: actions only, against ``*``, as for DynamoDB; the topic is checked with IAM's rules below.

With every statement there, the scenario runs the real jobs (``execute_in_process``). With one taken
away it runs each job's ops one after another, invoked with the job's resources and config, because a
failing op first retries under its RetryPolicy for some 22 seconds; the two forms are shown to make the
same requests of IAM.

So the user's policy in moto is ``as_moto_authorizes(shipped)``, the same statements restated at moto's
granularity. What moto cannot check (which table, which queue for GetQueueUrl, which objects a batch
delete names) is checked by evaluating the shipped policy, with IAM's rules, against every call the
system made, recorded on its way to the server by a pass-through spy on botocore: every call is
allowed, every action and resource granted is used, and every statement is the only one allowing some
call. Without a statement, moto itself must refuse the scenario, except for ``MOTO_CANNOT_TELL``: a
DynamoDB statement whose actions another statement also grants, on another table, which moto cannot
distinguish.
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from dagster import (
    DagsterInstance,
    Definitions,
    Output,
    SensorResult,
    build_op_context,
    build_sensor_context,
    instance_for_test,
)

from photon_archive.aws import clients, queues
from photon_archive.catalog.schema import upgrade
from photon_archive.definitions import build_definitions
from photon_archive.defs.ingest import ingest_run_config
from photon_archive.defs.resources import resources_for
from photon_archive.defs.sensors.alerts import dead_letter_alerts
from photon_archive.defs.sensors.event_queue import s3_event_queue
from photon_archive.defs.sensors.prefix_scan import s3_prefix_scan
from photon_archive.ingest.objects import ObjectRef
from photon_archive.naming import parse_key, thumbnail_key
from photon_archive.provision import provision
from photon_archive.settings import Settings
from photon_archive_workshop.emulator import EMULATOR_ENVIRONMENT, Emulator
from photon_archive_workshop.sample import SampleFile, sample_exposures

POLICY_FILE = Path(__file__).resolve().parents[1] / "deploy" / "iam-policy.json"
ACCOUNT = "123456789012"  # moto's account
REGION = "us-east-1"
NIGHT = date(2026, 11, 24)
SERVICES = ("s3", "sqs", "dynamodb", "sns")
MAINTENANCE = {
    "expire_exposures": "delete_expired_exposures",
    "expire_upload_log": "delete_expired_upload_log_items",
    "expire_info_images": "delete_expired_info_images",
    "expire_allsky": "delete_old_allsky",
}
# Provisioning is an operator's job (`photon-archive provision`, photon_archive/provision.py); the running
# system never does it.
PROVISIONING = re.compile(
    r"^(s3:(Create|Delete)Bucket|s3:Put\w*Configuration|s3:ListAllMyBuckets"
    r"|sqs:(Create|Delete|Purge)Queue|sqs:SetQueueAttributes|sqs:ListQueues"
    r"|dynamodb:(Create|Delete|Update)Table|dynamodb:UpdateTimeToLive|dynamodb:ListTables"
    r"|events:(Put|Delete)Rule|events:(Put|Remove)Targets)$"
)
POISON = "not an S3 event"
ALERT_TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:photon-archive-alerts"
MOTO_CANNOT_TELL = {
    "TrackExposureExpiry": "its dynamodb:UpdateItem is also granted on info-images, and moto authorizes "
    "DynamoDB requests against '*', never a table",
}


def shipped_policy() -> dict[str, Any]:
    """The policy file with moto's account and region put in, as the README says to do."""
    text = POLICY_FILE.read_text().replace("ACCOUNT_ID", ACCOUNT).replace("REGION", REGION)
    policy: dict[str, Any] = json.loads(text)
    return policy


SIDS = [statement["Sid"] for statement in shipped_policy()["Statement"]]


def _list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def without(policy: dict[str, Any], sid: str) -> dict[str, Any]:
    return {**policy, "Statement": [s for s in policy["Statement"] if s["Sid"] != sid]}


def as_moto_authorizes(policy: dict[str, Any]) -> dict[str, Any]:
    """The same grants, restated for the action names and resources moto checks (see the module docstring)."""
    statements = []
    for statement in policy["Statement"]:
        actions, resources = _list(statement["Action"]), _list(statement["Resource"])
        if "sqs:GetQueueUrl" in actions:
            actions.remove("sqs:GetQueueUrl")
            statements.append(
                {**statement, "Sid": f"{statement['Sid']}Url", "Action": ["sqs:GetQueueUrl"], "Resource": "*"}
            )
        actions += [f"{a}Batch" for a in actions if a in ("sqs:SendMessage", "sqs:DeleteMessage")]
        if "s3:DeleteObject" in actions:
            resources += sorted({r.partition("/")[0] for r in resources} - set(resources))
        if all(a.startswith(("dynamodb:", "sns:")) for a in actions):
            resources = ["*"]
        statements.append({**statement, "Action": actions, "Resource": resources})
    return {**policy, "Statement": statements}


# --- IAM's rules, for what moto cannot check ------------------------------------------------------------

Request = tuple[str, str]  # (action, resource ARN), as IAM authorizes it


def _wildcard(pattern: str, value: str, ignore_case: bool = False) -> bool:
    regex = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(regex, value, re.IGNORECASE if ignore_case else 0) is not None


def grants(statement: dict[str, Any], request: Request) -> bool:
    action, resource = request
    return (
        statement["Effect"] == "Allow"
        and any(_wildcard(a, action, ignore_case=True) for a in _list(statement["Action"]))
        and any(_wildcard(r, resource) for r in _list(statement["Resource"]))
    )


def allows(policy: dict[str, Any], request: Request) -> bool:
    return any(grants(statement, request) for statement in policy["Statement"])


def iam_requests(service: str, operation: str, params: dict[str, Any]) -> list[Request]:
    """What IAM authorizes for one API call (the Service Authorization Reference of S3, SQS, DynamoDB)."""
    if service == "s3":
        bucket = f"arn:aws:s3:::{params['Bucket']}"
        if operation in ("GetObject", "HeadObject"):
            return [("s3:GetObject", f"{bucket}/{params['Key']}")]
        if operation == "PutObject":
            return [("s3:PutObject", f"{bucket}/{params['Key']}")]
        if operation == "ListObjectsV2":
            return [("s3:ListBucket", bucket)]
        if operation == "DeleteObjects":
            return [("s3:DeleteObject", f"{bucket}/{o['Key']}") for o in params["Delete"]["Objects"]]
    if service == "sqs":
        action = operation.removesuffix("Batch")
        if action in ("GetQueueUrl", "ReceiveMessage", "SendMessage", "DeleteMessage", "GetQueueAttributes"):
            name = params["QueueName"] if action == "GetQueueUrl" else params["QueueUrl"].rpartition("/")[2]
            return [(f"sqs:{action}", f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}")]
    if service == "sns" and operation == "Publish":
        return [("sns:Publish", params["TopicArn"])]
    if service == "dynamodb" and operation in (
        "DescribeTable",
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Scan",
        "BatchWriteItem",
    ):
        tables = list(params["RequestItems"]) if operation == "BatchWriteItem" else [params["TableName"]]
        return [(f"dynamodb:{operation}", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{t}") for t in tables]
    return [(f"{service}:{operation}", "(a call this test does not know how IAM authorizes)")]


@dataclass(frozen=True)
class Call:
    operation: str
    requests: tuple[Request, ...]
    denied: bool
    ranged: bool = False


def is_access_denied(error: ClientError) -> bool:
    # moto answers SQS and DynamoDB's JSON protocol with an XML error, which botocore cannot parse: the
    # code is then the HTTP status and the message the whole XML body. A refused HEAD has no body at all.
    details = error.response.get("Error", {})
    text = f"{details.get('Code')} {details.get('Message')}"
    return "AccessDenied" in text or text == "403 Forbidden"


@dataclass
class Recorder:
    """Every AWS call made while ``on``, with whether it was refused."""

    on: bool = False
    calls: list[Call] = field(default_factory=list)

    def spy(self, original: Callable[..., Any]) -> Callable[..., Any]:
        recorder = self

        def make_api_call(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
            if not recorder.on:
                return original(client, operation, params)
            requests = tuple(iam_requests(client.meta.service_model.service_name, operation, params))
            ranged = "Range" in params
            try:
                response = original(client, operation, params)
            except ClientError as error:
                recorder.calls.append(Call(operation, requests, is_access_denied(error), ranged))
                raise
            refused = [e for e in response.get("Errors", []) if e.get("Code") == "AccessDenied"]
            recorder.calls.append(Call(operation, requests, bool(refused), ranged))
            return response

        return make_api_call

    @contextmanager
    def recording(self) -> Iterator[Recorder]:
        self.on = True
        try:
            yield self
        finally:
            self.on = False

    @property
    def requests(self) -> list[Request]:
        return [request for call in self.calls for request in call.requests]

    @property
    def denied(self) -> list[Call]:
        return [call for call in self.calls if call.denied]


# --- the server and one scenario's stage ---------------------------------------------------------------


@dataclass
class IamServer:
    emulator: Emulator

    def _threshold(self, count: str) -> None:
        request = urllib.request.Request(
            f"{self.emulator.endpoint_url}/moto-api/reset-auth",
            data=count.encode(),
            method="POST",
            headers={"Content-Type": "text/plain"},
        )
        with urllib.request.urlopen(request, timeout=10):
            pass

    def unchecked(self) -> None:
        """From now on no request is authenticated or authorized: the operator's window."""
        self._threshold("inf")

    def enforcing(self) -> None:
        """From now on every request is checked against IAM."""
        self._threshold("0")


@pytest.fixture(scope="module")
def iam_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IamServer]:
    """A moto server of this module's own, checking every request against IAM from the first."""
    log = tmp_path_factory.mktemp("iam-emulator") / "moto.log"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("INITIAL_NO_AUTH_ACTION_COUNT", "0")
        emulator = Emulator(log_path=log).start()
    try:
        yield IamServer(emulator)
    finally:
        emulator.stop()


@cache
def uploads() -> tuple[SampleFile, ...]:
    """What the observatories upload for the scenario; made once, the bytes are deterministic."""
    batches = [
        sample_exposures(night=NIGHT, count=1, data_type="EP"),
        sample_exposures(night=NIGHT, count=1, data_type="EP", first_counter=2, files=["fits_small"]),
        sample_exposures(night=NIGHT, count=1, prefix="info-images", channel=2),
        sample_exposures(night=NIGHT, count=1, prefix="info-images", first_counter=2, files=["txt"]),
        sample_exposures(night=NIGHT, count=1, prefix="allsky", files=["txt"]),
    ]
    return tuple(file for batch in batches for file in batch)


def _info_image_without_channel() -> str:
    (key,) = [f.key for f in uploads() if f.key.startswith("info-images/") and not f.metadata]
    return parse_key(key).base_filename


@cache
def _operator() -> boto3.session.Session:
    # One session for every operator client: a session loads each service's model once.
    return boto3.session.Session(
        aws_access_key_id=EMULATOR_ENVIRONMENT["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=EMULATOR_ENVIRONMENT["AWS_SECRET_ACCESS_KEY"],
        region_name=REGION,
    )


@dataclass
class Stage:
    """A provisioned, seeded server, the system's settings and a Dagster instance for one scenario."""

    server: IamServer
    settings: Settings
    instance: DagsterInstance
    definitions: Definitions
    recorder: Recorder

    def operator(self, service: str) -> Any:
        """A client for the operator's window; refused once the server enforces IAM."""
        return _operator().client(service, endpoint_url=self.server.emulator.endpoint_url)

    def tick(self, sensor: Any) -> Any:
        context = build_sensor_context(instance=self.instance, resources=resources_for(self.settings))
        return sensor(context)


def fresh_process() -> None:
    """Forget the clients and queue URLs a process keeps: they are cached per endpoint and region, not
    per credentials, and every scenario must make its calls (GetQueueUrl too) as a new process would."""
    clients.forget_clients()
    queues._queue_url.cache_clear()


@pytest.fixture(scope="module")
def instance() -> Iterator[DagsterInstance]:
    """One Dagster instance for the module: no scenario reads another's runs or ticks."""
    with instance_for_test() as dagster_instance:
        yield dagster_instance


@contextmanager
def staged(
    server: IamServer, instance: DagsterInstance, policy: dict[str, Any], directory: Path
) -> Iterator[Stage]:
    """Reset, provision and seed as the operator, then leave the system only ``policy``'s user."""
    with pytest.MonkeyPatch.context() as patch:
        server.emulator.reset()
        server.unchecked()
        patch.setenv("AWS_ENDPOINT_URL", server.emulator.endpoint_url)
        patch.setenv("AWS_DEFAULT_REGION", REGION)
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            patch.setenv(name, EMULATOR_ENVIRONMENT[name])
        for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE"):
            patch.delenv(name, raising=False)
        fresh_process()
        database_url = f"sqlite:///{directory / 'catalog.sqlite'}"
        upgrade(database_url)
        settings = Settings(
            state_dir=str(directory / "state"), database_url=database_url, alert_topic=ALERT_TOPIC
        )
        provision(settings)
        _operator().client("sns", endpoint_url=server.emulator.endpoint_url).create_topic(
            Name=ALERT_TOPIC.rpartition(":")[2]
        )
        recorder = Recorder()
        patch.setattr(BaseClient, "_make_api_call", recorder.spy(BaseClient._make_api_call))
        stage = Stage(server, settings, instance, build_definitions(settings), recorder)
        _seed(stage)

        iam = stage.operator("iam")
        iam.create_user(UserName="photon-archive")
        arn = iam.create_policy(
            PolicyName="photon-archive-runtime", PolicyDocument=json.dumps(as_moto_authorizes(policy))
        )["Policy"]["Arn"]
        iam.attach_user_policy(UserName="photon-archive", PolicyArn=arn)
        key = iam.create_access_key(UserName="photon-archive")["AccessKey"]
        server.enforcing()
        patch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
        patch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
        fresh_process()
        try:
            yield stage
        finally:
            server.unchecked()
            fresh_process()


def _seed(stage: Stage) -> None:
    s3, sqs = stage.operator("s3"), stage.operator("sqs")
    for file in uploads():
        s3.put_object(
            Bucket=stage.settings.bucket,
            Key=file.key,
            Body=file.body,
            ContentType=file.content_type,
            Metadata=file.metadata,
        )
    stage.operator("dynamodb").put_item(
        TableName=stage.settings.info_images_table,
        Item={"pk": {"S": "sro#metadata"}, "channel3": {"S": _info_image_without_channel()}},
    )
    url = sqs.get_queue_url(QueueName=stage.settings.event_queue)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=POISON)


# --- running the system --------------------------------------------------------------------------------


class StepFailed(Exception):
    pass


RunJob = Callable[[Stage, str, dict[str, Any]], None]


def in_process(stage: Stage, job_name: str, run_config: dict[str, Any]) -> None:
    """The real job, as the run launcher runs it (with its retry policies)."""
    job = stage.definitions.resolve_job_def(job_name)
    result = job.execute_in_process(run_config=run_config, instance=stage.instance, raise_on_error=False)
    if not result.success:
        errors = [e.step_failure_data.error for e in result.all_events if e.is_step_failure]
        raise StepFailed(f"{job_name}: " + "\n".join(e.to_string() for e in errors if e))


def op_by_op(stage: Stage, job_name: str, run_config: dict[str, Any]) -> None:
    """The job's ops invoked one after another with the job's resources and config: the same work,
    but an error surfaces at once instead of after the ops' retry policies have waited it out."""
    job = stage.definitions.resolve_job_def(job_name)
    dependencies = job.graph.dependency_structure
    resources = resources_for(stage.settings)
    outputs: dict[str, Any] = {}
    for node in job.graph.nodes_in_topological_order:
        inputs = {
            node_input.input_name: outputs[upstream[0].node_name]
            for node_input, upstream in dependencies.input_to_upstream_outputs_for_node(node.name).items()
        }
        config = run_config.get("ops", {}).get(node.name, {}).get("config")
        context = build_op_context(resources=resources, op_config=config, instance=stage.instance)
        try:
            value = node.definition(context, **inputs)
        except Exception as error:
            raise StepFailed(f"{job_name}.{node.name}: {type(error).__name__}: {error}") from error
        outputs[node.name] = value.value if isinstance(value, Output) else value


def run_scenario(stage: Stage, run_job: RunJob) -> list[str]:
    """Everything the running system does, in order; returns the steps done."""
    done = []

    def step(name: str, action: Callable[..., Any], *args: Any) -> Any:
        try:
            result = action(*args)
        except StepFailed:
            raise
        except Exception as error:
            raise StepFailed(f"{name}: {type(error).__name__}: {error}") from error
        done.append(name)
        return result

    events = step("s3_event_queue tick", stage.tick, s3_event_queue)
    step("dead_letter_alerts tick", stage.tick, dead_letter_alerts)  # the poison message: an alert
    step("s3_prefix_scan tick", stage.tick, s3_prefix_scan)
    assert isinstance(events, SensorResult) and events.run_requests
    for request in events.run_requests:
        step(f"ingest {request.tags['photon_archive/prefix']}", run_job, stage, "ingest", request.run_config)
    replay = {"ops": {"replay_objects": {"config": {"prefix": "data", "force": True}}}}
    step("replay", run_job, stage, "replay", replay)
    later = (datetime.now(UTC) + timedelta(days=60)).isoformat()
    for job_name, op_name in MAINTENANCE.items():
        step(job_name, run_job, stage, job_name, {"ops": {op_name: {"config": {"now": later}}}})
    return done


@dataclass(frozen=True)
class FullRun:
    steps: list[str]
    calls: list[Call]
    bucket_left: list[str]
    tables_left: dict[str, list[dict[str, Any]]]
    dead_letters: list[dict[str, Any]]
    notifications: list[dict[str, Any]]


@pytest.fixture(scope="module")
def full_run(
    iam_server: IamServer, instance: DagsterInstance, tmp_path_factory: pytest.TempPathFactory
) -> FullRun:
    """The scenario with the real jobs under the shipped policy, and what it left behind."""
    with staged(iam_server, instance, shipped_policy(), tmp_path_factory.mktemp("full")) as stage:
        with stage.recorder.recording():
            steps = run_scenario(stage, in_process)
        iam_server.unchecked()
        settings = stage.settings
        s3, sqs, dynamodb = stage.operator("s3"), stage.operator("sqs"), stage.operator("dynamodb")
        listing = s3.list_objects_v2(Bucket=settings.bucket).get("Contents", [])
        tables = {
            table: dynamodb.scan(TableName=table)["Items"]
            for table in (settings.upload_log_table, settings.expiration_table, settings.info_images_table)
        }

        def drain(queue: str) -> list[dict[str, Any]]:
            url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
            messages = []
            while batch := sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
            ).get("Messages", []):
                messages += batch
                for message in batch:
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            return messages

        return FullRun(
            steps,
            list(stage.recorder.calls),
            [item["Key"] for item in listing],
            tables,
            drain(settings.event_dead_letter_queue),
            [json.loads(m["Body"]) for m in drain(settings.datastream_queue)],
        )


# --- the policy document -------------------------------------------------------------------------------


def test_the_policy_is_allow_only_one_service_and_purpose_per_statement_and_provisions_nothing() -> None:
    raw = json.loads(POLICY_FILE.read_text())
    policy = shipped_policy()

    assert raw["Version"] == "2012-10-17"
    assert len(SIDS) == len(set(SIDS)) and all(re.fullmatch(r"[A-Za-z0-9]+", sid) for sid in SIDS)
    for statement in policy["Statement"]:
        actions, resources = _list(statement["Action"]), _list(statement["Resource"])
        assert statement["Effect"] == "Allow" and set(statement) == {"Sid", "Effect", "Action", "Resource"}
        assert len({a.partition(":")[0] for a in actions}) == 1, statement["Sid"]
        assert all(a.partition(":")[0] in SERVICES and "*" not in a for a in actions), statement["Sid"]
        assert not [a for a in actions if PROVISIONING.match(a)], statement["Sid"]
        assert "*" not in resources and all(r.startswith("arn:aws:") for r in resources), statement["Sid"]
    placeholders = {"ACCOUNT_ID", "REGION"}
    for statement in raw["Statement"]:
        for resource in _list(statement["Resource"]):
            service, region, account = resource.split(":")[2:5]
            expected = ("", "") if service == "s3" else ("REGION", "ACCOUNT_ID")
            assert (region, account) == expected, resource
    assert not any(p in json.dumps(policy) for p in placeholders)


# --- under the shipped policy --------------------------------------------------------------------------


def test_sensors_ingest_replay_and_maintenance_all_run_under_the_policy(full_run: FullRun) -> None:
    assert full_run.steps == [
        "s3_event_queue tick",
        "dead_letter_alerts tick",
        "s3_prefix_scan tick",
        "ingest allsky",
        "ingest data",
        "ingest info-images",
        "replay",
        *MAINTENANCE,
    ]
    assert full_run.calls and not [call for call in full_run.calls if call.denied]
    assert any(call.ranged for call in full_run.calls)  # the fits-only exposure's header
    written = {
        r.partition(":::")[2] for c in full_run.calls if c.operation == "PutObject" for _, r in c.requests
    }
    medium_jpgs = [parse_key(f.key) for f in uploads() if f.key.endswith("10.jpg")]
    assert written == {f"photonranch-001/{thumbnail_key(name)}" for name in medium_jpgs}
    # Like everything else, the thumbnails expired: the bucket is empty again.
    assert full_run.bucket_left == []
    assert [item["pk"]["S"] for items in full_run.tables_left.values() for item in items] == ["sro#metadata"]
    (dead_letter,) = full_run.dead_letters
    assert dead_letter["Body"] == POISON
    assert "not valid JSON" in dead_letter["MessageAttributes"]["reason"]["StringValue"]
    notified = {(n["data"]["s3_directory"], n["data"]["base_filename"]) for n in full_run.notifications}
    assert notified == {(parse_key(f.key).prefix, parse_key(f.key).base_filename) for f in uploads()}


def test_every_call_the_running_system_makes_is_allowed_by_the_policy(full_run: FullRun) -> None:
    policy = shipped_policy()
    requests = {request for call in full_run.calls for request in call.requests}
    assert sorted(r for r in requests if not allows(policy, r)) == []


def test_every_action_and_resource_the_policy_grants_is_used(full_run: FullRun) -> None:
    requests = {request for call in full_run.calls for request in call.requests}
    unused = []
    for statement in shipped_policy()["Statement"]:
        used = [r for r in requests if grants(statement, r)]
        for action in _list(statement["Action"]):
            if not any(_wildcard(action, a, ignore_case=True) for a, _ in used):
                unused.append((statement["Sid"], action))
        for resource in _list(statement["Resource"]):
            if not any(_wildcard(resource, r) for _, r in used):
                unused.append((statement["Sid"], resource))
    assert unused == []


@pytest.mark.parametrize("sid", SIDS)
def test_each_statement_is_the_only_one_allowing_some_call(full_run: FullRun, sid: str) -> None:
    """Checked with IAM's rules on the calls the system made, tables and queue names included."""
    policy = shipped_policy()
    requests = {request for call in full_run.calls for request in call.requests}
    only_this = [r for r in requests if allows(policy, r) and not allows(without(policy, sid), r)]
    assert only_this


def test_the_scenario_op_by_op_passes_under_the_policy_and_asks_what_the_jobs_ask(
    full_run: FullRun, iam_server: IamServer, instance: DagsterInstance, tmp_path: Path
) -> None:
    """The form the statement-by-statement tests run in, shown sound when nothing is missing."""
    with staged(iam_server, instance, shipped_policy(), tmp_path) as stage, stage.recorder.recording():
        steps = run_scenario(stage, op_by_op)

    assert steps == full_run.steps
    assert stage.recorder.calls and not stage.recorder.denied
    # The same requests of IAM as the real jobs make: the same scenario, in another form.
    assert set(stage.recorder.requests) == {r for call in full_run.calls for r in call.requests}


# --- each statement taken away -------------------------------------------------------------------------


@pytest.mark.parametrize("sid", [sid for sid in SIDS if sid not in MOTO_CANNOT_TELL])
def test_without_the_statement_moto_refuses_the_scenario(
    iam_server: IamServer, instance: DagsterInstance, tmp_path: Path, sid: str
) -> None:
    policy = shipped_policy()
    (removed,) = [s for s in policy["Statement"] if s["Sid"] == sid]

    with (
        staged(iam_server, instance, without(policy, sid), tmp_path) as stage,
        stage.recorder.recording(),
        pytest.raises(StepFailed) as failure,
    ):
        run_scenario(stage, op_by_op)

    assert re.search(r"AccessDenied|\(403\)", str(failure.value)), failure.value
    denied = stage.recorder.denied
    assert denied, "the scenario failed, but on no refused call"
    # Every refusal is of a call the removed statement allowed, and nothing else was refused.
    assert all(any(grants(removed, r) for r in call.requests) for call in denied), denied


def test_moto_is_blind_only_to_statements_whose_dynamodb_actions_another_statement_grants() -> None:
    policy = shipped_policy()
    for sid in MOTO_CANNOT_TELL:
        (statement,) = [s for s in policy["Statement"] if s["Sid"] == sid]
        others = without(policy, sid)["Statement"]
        assert all(a.startswith("dynamodb:") for a in _list(statement["Action"]))
        assert all(any(a in _list(o["Action"]) for o in others) for a in _list(statement["Action"]))


def test_a_refused_action_fails_the_step_at_once_instead_of_retrying(
    iam_server: IamServer, instance: DagsterInstance, tmp_path: Path
) -> None:
    keys = [file.key for file in uploads() if file.key.startswith("data/")]

    with staged(iam_server, instance, without(shipped_policy(), "NotifyDatastream"), tmp_path) as stage:
        job = stage.definitions.resolve_job_def("ingest")
        result = job.execute_in_process(
            run_config=ingest_run_config([ObjectRef(key) for key in keys]),
            instance=stage.instance,
            raise_on_error=False,
        )

    assert not result.success
    assert [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"] == []
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert failure.step_key == "notify_datastream"
    assert failure.step_failure_data.error is not None
    assert "AWS refused an action" in failure.step_failure_data.error.message
