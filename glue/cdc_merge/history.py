"""Processing history (HistoryTable): one item per table per run, whatever happened to it.

Keyed (source_table, run_key = "<started_at>#<run_id>"). The pipeline's names fit DynamoDB's
keys (configured tables up to 1,024 bytes, run ids up to 80 characters), but a batch passed to
the job by hand may carry anything, and its failure must still be recorded: a key part DynamoDB
would refuse (partition key over 2,048 bytes, sort key over 1,024) is cut and hashed. The item
keeps run_id whole; the error is cut to MAX_ERROR_CHARS.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cdc_merge.dynamo_table import DynamoTable
from datalake_contracts import processing_history as layout
from datalake_contracts.dynamodb_keys import (
    MAX_PARTITION_KEY_BYTES,
    MAX_SORT_KEY_BYTES,
    bounded_key,
)
from datalake_contracts.processing_history import MAX_ERROR_CHARS, Status

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef
    from mypy_boto3_s3 import S3Client

__all__ = ["MAX_ERROR_CHARS", "DynamoHistory", "HistoryRecord", "S3TableRuns", "Status"]


@dataclass(frozen=True)
class HistoryRecord:
    source_table: str
    run_id: str
    batch_id: str
    status: Status
    started_at: datetime
    finished_at: datetime
    files: int = 0
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    full_load: bool = False
    error: str | None = None

    @property
    def duration_ms(self) -> int:
        return int((self.finished_at - self.started_at).total_seconds() * 1000)

    @property
    def run_key(self) -> str:
        return f"{self.started_at.isoformat()}#{self.run_id}"

    def as_json(self, job_run_id: str = "") -> dict[str, Any]:
        """The record with the item's attribute names, as plain JSON (its table-runs line)."""
        record: dict[str, Any] = {
            layout.SOURCE_TABLE: self.source_table,
            layout.RUN_KEY: self.run_key,
            layout.RUN_ID: self.run_id,
            layout.BATCH_ID: self.batch_id,
            layout.STATUS: self.status,
            layout.STARTED_AT: self.started_at.isoformat(),
            layout.FINISHED_AT: self.finished_at.isoformat(),
            layout.DURATION_MS: self.duration_ms,
            layout.FILES: self.files,
            layout.INSERTED: self.inserted,
            layout.UPDATED: self.updated,
            layout.DELETED: self.deleted,
            layout.FULL_LOAD: self.full_load,
        }
        if job_run_id:
            record[layout.JOB_RUN_ID] = job_run_id
        if self.error:
            record[layout.ERROR] = self.error[:MAX_ERROR_CHARS]
        return record


class DynamoHistory(DynamoTable):
    """The history table; ``job_run_id`` (the Glue run writing) goes on every item."""

    def __init__(
        self, table_name: str, client: "DynamoDBClient | None" = None, job_run_id: str = ""
    ) -> None:
        super().__init__(table_name, client)
        self.job_run_id = job_run_id
        self.recorded: list[HistoryRecord] = []  # this run's records, for S3TableRuns

    def item(self, record: HistoryRecord) -> dict[str, "AttributeValueTypeDef"]:
        item: dict[str, AttributeValueTypeDef] = {}
        for name, value in record.as_json(self.job_run_id).items():
            if isinstance(value, bool):
                item[name] = {"BOOL": value}
            elif isinstance(value, int):
                item[name] = {"N": str(value)}
            else:
                item[name] = {"S": value}
        # Keys DynamoDB would refuse are cut and hashed (see the module docstring).
        item[layout.SOURCE_TABLE] = {"S": bounded_key(record.source_table, MAX_PARTITION_KEY_BYTES)}
        item[layout.RUN_KEY] = {"S": bounded_key(record.run_key, MAX_SORT_KEY_BYTES)}
        return item

    def record(self, record: HistoryRecord) -> None:
        self.client.put_item(TableName=self.table_name, Item=self.item(record))
        self.recorded.append(record)


class S3TableRuns:
    """The run's history records as one JSON-lines object under ``location`` (s3://bucket/prefix/),
    which TableRunsTable lets Athena read (the per-table status named query)."""

    def __init__(self, location: str, client: "S3Client | None" = None) -> None:
        if not location.startswith("s3://"):
            raise ValueError("--table_runs_location must be an s3:// location")
        self.bucket, _, self.prefix = location.removeprefix("s3://").partition("/")
        self._client = client

    @property
    def client(self) -> "S3Client":
        if self._client is None:
            import boto3  # noqa: PLC0415 - only on the first write

            self._client = boto3.client("s3")
        return self._client

    def write(self, records: list[HistoryRecord], batch_id: str, job_run_id: str) -> str | None:
        """Puts the records (none: nothing written); returns the key. The day partition is the
        last record's finish day (UTC): the day the batch ended."""
        if not records:
            return None
        day = records[-1].finished_at.date().isoformat()
        key = layout.table_runs_key(self.prefix, day, batch_id, job_run_id)
        body = "".join(
            json.dumps(record.as_json(job_run_id), sort_keys=True) + "\n" for record in records
        )
        self.client.put_object(
            Bucket=self.bucket, Key=key, Body=body.encode(), ContentType="application/x-ndjson"
        )
        return key
