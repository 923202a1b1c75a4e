""" "Pipeline Metrics Written" within EventBridge's limits (the fake refuses what AWS refuses)."""

from typing import TYPE_CHECKING, cast

from eventbridge_fake import FakeEventsClient
from pipeline_metrics_fakes import BUCKET, PREFIX

from datalake_shared.event_publisher import EventPublisher
from pipeline_metrics.announcer import EventBridgeWrittenPublisher
from pipeline_metrics.csv_rows import MetricRow, object_key
from pipeline_metrics.service import MetricsObject

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient


def metrics_object(pipelines: int) -> MetricsObject:
    """A day's object whose rows each come from another pipeline, named with 100 characters
    (CodePipeline's longest)."""
    rows = tuple(
        MetricRow(
            event_id=f"ev-{n:05d}",
            event_time=f"2026-11-22T10:{n // 60 % 60:02d}:{n % 60:02d}Z",
            account="123456789012",
            region="us-east-1",
            pipeline=f"pipeline-{n:05d}-".ljust(100, "x"),
            execution_id=f"exec-{n}",
            level="pipeline",
            state="FAILED",
        )
        for n in range(pipelines)
    )
    ids = [row.event_id for row in rows]
    return MetricsObject(object_key(PREFIX, "2026-11-22", ids), "2026-11-22", rows, tuple(ids))


def announcer(events: FakeEventsClient) -> EventBridgeWrittenPublisher:
    client = cast("EventBridgeClient", events)
    return EventBridgeWrittenPublisher(EventPublisher("pipeline-metrics", "bus", client=client))


def test_object_of_thousands_of_pipelines_is_announced_in_entries_aws_accepts() -> None:
    # Given an object of a 3,000-event batch from 3,000 pipelines (one entry: 309 KB)
    events = FakeEventsClient()
    obj = metrics_object(3000)
    # When announced
    unpublished = announcer(events).publish_written(BUCKET, [obj])
    # Then it was put, in numbered parts that together name every pipeline, in order
    assert unpublished == {}
    details = events.details()
    assert len(details) > 1
    assert [(d["part"], d["parts"], d["key"], d["rows"]) for d in details] == [
        (part, len(details), obj.key, 3000) for part in range(1, len(details) + 1)
    ]
    assert [name for d in details for name in d["pipelines"]] == obj.pipelines


def test_ordinary_object_is_one_entry_of_one_part() -> None:
    # Given an object of a few pipelines / When announced / Then one entry, part 1 of 1
    events = FakeEventsClient()
    announcer(events).publish_written(BUCKET, [metrics_object(3)])
    [detail] = events.details()
    assert (detail["part"], detail["parts"], len(detail["pipelines"])) == (1, 1, 3)
