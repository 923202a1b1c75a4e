"""Announces every recorded pipeline event on EventBridge ("Pipeline Event Recorded").

The detail is the stored record (its error text clipped to 4,000 characters, an unknown
event's raw text to 2,000) plus where it is stored: a few KB, far under EventBridge's 256 KiB.
Should one still not fit, the publisher refuses it (``PutOutcome.too_large``) and the handler
fails the invocation so that it ends in the OnFailure destination, not only in the logs.
"""

from typing import Any, Final

from datalake_shared.event_publisher import Event, EventPublisher, PutOutcome
from pipeline_monitor.records import MonitorRecord
from pipeline_monitor.service import AlertStatus

COMPONENT: Final = "pipeline-monitor"
PIPELINE_EVENT_RECORDED: Final = "Pipeline Event Recorded"


def recorded_detail(
    record: MonitorRecord, bucket: str, key: str, alert: AlertStatus
) -> dict[str, Any]:
    return {**record.as_json(), "bucket": bucket, "key": key, "alert": str(alert)}


class EventBridgeRecordAnnouncer:
    """Source "datalake-events.pipeline-monitor"; never raises (the record is the main work)."""

    def __init__(self, publisher: EventPublisher, bucket: str) -> None:
        self.publisher = publisher
        self.bucket = bucket

    @classmethod
    def for_bus(cls, bus_name: str, bucket: str) -> "EventBridgeRecordAnnouncer":
        return cls(EventPublisher(component=COMPONENT, bus_name=bus_name), bucket)

    def announce(self, record: MonitorRecord, key: str, alert: AlertStatus) -> PutOutcome | None:
        [outcome] = self.publisher.put_each(
            PIPELINE_EVENT_RECORDED,
            [
                Event(
                    recorded_detail(record, self.bucket, key, alert),
                    [f"arn:aws:s3:::{self.bucket}/{key}"],
                )
            ],
        )
        return None if outcome.ok else outcome
