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
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from datalake_shared.json_lines import JsonLinesObjects, dated_key, json_lines
from redshift_audit.service import AuditRecord

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_SAFE_ID: Final = re.compile(r"[A-Za-z0-9._-]{1,128}")


def object_id(log_event_id: str) -> str:
    """CloudWatch log event ids are digits; anything else is hashed to stay a safe key."""
    if _SAFE_ID.fullmatch(log_event_id):
        return log_event_id
    return "h-" + hashlib.sha256(log_event_id.encode()).hexdigest()[:32]


def audit_key(prefix: str, date: str, log_event_id: str) -> str:
    return dated_key(prefix, date, object_id(log_event_id))


class S3AuditStore:
    def __init__(self, bucket: str, prefix: str, client: "S3Client | None" = None) -> None:
        self.objects = JsonLinesObjects(bucket, prefix, client)

    def put(self, log_event_id: str, date: str, records: Sequence[AuditRecord]) -> str:
        body = json_lines(record.as_json() for record in records)
        return self.objects.put(audit_key(self.objects.prefix, date, log_event_id), body)
