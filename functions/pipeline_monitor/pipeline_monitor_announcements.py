"""Announces every recorded pipeline event on EventBridge ("Pipeline Event Recorded")."""

from typing import Any, Final

from pipeline_monitor_records import MonitorRecord
from pipeline_monitoring import AlertStatus

from datalake_shared.event_publisher import Event, EventPublisher

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

    def announce(self, record: MonitorRecord, key: str, alert: AlertStatus) -> str | None:
        [outcome] = self.publisher.put_each(
            PIPELINE_EVENT_RECORDED,
            [
                Event(
                    recorded_detail(record, self.bucket, key, alert),
                    [f"arn:aws:s3:::{self.bucket}/{key}"],
                )
            ],
        )
        return outcome.error
