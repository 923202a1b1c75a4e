"""Announces tracked files on EventBridge ("File Landed") so users can hook their own consumers."""

from collections.abc import Sequence
from typing import Any, Final

from datalake_shared.event_publisher import Event, EventPublisher
from file_tracker.service import TrackedFile

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


def object_arn(file: TrackedFile) -> str:
    return f"arn:aws:s3:::{file.bucket}/{file.key}"


class EventBridgeLandedPublisher:
    """Publishes a "File Landed" event per file with source "datalake-events.file-tracker"."""

    def __init__(self, publisher: EventPublisher) -> None:
        self.publisher = publisher

    @classmethod
    def for_bus(cls, bus_name: str) -> "EventBridgeLandedPublisher":
        return cls(EventPublisher(component=COMPONENT, bus_name=bus_name))

    def publish_landed_batch(self, files: Sequence[TrackedFile]) -> dict[str, str]:
        """One event per file, ten per PutEvents call; file_id -> error for those not put."""
        outcomes = self.publisher.put_each(
            FILE_LANDED,
            [Event(landed_detail(file), [object_arn(file)]) for file in files],
        )
        return {
            file.file_id: outcome.error
            for file, outcome in zip(files, outcomes, strict=True)
            if outcome.error is not None
        }
