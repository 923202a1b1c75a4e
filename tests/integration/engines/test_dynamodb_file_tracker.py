"""The file tracker function (functions/file_tracker) on DynamoDB Local, on the tracker table
exactly as template.yaml declares it: write-once puts, duplicates told apart by the item the
refused put returns, the announced flag set in transactions, quarantine, and the handler."""

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from boto_calls import CallRecorder
from lambda_support import FakeLambdaContext
from mypy_boto3_dynamodb import DynamoDBClient

from file_tracker.service import FileTracker, KeyLayout, TrackedFile, TrackOutcome
from file_tracker.settings import DEFAULT_STAGING_KEY_PATTERN
from file_tracker.store import MAX_ITEMS_PER_TRANSACTION, DynamoFileTrackerStore
from tests.integration.engines.dynamodb_support import (
    MAX_PARTITION_KEY_BYTES,
    object_created,
    scan_all,
    sqs_batch,
    utf8_len,
)

CONTEXT = FakeLambdaContext(function_name="file-tracker")

NOW = "2026-11-22T10:15:02.345Z"
DEFAULT_LAYOUT = KeyLayout("", DEFAULT_STAGING_KEY_PATTERN)


@dataclass
class RecordingPublisher:
    """Stands in for EventBridge: records what is announced; ``fail`` names file ids to refuse."""

    fail: set[str] = field(default_factory=set)
    announced: list[str] = field(default_factory=list)

    def publish_landed_batch(self, files: Sequence[TrackedFile]) -> dict[str, str]:
        self.announced.extend(file.file_id for file in files if file.file_id not in self.fail)
        return {file.file_id: "refused" for file in files if file.file_id in self.fail}


@pytest.fixture
def tracker_table(template_table: Callable[[str], str]) -> str:
    return template_table("FileTrackerTable")


@pytest.fixture
def store(dynamodb: DynamoDBClient, tracker_table: str) -> DynamoFileTrackerStore:
    return DynamoFileTrackerStore(tracker_table, client=dynamodb, now=lambda: NOW)


def landed(key: str = "sales/orders/20261122-101500123.parquet") -> TrackedFile:
    parts = DEFAULT_LAYOUT.parse(key)
    assert parts is not None
    return TrackedFile.from_event(object_created(key), parts)


def item_of(dynamodb: DynamoDBClient, table: str, file: TrackedFile) -> dict[str, Any]:
    return dynamodb.get_item(
        TableName=table,
        Key={"source_table": {"S": file.source_table}, "file_id": {"S": file.file_id}},
        ConsistentRead=True,
    )["Item"]


# ----------------------------------------------------------------------------- put once


def test_the_first_put_stores_the_file_with_its_pending_keys(
    store: DynamoFileTrackerStore, dynamodb: DynamoDBClient, tracker_table: str
) -> None:
    # Given a file not tracked yet
    file = landed()
    # When it is put
    result = store.put_if_absent(file)
    # Then DynamoDB holds the file, unannounced, in the pending-files index
    assert (result.created, result.announced) == (True, False)
    item = item_of(dynamodb, tracker_table, file)
    assert item["key"] == {"S": file.key}
    assert item["size"] == {"N": "1024"}
    assert item["landed_event_published"] == {"BOOL": False}
    assert item["pending_status"] == {"S": "raw_file_landed"}
    assert item["pending_order"] == {"S": f"sales.orders#2026-11-22T10:15:00Z#{file.file_id}"}
    assert item["tracked_at"] == {"S": NOW}


def test_a_duplicate_put_is_refused_and_reports_the_stored_flag(
    store: DynamoFileTrackerStore, dynamodb: DynamoDBClient, tracker_table: str
) -> None:
    # Given a file tracked by a delivery that never announced it
    file = landed()
    store.put_if_absent(file)
    # When a redelivery puts it again
    result = store.put_if_absent(file)
    # Then the put is refused, the old item comes back with the refusal (ALL_OLD), unannounced
    assert (result.created, result.announced) == (False, False)
    assert len(scan_all(dynamodb, tracker_table)) == 1


def test_a_duplicate_of_an_announced_file_reports_it_announced(
    store: DynamoFileTrackerStore,
) -> None:
    # Given a tracked file flagged announced
    file = landed()
    store.put_if_absent(file)
    assert store.mark_announced_batch([file]) == []
    # When it is put again / Then the store knows from the refused put that it was announced
    result = store.put_if_absent(file)
    assert (result.created, result.announced) == (False, True)


