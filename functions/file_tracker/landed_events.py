"""Announces tracked files on EventBridge ("File Landed") so users can hook their own consumers."""

from typing import Any, Final

from file_tracking import TrackedFile

from datalake_shared.event_publisher import EventPublisher

COMPONENT: Final = "file-tracker"
FILE_LANDED: Final = "File Landed"


def landed_detail(file: TrackedFile) -> dict[str, Any]:
    return {
        "source_table": file.source_table,
        "file_id": file.file_id,
        "bucket": file.bucket,
        "key": file.key,
        "size": file.size,
        "load_type": file.load_type,
        "event_time": file.event_time,
        "schema_name": file.schema_name,
        "table_name": file.table_name,
    }


class EventBridgeLandedPublisher:
    """Publishes one "File Landed" event per file with source "datalake-events.file-tracker"."""

    def __init__(self, publisher: EventPublisher) -> None:
        self.publisher = publisher

    @classmethod
    def for_bus(cls, bus_name: str) -> "EventBridgeLandedPublisher":
        return cls(EventPublisher(component=COMPONENT, bus_name=bus_name))

    def publish_landed(self, file: TrackedFile) -> None:
        self.publisher.publish(
            FILE_LANDED,
            [landed_detail(file)],
            resources=[f"arn:aws:s3:::{file.bucket}/{file.key}"],
        )
