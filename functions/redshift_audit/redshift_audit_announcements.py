"""Announces log events with sensitive statements on EventBridge ("Sensitive Query Detected")."""

from collections.abc import Sequence
from typing import Any, Final

from redshift_auditing import AuditRecord, LogSource

from datalake_shared.event_publisher import Event, EventPublisher

COMPONENT: Final = "redshift-audit"
SENSITIVE_QUERY_DETECTED: Final = "Sensitive Query Detected"


def detected_detail(
    source: LogSource, records: Sequence[AuditRecord], bucket: str, key: str
) -> dict[str, Any]:
    first = records[0]
    return {
        "cluster": source.cluster,
        "log_group": source.log_group,
        "log_event_id": first.log_event_id,
        "database": first.database,
        "user": first.user,
        "query_time": first.query_time,
        "statements": [
            {
                "audit_id": record.audit_id,
                "category": record.category,
                "statement_type": record.statement_type,
                "object_name": record.object_name,
                "parse_status": record.parse_status,
            }
            for record in records
        ],
        "bucket": bucket,
        "key": key,
    }


class EventBridgeAuditAnnouncer:
    """Source "datalake-events.redshift-audit". The SQL stays in the audit table (it may be
    long); the event says what, who, where and points at the record."""

    def __init__(self, publisher: EventPublisher, bucket: str) -> None:
        self.publisher = publisher
        self.bucket = bucket

    @classmethod
    def for_bus(cls, bus_name: str, bucket: str) -> "EventBridgeAuditAnnouncer":
        return cls(EventPublisher(component=COMPONENT, bus_name=bus_name), bucket)

    def announce(self, source: LogSource, records: Sequence[AuditRecord], key: str) -> str | None:
        detail = detected_detail(source, records, self.bucket, key)
        [outcome] = self.publisher.put_each(
            SENSITIVE_QUERY_DETECTED, [Event(detail, [f"arn:aws:s3:::{self.bucket}/{key}"])]
        )
        return outcome.error