def test_a_redelivery_never_overwrites_the_first_item(
    store: DynamoFileTrackerStore, dynamodb: DynamoDBClient, tracker_table: str
) -> None:
    # Given a tracked, announced file
    file = landed()
    store.put_if_absent(file)
    store.mark_announced_batch([file])
    # When a later delivery puts it with another tracking time
    DynamoFileTrackerStore(tracker_table, client=dynamodb, now=lambda: "later").put_if_absent(file)
    # Then the first write stands
    item = item_of(dynamodb, tracker_table, file)
    assert (item["tracked_at"], item["landed_event_published"]) == ({"S": NOW}, {"BOOL": True})


# ----------------------------------------------------------------------------- announced flag


def test_flags_are_set_in_transactions_of_at_most_100(
    store: DynamoFileTrackerStore, dynamodb: DynamoDBClient, tracker_table: str
) -> None:
    # Given 250 tracked files
    files = [landed(f"sales/orders/20261122-{n:09d}.parquet") for n in range(250)]
    for file in files:
        store.put_if_absent(file)
    recorder = CallRecorder(dynamodb)
    # When they are flagged announced
    failures = store.mark_announced_batch(files)
    # Then DynamoDB took three transactions of 100, 100 and 50, and every item is flagged
    assert failures == []
    assert [len(t["TransactItems"]) for t in recorder.params_of("TransactWriteItems")] == [
        100,
        100,
        50,
    ]
    flags = {item["landed_event_published"]["BOOL"] for item in scan_all(dynamodb, tracker_table)}
    assert flags == {True}
    assert MAX_ITEMS_PER_TRANSACTION == 100


def test_a_missing_item_cancels_its_transaction_and_creates_nothing(
    store: DynamoFileTrackerStore, dynamodb: DynamoDBClient, tracker_table: str
) -> None:
    # Given one tracked file and one never tracked, in one chunk
    stored, missing = landed("sales/orders/a.parquet"), landed("sales/orders/b.parquet")
    store.put_if_absent(stored)
    # When both are flagged
    failures = store.mark_announced_batch([stored, missing])
    # Then DynamoDB cancels the whole transaction, reported with its reason; nothing changed
    assert [failure.files for failure in failures] == [(stored, missing)]
    assert failures[0].error.startswith("TransactionCanceledException")
    assert "ConditionalCheckFailed" in failures[0].error
    assert item_of(dynamodb, tracker_table, stored)["landed_event_published"] == {"BOOL": False}
    assert len(scan_all(dynamodb, tracker_table)) == 1


def test_one_item_twice_in_a_transaction_is_refused_by_dynamodb(
    store: DynamoFileTrackerStore,
) -> None:
    # Given a tracked file passed twice to the store (the tracker dedupes before this)
    file = landed()
    store.put_if_absent(file)
    # When flagged / Then DynamoDB refuses the transaction, and the store reports it
    [failure] = store.mark_announced_batch([file, file])
    assert "multiple operations on one item" in failure.error


def test_the_tracker_announces_a_file_delivered_twice_in_a_batch_once(
    store: DynamoFileTrackerStore, dynamodb: DynamoDBClient, tracker_table: str
) -> None:
    # Given the same object delivered twice in one batch
    publisher = RecordingPublisher()
    tracker = FileTracker(DEFAULT_LAYOUT, store, publisher)
    event = object_created("sales/orders/a.parquet")
    results = [tracker.track(event), tracker.track(event)]
    # When the batch's files are announced
    report = tracker.announce([r.file for r in results if r.file and r.needs_announcing])
    # Then it is published and flagged once, with no failed transaction
    assert [r.outcome for r in results] == [TrackOutcome.TRACKED, TrackOutcome.DUPLICATE]
    assert (len(publisher.announced), report.mark_failures) == (1, ())
    [item] = scan_all(dynamodb, tracker_table)
    assert item["landed_event_published"] == {"BOOL": True}


# ----------------------------------------------------------------------------- quarantine


def test_an_unmatched_key_is_quarantined_once_outside_the_index(
    store: DynamoFileTrackerStore, dynamodb: DynamoDBClient, tracker_table: str
) -> None:
    # Given an unmatched key recorded by two deliveries
    for _ in range(2):
        store.record_unmatched(
            "datalake-staging-example", "readme.txt", "abc123", "2026-11-22T10:16:00Z", "no match"
        )
    # When the table and the index are read
    items = scan_all(dynamodb, tracker_table)
    pending = scan_all(dynamodb, tracker_table, IndexName="pending-files-index")
    # Then one quarantine item exists and nothing is pending
    assert [(i["source_table"]["S"], i["status"]["S"]) for i in items] == [
        ("__unmatched__", "unmatched_key")
    ]
    assert pending == []


