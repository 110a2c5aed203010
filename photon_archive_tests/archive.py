"""An archive on real parts, for tests: moto's server for S3/SQS/DynamoDB and a migrated PostgreSQL
catalog, with the reads a test makes of them."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from dagster import DagsterInstance, ExecuteInProcessResult
from sqlalchemy import create_engine, text

from photon_archive.aws.clients import client
from photon_archive.definitions import build_definitions
from photon_archive.defs.ingest import ingest_run_config
from photon_archive.ingest.objects import ObjectEvent, ObjectRef
from photon_archive.settings import Settings
from photon_archive_workshop.sample import sample_exposures
from photon_archive_workshop.sample_night import SAMPLE_NIGHT

__all__ = ["SAMPLE_NIGHT", "Archive"]


@dataclass
class Archive:
    settings: Settings
    instance: DagsterInstance

    def configured(self, **settings: Any) -> Archive:
        """The same archive, run with some settings changed (as their environment variables would)."""
        return Archive(replace(self.settings, **settings), self.instance)

    def put(
        self, key: str, body: bytes, content_type: str = "application/octet-stream", **metadata: str
    ) -> None:
        client("s3").put_object(
            Bucket=self.settings.bucket, Key=key, Body=body, ContentType=content_type, Metadata=metadata
        )

    def upload_sample(self, night: date = SAMPLE_NIGHT, **options: Any) -> list[str]:
        """Upload sample exposures as an observatory does (header first); return their keys."""
        keys = []
        for sample in sample_exposures(night=night, **options):
            self.put(sample.key, sample.body, sample.content_type, **sample.metadata)
            keys.append(sample.key)
        return keys

    def ref(self, key: str) -> ObjectRef:
        head = client("s3").head_object(Bucket=self.settings.bucket, Key=key)
        return ObjectRef(
            key, ObjectEvent.CREATED, head["ContentLength"], head["ETag"].strip('"'), head["LastModified"]
        )

    def ingest(self, items: Iterable[str | ObjectRef], raise_on_error: bool = True) -> ExecuteInProcessResult:
        refs = [item if isinstance(item, ObjectRef) else ObjectRef(item) for item in items]
        job = build_definitions(self.settings).resolve_job_def("ingest")
        return job.execute_in_process(
            run_config=ingest_run_config(refs), instance=self.instance, raise_on_error=raise_on_error
        )

    def query(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        engine = create_engine(self.settings.database_url)
        with engine.begin() as connection:
            rows = [dict(row._mapping) for row in connection.execute(text(sql), params)]
        engine.dispose()
        return rows

    def row(self, base_filename: str, table: str = "images") -> dict[str, Any]:
        rows = self.query(f"SELECT * FROM {table} WHERE base_filename = :b", b=base_filename)
        assert len(rows) == 1, f"{len(rows)} rows for {base_filename}"
        return rows[0]

    def ledger(self, key: str) -> dict[str, Any]:
        rows = self.query("SELECT * FROM object_ledger WHERE key = :k", k=key)
        assert len(rows) == 1, f"{len(rows)} ledger rows for {key}"
        return rows[0]

    def keys(self, prefix: str) -> list[str]:
        listing = client("s3").list_objects_v2(Bucket=self.settings.bucket, Prefix=prefix)
        return [item["Key"] for item in listing.get("Contents", [])]

    def datastream(self) -> list[dict[str, Any]]:
        """Every message on the datastream queue, drained."""
        sqs = client("sqs")
        url = sqs.get_queue_url(QueueName=self.settings.datastream_queue)["QueueUrl"]
        bodies = []
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            for message in messages:
                bodies.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return bodies

    def table_items(self, table: str) -> list[dict[str, Any]]:
        return client("dynamodb").scan(TableName=table)["Items"]
