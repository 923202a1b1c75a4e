"""Announces written metric objects on EventBridge ("Pipeline Metrics Written") so users can
hook their own consumers (refresh a SPICE dataset, copy the file elsewhere...).

An object's ``pipelines`` grows with its batch (up to 10,000 events, pipeline names up to 100
characters: about 1 MB), past EventBridge's 256 KiB entry limit; such an object is announced in
several entries that each fit (``EventPublisher.split_detail``: ``pipelines`` cut in order,
``part``/``parts`` added; one entry, ``part`` 1 of 1, for every ordinary object).
"""

from collections.abc import Sequence
from typing import Any, Final

from datalake_shared.event_publisher import EventPublisher, PutOutcome, failure_of
from pipeline_metrics.service import MetricsObject

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

    def publish_written(
        self, bucket: str, objects: Sequence[MetricsObject]
    ) -> dict[str, PutOutcome]:
        parts = [
            self.publisher.split_detail(
                METRICS_WRITTEN,
                written_detail(bucket, obj),
                "pipelines",
                [f"arn:aws:s3:::{bucket}/{obj.key}"],
            )
            for obj in objects
        ]
        outcomes = iter(
            self.publisher.put_each(
                METRICS_WRITTEN, [event for events in parts for event in events]
            )
        )
        failures: dict[str, PutOutcome] = {}
        for obj, events in zip(objects, parts, strict=True):
            failure = failure_of([next(outcomes) for _ in events])
            if failure is not None:
                failures[obj.key] = failure
        return failures
