"""MetricsWriter: one object per day of a batch, deduplicated, keyed by its events."""

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import pytest

from datalake_shared.event_publisher import PutOutcome
from pipeline_metrics.csv_rows import MetricRow, decode_csv, object_key
from pipeline_metrics.service import (
    HandledRecord,
    MetricsObject,
    MetricsWriteError,
    MetricsWriter,
    plan_objects,
)

PREFIX = "pipeline-metrics/"


def row(event_id: str, time: str = "2026-11-22T10:00:00Z", **changes: str) -> MetricRow:
    base = MetricRow(
        event_id=event_id,
        event_time=time,
        account="123456789012",
        region="us-east-1",
        pipeline="orders-service",
        execution_id="e1",
        level="pipeline",
        state="STARTED",
    )
    return replace(base, **changes)


def handled(*rows: MetricRow) -> list[HandledRecord]:
    """Each row as the row of message m0, m1..."""
    return [HandledRecord(f"m{index}", r) for index, r in enumerate(rows)]


@dataclass
class DictStore:
    """Objects in a dict; keys in ``failing`` raise MetricsWriteError."""

    bucket: str = "metrics"
    failing: set[str] = field(default_factory=set)
    objects: dict[str, bytes] = field(default_factory=dict)
    puts: list[str] = field(default_factory=list)

    def put_csv(self, key: str, body: bytes) -> None:
        self.puts.append(key)
        if key in self.failing:
            raise MetricsWriteError("AccessDenied: Access Denied")
        self.objects[key] = body


@dataclass
class ListPublisher:
    """Records announced keys; keys in ``failing`` come back as unpublished, keys in
    ``too_large`` as too large for EventBridge."""

    failing: set[str] = field(default_factory=set)
    too_large: set[str] = field(default_factory=set)
    announced: list[str] = field(default_factory=list)

    def publish_written(
        self, bucket: str, objects: Sequence[MetricsObject]
    ) -> dict[str, PutOutcome]:
        refused = self.failing | self.too_large
        self.announced.extend(obj.key for obj in objects if obj.key not in refused)
        failures = {
            obj.key: PutOutcome(error="InternalFailure: try again")
            for obj in objects
            if obj.key in self.failing
        }
        failures.update(
            {
                obj.key: PutOutcome(error="EntryTooLarge: 300000 bytes", too_large=True)
                for obj in objects
                if obj.key in self.too_large
            }
        )
        return failures


@pytest.fixture
def store() -> DictStore:
    return DictStore()


@pytest.fixture
def publisher() -> ListPublisher:
    return ListPublisher()


@pytest.fixture
def writer(store: DictStore, publisher: ListPublisher) -> MetricsWriter:
    return MetricsWriter(store, publisher, PREFIX)


def test_a_one_day_batch_is_one_object_keyed_by_its_event_ids(
    writer: MetricsWriter, store: DictStore
) -> None:
    # Given three events of one day / When written
    report = writer.write(handled(row("b"), row("a"), row("c")))
    # Then one object holds them, under the key of that id set
    assert list(store.objects) == [object_key(PREFIX, "2026-11-22", ["a", "b", "c"])]
    assert report.rows_written == 3


def test_rows_are_sorted_by_time_then_event_id(writer: MetricsWriter, store: DictStore) -> None:
    # Given events out of order / When written
    writer.write(
        handled(
            row("z", "2026-11-22T10:05:00Z"), row("b"), row("a"), row("c", "2026-11-22T09:00:00Z")
        )
    )
    # Then the file lists them by time, ties by event id
    (body,) = store.objects.values()
    assert [r["event_id"] for r in decode_csv(body)] == ["c", "a", "b", "z"]


def test_same_events_in_another_order_write_identical_bytes_under_the_same_key(
    writer: MetricsWriter, store: DictStore
) -> None:
    # Given a batch written once
    rows = [row("a"), row("b", "2026-11-22T11:00:00Z"), row("c")]
    writer.write(handled(*rows))
    first = dict(store.objects)
    # When the same events come again in another order
    writer.write(handled(*reversed(rows)))
    # Then the second write replaced the object with the same bytes
    assert store.objects == first
    assert len(store.puts) == 2


def test_batch_spanning_midnight_writes_one_object_per_day(
    writer: MetricsWriter, store: DictStore
) -> None:
    # Given events on both sides of midnight UTC / When written
    report = writer.write(
        handled(row("a", "2026-11-22T23:59:59Z"), row("b", "2026-11-23T00:00:00Z"), row("c"))
    )
    # Then each day has its object under its own dt partition, days in order
    assert [obj.day for obj in report.written] == ["2026-11-22", "2026-11-23"]
    assert sorted(store.objects) == sorted(
        [
            object_key(PREFIX, "2026-11-22", ["a", "c"]),
            object_key(PREFIX, "2026-11-23", ["b"]),
        ]
    )


