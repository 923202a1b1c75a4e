"""Announces written metric objects on EventBridge ("Pipeline Metrics Written") so users can
hook their own consumers (refresh a SPICE dataset, copy the file elsewhere...)."""

from collections.abc import Sequence
from typing import Any, Final

from pipeline_metrics_writer import MetricsObject

from datalake_shared.event_publisher import Event, EventPublisher

COMPONENT: Final = "pipeline-metrics"
METRICS_WRITTEN: Final = "Pipeline Metrics Written"


def written_detail(bucket: str, obj: MetricsObject) -> dict[str, Any]:
    return {
        "bucket": bucket,
        "key": obj.key,
        "dt": obj.day,
        "rows": len(obj.rows),
        "pipelines": obj.pipelines,
        "first_event_time": obj.rows[0].event_time,
        "last_event_time": obj.rows[-1].event_time,
    }


class EventBridgeWrittenPublisher:
    """One event per object, source "datalake-events.pipeline-metrics", ten per PutEvents."""

    def __init__(self, publisher: EventPublisher) -> None:
        self.publisher = publisher

    @classmethod
    def for_bus(cls, bus_name: str) -> "EventBridgeWrittenPublisher":
        return cls(EventPublisher(component=COMPONENT, bus_name=bus_name))

    def publish_written(self, bucket: str, objects: Sequence[MetricsObject]) -> dict[str, str]:
        outcomes = self.publisher.put_each(
            METRICS_WRITTEN,
            [
                Event(written_detail(bucket, obj), [f"arn:aws:s3:::{bucket}/{obj.key}"])
                for obj in objects
            ],
        )
        return {
            obj.key: outcome.error
            for obj, outcome in zip(objects, outcomes, strict=True)
            if outcome.error is not None
        }
