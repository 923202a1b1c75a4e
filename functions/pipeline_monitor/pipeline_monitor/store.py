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

from typing import TYPE_CHECKING

from datalake_shared.json_lines import JsonLinesObjects, dated_key, json_lines
from pipeline_monitor.records import MonitorRecord

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def record_key(prefix: str, record: MonitorRecord) -> str:
    return dated_key(prefix, record.event_date, record.event_id)


def record_line(record: MonitorRecord) -> bytes:
    """The record as one JSON line (sorted keys: the same record gives the same bytes)."""
    return json_lines([record.as_json()])


class S3MonitorStore:
    def __init__(self, bucket: str, prefix: str, client: "S3Client | None" = None) -> None:
        self.objects = JsonLinesObjects(bucket, prefix, client)

    def put(self, record: MonitorRecord) -> str:
        return self.objects.put(record_key(self.objects.prefix, record), record_line(record))
