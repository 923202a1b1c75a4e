"""S3 adapter: the audit table, one JSON-lines object per log event with sensitive statements.

Key ``<prefix>dt=YYYY-MM-DD/<log event id>.json`` (query date, UTC): a redelivered payload
rewrites the same object. Athena reads it with partition projection::

    CREATE EXTERNAL TABLE redshift_audit (
      audit_id string, log_event_id string, statement_index int, cluster string,
      log_group string, log_stream string, account string, database string, user string,
      pid string, userid string, xid string, query_time string, category string,
      statement_type string, object_name string, parse_status string, sql string)
    PARTITIONED BY (dt string)
    ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
    LOCATION 's3://<AUDIT_BUCKET>/<AUDIT_PREFIX>'
    TBLPROPERTIES ('projection.enabled'='true', 'projection.dt.type'='date',
      'projection.dt.format'='yyyy-MM-dd', 'projection.dt.range'='2024-01-01,NOW',
      'storage.location.template'='s3://<AUDIT_BUCKET>/<AUDIT_PREFIX>dt=${dt}/')
"""

import hashlib
import json
import re
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Final

import boto3

from datalake_shared.s3_keys import bounded_key
from redshift_audit.service import AuditRecord

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

CONTENT_TYPE: Final = "application/x-ndjson"
_SAFE_ID: Final = re.compile(r"[A-Za-z0-9._-]{1,128}")


def object_id(log_event_id: str) -> str:
    """CloudWatch log event ids are digits; anything else is hashed to stay a safe key."""
    if _SAFE_ID.fullmatch(log_event_id):
        return log_event_id
    return "h-" + hashlib.sha256(log_event_id.encode()).hexdigest()[:32]


def audit_key(prefix: str, date: str, log_event_id: str) -> str:
    """Within S3's 1,024 bytes whatever the prefix (settings bound it) and the id."""
    return bounded_key(f"{prefix}dt={date}/", object_id(log_event_id), ".json")


def audit_lines(records: Sequence[AuditRecord]) -> bytes:
    return "".join(
        json.dumps(record.as_json(), sort_keys=True, separators=(",", ":")) + "\n"
        for record in records
    ).encode()


class S3AuditStore:
    def __init__(self, bucket: str, prefix: str, client: "S3Client | None" = None) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self._client = client

    @cached_property
    def client(self) -> "S3Client":
        # Created on first use, never at import: importing needs no AWS and cold starts stay short.
        return self._client or boto3.client("s3")

    def put(self, log_event_id: str, date: str, records: Sequence[AuditRecord]) -> str:
        key = audit_key(self.prefix, date, log_event_id)
        self.client.put_object(
            Bucket=self.bucket, Key=key, Body=audit_lines(records), ContentType=CONTENT_TYPE
        )
        return key
