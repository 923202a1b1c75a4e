"""Announces log events with sensitive statements on EventBridge ("Sensitive Query Detected").

One log event can hold a whole script (a migration: thousands of statements), and an entry
listing them all passes EventBridge's 256 KiB limit (2,000 DROP TABLEs: 295 KB). So the
statements are split in order over as many entries as needed, each under the limit
(``EventPublisher.split_detail``): every entry carries the log event's who/where, the audit
object's bucket and key, ``statement_count`` (all of the log event's statements), ``part`` and
``parts``; the parts' ``statements`` joined are the log event's, in order, so none is lost,
and the same log event is always split the same way. A split keeps each statement in the event
(rules can match on its type or category) where an event holding only the audit object's key
would make every consumer read S3.
"""

from collections.abc import Sequence
from typing import Any, Final

from datalake_shared.event_publisher import EventPublisher, PutOutcome, failure_of
from redshift_audit.service import AuditRecord, LogSource

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
        "statement_count": len(records),
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

    def announce(
        self, source: LogSource, records: Sequence[AuditRecord], key: str
    ) -> PutOutcome | None:
        """None when every part was put, else what was not (``too_large``: can never be)."""
        events = self.publisher.split_detail(
            SENSITIVE_QUERY_DETECTED,
            detected_detail(source, records, self.bucket, key),
            "statements",
            [f"arn:aws:s3:::{self.bucket}/{key}"],
        )
        return failure_of(self.publisher.put_each(SENSITIVE_QUERY_DETECTED, events))