def test_the_longest_source_table_a_key_can_give_is_tracked(
    store: DynamoFileTrackerStore, dynamodb: DynamoDBClient, tracker_table: str
) -> None:
    # Given a pattern whose schema and table are both the key's first segment, and a 1,024-byte
    # key: a source table of 2,037 bytes
    layout = KeyLayout("", r"^(?=(?P<schema>[^/]+))(?P<table>[^/]+)/(?P<file_name>[^/]+)$")
    key = "s" * 1018 + "/x.csv"
    tracker = FileTracker(layout, store, RecordingPublisher())
    # When it is tracked
    result = tracker.track(object_created(key))
    # Then DynamoDB stores it under that partition key
    assert result.outcome is TrackOutcome.TRACKED
    assert result.file is not None
    assert utf8_len(result.file.source_table) == 2037
    assert item_of(dynamodb, tracker_table, result.file)["key"] == {"S": key}


def test_a_source_table_too_long_for_a_partition_key_is_quarantined(
    store: DynamoFileTrackerStore, dynamodb: DynamoDBClient, tracker_table: str
) -> None:
    # Given a pattern whose overlapping groups name a 2,049-byte table from a 1,024-byte key
    layout = KeyLayout("", r"^(?=(?P<schema>.+))(?P<table>.+)$")
    key = "k" * 1024
    assert utf8_len(f"{key}.{key}") == MAX_PARTITION_KEY_BYTES + 1
    tracker = FileTracker(layout, store, RecordingPublisher())
    # When it is tracked
    result = tracker.track(object_created(key))
    # Then it is quarantined with the reason, not lost to a refused write
    assert result.outcome is TrackOutcome.UNMATCHED
    [item] = scan_all(dynamodb, tracker_table)
    assert item["source_table"] == {"S": "__unmatched__"}
    assert "more than 2048 bytes" in item["reason"]["S"]


# ----------------------------------------------------------------------------- handler


def test_the_handler_tracks_a_batch_once_across_redeliveries(
    store: DynamoFileTrackerStore, dynamodb: DynamoDBClient, tracker_table: str
) -> None:
    # Given the handler over DynamoDB Local, and a batch of three objects
    app = importlib.import_module("file_tracker.handler")
    publisher = RecordingPublisher()
    tracker = FileTracker(DEFAULT_LAYOUT, store, publisher)
    keys = ["sales/orders/LOAD00000001.parquet", "sales/orders/a.parquet", "crm/customers/b.csv"]
    batch = sqs_batch(*(object_created(key) for key in keys))
    # When the batch is delivered twice
    first = app.lambda_handler(batch, CONTEXT, tracker=tracker)
    second = app.lambda_handler(batch, CONTEXT, tracker=tracker)
    # Then both succeed, each object has one item, flagged announced, announced once
    assert first == second == {"batchItemFailures": []}
    items = scan_all(dynamodb, tracker_table)
    assert sorted(item["key"]["S"] for item in items) == sorted(keys)
    assert {item["landed_event_published"]["BOOL"] for item in items} == {True}
    assert len(publisher.announced) == 3


def test_the_handler_redelivers_only_what_was_not_announced(
    store: DynamoFileTrackerStore, dynamodb: DynamoDBClient, tracker_table: str
) -> None:
    # Given EventBridge refusing the announcement of one of two new files
    app = importlib.import_module("file_tracker.handler")
    refused = landed("sales/orders/b.parquet")
    publisher = RecordingPublisher(fail={refused.file_id})
    tracker = FileTracker(DEFAULT_LAYOUT, store, publisher)
    batch = sqs_batch(
        object_created("sales/orders/a.parquet"), object_created("sales/orders/b.parquet")
    )
    # When the batch is handled
    response = app.lambda_handler(batch, CONTEXT, tracker=tracker)
    # Then only its message is redelivered, and only its item stays unflagged
    assert response == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    flags = {
        item["key"]["S"]: item["landed_event_published"]["BOOL"]
        for item in scan_all(dynamodb, tracker_table)
    }
    assert flags == {"sales/orders/a.parquet": True, "sales/orders/b.parquet": False}
