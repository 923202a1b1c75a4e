"""S3 adapter: one JSON-lines object per monitored event, partitioned by date for Athena.

Key ``<prefix>dt=YYYY-MM-DD/<event_id>.json``: the date is the event's (UTC), the id the
event's own, so a redelivered event rewrites the same object with the same bytes instead of
adding a row. Athena reads them with partition projection, no crawler needed::

    CREATE EXTERNAL TABLE monitoring_events (
      event_id string, service string, resource string, run_id string, state string,
      severity string, error_message string, event_time string, console_url string,
      account string, region string, detail_type string, source string)
    PARTITIONED BY (dt string)
    ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
    LOCATION 's3://<MONITOR_BUCKET>/<MONITOR_PREFIX>'
    TBLPROPERTIES ('projection.enabled'='true', 'projection.dt.type'='date',
      'projection.dt.format'='yyyy-MM-dd', 'projection.dt.range'='2024-01-01,NOW',
      'storage.location.template'='s3://<MONITOR_BUCKET>/<MONITOR_PREFIX>dt=${dt}/')
"""

import json
from functools import cached_property
from typing import TYPE_CHECKING, Final

import boto3

from datalake_shared.s3_keys import bounded_key
from pipeline_monitor.records import MonitorRecord

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

CONTENT_TYPE: Final = "application/x-ndjson"


def record_key(prefix: str, record: MonitorRecord) -> str:
    """Within S3's 1,024 bytes whatever the prefix (settings bound it) and the id."""
    return bounded_key(f"{prefix}dt={record.event_date}/", record.event_id, ".json")


def record_line(record: MonitorRecord) -> bytes:
    """The record as one JSON line (sorted keys: the same record gives the same bytes)."""
    return (json.dumps(record.as_json(), sort_keys=True, separators=(",", ":")) + "\n").encode()


class S3MonitorStore:
    def __init__(self, bucket: str, prefix: str, client: "S3Client | None" = None) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self._client = client

    @cached_property
    def client(self) -> "S3Client":
        # Created on first use, never at import: importing needs no AWS and cold starts stay short.
        return self._client or boto3.client("s3")

    def put(self, record: MonitorRecord) -> str:
        key = record_key(self.prefix, record)
        self.client.put_object(
            Bucket=self.bucket, Key=key, Body=record_line(record), ContentType=CONTENT_TYPE
        )
        return key