def test_duplicate_event_ids_give_one_row_and_are_counted(
    writer: MetricsWriter, store: DictStore
) -> None:
    # Given one event delivered in two messages, next to another event
    report = writer.write(handled(row("a"), row("b"), row("a")))
    # Then it is written once and counted as a duplicate
    (body,) = store.objects.values()
    assert [r["event_id"] for r in decode_csv(body)] == ["a", "b"]
    assert report.duplicates == 1


def test_failed_write_fails_only_the_messages_of_that_day(
    store: DictStore, writer: MetricsWriter
) -> None:
    # Given a two-day batch whose second day's object cannot be written
    records = handled(row("a", "2026-11-22T23:59:00Z"), row("b", "2026-11-23T00:01:00Z"))
    store.failing = {object_key(PREFIX, "2026-11-23", ["b"])}
    # When written
    report = writer.write(records)
    # Then the first day is stored and only the second day's message must be redelivered
    assert list(store.objects) == [object_key(PREFIX, "2026-11-22", ["a"])]
    assert report.failed_message_ids == ("m1",)
    assert report.failed == {object_key(PREFIX, "2026-11-23", ["b"]): "AccessDenied: Access Denied"}


def test_failed_write_fails_every_message_of_a_duplicated_event(
    store: DictStore, writer: MetricsWriter
) -> None:
    # Given an event delivered in two messages, and its object failing
    store.failing = {object_key(PREFIX, "2026-11-22", ["a"])}
    # When written / Then both messages are redelivered
    report = writer.write(handled(row("a"), row("a")))
    assert report.failed_message_ids == ("m0", "m1")


def test_written_objects_are_announced_and_failed_ones_are_not(
    store: DictStore, publisher: ListPublisher, writer: MetricsWriter
) -> None:
    # Given a two-day batch whose first day's object fails
    store.failing = {object_key(PREFIX, "2026-11-22", ["a"])}
    # When written
    writer.write(handled(row("a"), row("b", "2026-11-23T08:00:00Z")))
    # Then only the written object is announced
    assert publisher.announced == [object_key(PREFIX, "2026-11-23", ["b"])]


def test_unannounced_object_stays_written_and_fails_no_message(
    store: DictStore, publisher: ListPublisher, writer: MetricsWriter
) -> None:
    # Given EventBridge rejecting the object's announcement
    key = object_key(PREFIX, "2026-11-22", ["a"])
    publisher.failing = {key}
    # When written
    report = writer.write(handled(row("a")))
    # Then the object is stored, reported unpublished, and no message is redelivered
    assert list(store.objects) == [key]
    assert report.unpublished == {key: "InternalFailure: try again"}
    assert report.failed_message_ids == ()


def test_announcement_too_large_fails_the_messages_of_its_object(
    store: DictStore, publisher: ListPublisher, writer: MetricsWriter
) -> None:
    # Given an object whose announcement EventBridge could never take
    key = object_key(PREFIX, "2026-11-22", ["a", "b"])
    publisher.too_large = {key}
    # When written
    report = writer.write(handled(row("a"), row("b")))
    # Then the object is stored and its messages fail, to be redelivered and then dead-lettered
    assert list(store.objects) == [key]
    assert report.too_large == {key: "EntryTooLarge: 300000 bytes"}
    assert (report.unpublished, report.failed_message_ids) == ({}, ("m0", "m1"))


def test_empty_batch_writes_and_announces_nothing(
    store: DictStore, publisher: ListPublisher, writer: MetricsWriter
) -> None:
    # Given no parseable record / When written / Then no call is made
    report = writer.write([])
    assert (store.puts, publisher.announced, report.rows_written) == ([], [], 0)


def test_plan_keeps_the_first_message_row_and_lists_every_message() -> None:
    # Given an event whose second delivery differs (it cannot in practice; first one wins)
    records = [
        HandledRecord("m0", row("a", state="STARTED")),
        HandledRecord("m1", row("a", state="FAILED")),
    ]
    # When planned
    (obj,), duplicates = plan_objects(records, PREFIX)
    # Then the first row is kept and both messages belong to the object
    assert ([r.state for r in obj.rows], obj.message_ids, duplicates) == (
        ["STARTED"],
        ("m0", "m1"),
        1,
    )
