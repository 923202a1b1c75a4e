"""In-memory stand-ins for the file tracker's store and EventBridge, plus sample-event loading."""

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from datalake_shared.event_publisher import EventPublisher
from datalake_shared.s3_events import S3ObjectEvent, S3ObjectEventSqsRecord
from file_tracker.announcer import EventBridgeLandedPublisher
from file_tracker.service import FileTracker, KeyLayout, MarkFailure, PutResult, TrackedFile
from file_tracker.settings import DEFAULT_STAGING_KEY_PATTERN

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient

from eventbridge_fake import FakeEventsClient
from lambda_support import load_handler_module, load_sample_event

app = load_handler_module("file_tracker")
load_event = partial(load_sample_event, "file_tracker")


def s3_events(name: str) -> list[S3ObjectEvent]:
    """The S3 events inside a sample SQS batch."""
    return [
        S3ObjectEventSqsRecord.model_validate(record).body for record in load_event(name)["Records"]
    ]


def object_created(
    key: str,
    *,
    size: int = 1024,
    version_id: str | None = "v1",
    sequencer: str | None = "0062F4A7B3C1D2E3F4",
    etag: str | None = "b1946ac92492d2347c6235b4d2611184",
    bucket: str = "datalake-staging-example",
    time: str = "2026-11-22T10:15:00Z",
) -> S3ObjectEvent:
    """An "Object Created" event shaped like the samples, for one object."""
    body = json.loads(load_event("sqs_batch.json")["Records"][0]["body"])
    body["time"] = time
    body["detail"]["bucket"]["name"] = bucket
    body["detail"]["object"] = {
        "key": key,
        "size": size,
        "etag": etag,
        "version-id": version_id,
        "sequencer": sequencer,
    }
    return S3ObjectEvent.model_validate(body)


def sqs_event(*bodies: dict[str, Any] | str, receive_count: int = 1) -> dict[str, Any]:
    """An SQS batch (sample record shape) carrying the given bodies, message ids m0, m1..."""
    template = load_event("sqs_batch.json")["Records"][0]
    records = []
    for index, body in enumerate(bodies):
        record = json.loads(json.dumps(template))
        record["messageId"] = f"m{index}"
        record["body"] = body if isinstance(body, str) else json.dumps(body)
        record["attributes"]["ApproximateReceiveCount"] = str(receive_count)
        records.append(record)
    return {"Records": records}


@dataclass
class StoredFile:
    file: TrackedFile
    announced: bool = False


@dataclass
class FakeTrackerStore:
    """Dict-backed store with the same write-once semantics as the DynamoDB adapter.

    ``mark_announced_batch`` is all or nothing like a transaction; its first ``mark_outages``
    calls fail as a throttled TransactWriteItems would. ``mark_calls`` holds the file ids of
    every call.
    """

    mark_outages: int = 0
    files: dict[tuple[str, str], StoredFile] = field(default_factory=dict)
    unmatched: dict[str, dict[str, str]] = field(default_factory=dict)
    mark_calls: list[list[str]] = field(default_factory=list)

    def put_if_absent(self, file: TrackedFile) -> PutResult:
        stored = self.files.get((file.source_table, file.file_id))
        if stored is not None:
            return PutResult(created=False, announced=stored.announced)
        self.files[(file.source_table, file.file_id)] = StoredFile(file)
        return PutResult(created=True, announced=False)

    def mark_announced_batch(self, files: Sequence[TrackedFile]) -> list[MarkFailure]:
        self.mark_calls.append([file.file_id for file in files])
        if self.mark_outages:
            self.mark_outages -= 1
            return [MarkFailure(tuple(files), "ProvisionedThroughputExceededException: slow down")]
        keys = [(file.source_table, file.file_id) for file in files]
        if not all(key in self.files for key in keys):
            return [
                MarkFailure(tuple(files), "TransactionCanceledException: ConditionalCheckFailed")
            ]
        for key in keys:
            self.files[key].announced = True
        return []

    def announced_keys(self) -> list[str]:
        return sorted(stored.file.key for stored in self.files.values() if stored.announced)

    def record_unmatched(
        self, bucket: str, key: str, file_id: str, event_time: str, reason: str
    ) -> None:
        self.unmatched.setdefault(
            file_id, {"bucket": bucket, "key": key, "event_time": event_time, "reason": reason}
        )


def landed_publisher(client: FakeEventsClient) -> EventBridgeLandedPublisher:
    """The real "File Landed" publisher over the fake EventBridge client."""
    return EventBridgeLandedPublisher(
        EventPublisher(
            component="file-tracker",
            bus_name="datalake-bus",
            client=cast("EventBridgeClient", client),
        )
    )


def tracker_with(store: Any, events: FakeEventsClient) -> FileTracker:
    """A tracker with the default layout over the given store and fake EventBridge."""
    return FileTracker(KeyLayout("", DEFAULT_STAGING_KEY_PATTERN), store, landed_publisher(events))


def object_keys(count: int, start: int = 0) -> list[str]:
    """``count`` distinct CDC keys of sales.orders."""
    return [f"sales/orders/20261122-10{n:07d}.parquet" for n in range(start, start + count)]


def sqs_batch_of(keys: Sequence[str]) -> dict[str, Any]:
    """One SQS batch with an "Object Created" message per key (message ids m0, m1...)."""
    return sqs_event(*(object_created(key).model_dump(mode="json", by_alias=True) for key in keys))


def landed_keys(events: FakeEventsClient) -> list[str]:
    """Object keys of the "File Landed" events put on the bus, sorted."""
    return sorted(detail["key"] for detail in events.details("File Landed"))
