"""The job's DynamoDB adapters against moto, on tables declared as template.yaml declares them."""

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from boto_calls import CallRecorder
from glue_merge_fakes import FIXED_NOW, FixedClock
from moto_dynamodb import template_tables

from cdc_merge.file_tracker import DynamoFileTracker, pending_file
from cdc_merge.history import DynamoHistory, HistoryRecord
from cdc_merge.leases import DynamoLeases
from datalake_contracts.dynamodb_keys import bounded_key
from datalake_contracts.file_tracker_item import (
    PENDING_INDEX,
    PENDING_INDEX_ATTRIBUTES,
    PROCESSED_STATUS,
)
from file_tracker.service import TrackedFile
from file_tracker.store import DynamoFileTrackerStore

LEASES, HISTORY, TRACKER = "leases-test", "history-test", "tracker-test"
NOW = FIXED_NOW
TABLE = "sales.orders"


@pytest.fixture
def dynamodb(sam_template: dict[str, Any]) -> Iterator[Any]:
    tables = {
        "ProcessingLeaseTable": LEASES,
        "ProcessingHistoryTable": HISTORY,
        "FileTrackerTable": TRACKER,
    }
    with template_tables(sam_template, tables) as client:
        yield client


# --- file tracker --------------------------------------------------------------------------------


def put_file(
    dynamodb: Any, file_id: str, event_time: str, pending: bool = True, **extra: str
) -> None:
    source_table = extra.pop("source_table", TABLE)
    item = {
        "source_table": {"S": source_table},
        "file_id": {"S": file_id},
        "bucket": {"S": "staging"},
        "key": {"S": f"sales/orders/{file_id}.csv"},
        "file_name": {"S": f"{file_id}.csv"},
        "event_time": {"S": event_time},
        "load_type": {"S": extra.pop("load_type", "cdc")},
        "status": {"S": "raw_file_landed" if pending else PROCESSED_STATUS},
    }
    if pending:
        item["pending_status"] = {"S": "raw_file_landed"}
        item["pending_order"] = {"S": f"{source_table}#{event_time}#{file_id}"}
    dynamodb.put_item(TableName=TRACKER, Item=item)


def test_pending_files_are_the_tables_unprocessed_files_in_landing_order(dynamodb: Any) -> None:
    # Given files of the table landed out of key order, one processed, and another table's file
    put_file(dynamodb, "f3", "2026-11-23T10:00:03Z")
    put_file(dynamodb, "f1", "2026-11-23T10:00:01Z")
    put_file(dynamodb, "f2b", "2026-11-23T10:00:02Z")
    put_file(dynamodb, "f2a", "2026-11-23T10:00:02Z")
    put_file(dynamodb, "f0", "2026-11-23T10:00:00Z", pending=False)
    put_file(dynamodb, "x1", "2026-11-23T10:00:00Z", source_table="crm.customers")
    # When the job asks for the table's pending files
    files = DynamoFileTracker(TRACKER, client=dynamodb).pending_files(TABLE)
    # Then it gets the pending ones, by event time then file id
    assert [file.file_id for file in files] == ["f1", "f2a", "f2b", "f3"]
    assert files[0].uri == "s3://staging/sales/orders/f1.csv"
    assert files[0].load_type == "cdc"


def test_marking_processed_takes_files_out_of_the_pending_index(dynamodb: Any) -> None:
    put_file(dynamodb, "f1", "2026-11-23T10:00:01Z", load_type="full")
    tracker = DynamoFileTracker(TRACKER, client=dynamodb, clock=FixedClock())
    tracker.mark_processed(tracker.pending_files(TABLE), "run-a")
    item = dynamodb.get_item(
        TableName=TRACKER, Key={"source_table": {"S": TABLE}, "file_id": {"S": "f1"}}
    )["Item"]
    assert item["status"] == {"S": PROCESSED_STATUS}
    assert item["processed_by_run"] == {"S": "run-a"}
    assert item["processed_at"] == {"S": NOW.isoformat()}
    assert "pending_status" not in item
    assert "pending_order" not in item
    assert tracker.pending_files(TABLE) == []


def test_the_index_projects_every_attribute_the_job_reads(sam_template: dict[str, Any]) -> None:
    # Given the pending-files index as template.yaml declares it
    [index] = sam_template["Resources"]["FileTrackerTable"]["Properties"]["GlobalSecondaryIndexes"]
    # Then it is the one the job queries, and it projects what pending_file reads (DynamoDB
    # returns nothing else from an index; moto returns everything, so only this catches it)
    assert index["IndexName"] == PENDING_INDEX
    assert set(PENDING_INDEX_ATTRIBUTES) <= set(index["Projection"]["NonKeyAttributes"])


def test_an_index_item_without_its_file_name_is_refused() -> None:
    # Given an item as an index without file_name in its projection would return it
    item = {
        "source_table": {"S": TABLE},
        "file_id": {"S": "f1"},
        "bucket": {"S": "staging"},
        "key": {"S": "sales/orders/LOAD00000001.csv/part-0.csv"},
        "event_time": {"S": "2026-11-23T10:00:01Z"},
        "load_type": {"S": "full"},
    }
    # When read / Then it raises instead of guessing the name from the key
    with pytest.raises(ValueError, match="file_name"):
        pending_file(item)


@pytest.mark.parametrize(
    "source_table",
    ["sales.orders", "s." + "t" * 968, "s." + "t" * 969, "s." + "t" * 2040, "s." + "€" * 400],
)
def test_the_job_finds_the_files_the_tracker_wrote(dynamodb: Any, source_table: str) -> None:
    # Given a file the file tracker's store wrote for a table whose name is short, or too long
    # for the index sort key (cut and hashed there)
    schema, _, table = source_table.partition(".")
    file = TrackedFile(
        source_table=source_table,
        file_id="0" * 32,
        bucket="staging",
        key=f"{schema}/{table}/LOAD00000001.csv",
        size=10,
        etag=None,
        version_id=None,
        sequencer="0055AED6DCD90281E5",
        event_time="2026-11-23T10:00:01Z",
        event_id="event-1",
        schema_name=schema,
        table_name=table,
        file_name="LOAD00000001.csv",
        load_type="full",
    )
    assert DynamoFileTrackerStore(TRACKER, client=dynamodb).put_if_absent(file).created
    # When the job asks for the table's pending files / Then it finds it under the same prefix
    [found] = DynamoFileTracker(TRACKER, client=dynamodb).pending_files(source_table)
    assert (found.source_table, found.file_id, found.load_type) == (source_table, "0" * 32, "full")


# --- history -------------------------------------------------------------------------------------


def test_a_history_record_is_keyed_by_table_and_start_and_run(dynamodb: Any) -> None:
    record = HistoryRecord(
        source_table=TABLE,
        run_id="run-a",
        batch_id="hourly-run-a-000",
        status="failed",
        started_at=NOW,
        finished_at=NOW + timedelta(milliseconds=1500),
        files=3,
        inserted=1,
        updated=2,
        deleted=0,
        error="x" * 10_000,
    )
    DynamoHistory(HISTORY, client=dynamodb).record(record)
    item = dynamodb.get_item(
        TableName=HISTORY,
        Key={"source_table": {"S": TABLE}, "run_key": {"S": f"{NOW.isoformat()}#run-a"}},
    )["Item"]
    assert item["status"] == {"S": "failed"}
    assert item["duration_ms"] == {"N": "1500"}
    assert (item["files"], item["inserted"], item["updated"]) == (
        {"N": "3"},
        {"N": "1"},
        {"N": "2"},
    )
    assert len(item["error"]["S"]) == 8_000


# --- requests DynamoDB would refuse --------------------------------------------------------------


def unused_placeholders(params: dict[str, Any]) -> list[str]:
    """Expression attribute names and values a request sends but none of its expressions uses:
    DynamoDB refuses such a request (ValidationException); moto takes it."""
    expressions = " ".join(
        str(params.get(name, ""))
        for name in (
            "ConditionExpression",
            "KeyConditionExpression",
            "FilterExpression",
            "UpdateExpression",
            "ProjectionExpression",
        )
    )
    placeholders = [
        *params.get("ExpressionAttributeNames", {}),
        *params.get("ExpressionAttributeValues", {}),
    ]
    return [
        p for p in placeholders if not re.search(re.escape(p) + r"(?![A-Za-z0-9_])", expressions)
    ]


def test_every_request_of_the_jobs_adapters_uses_all_its_placeholders(dynamodb: Any) -> None:
    # Given every call the job's lease and tracker adapters make, recorded
    recorder = CallRecorder(dynamodb)
    clock = FixedClock()
    leases = DynamoLeases(LEASES, 600, client=dynamodb, clock=clock)
    put_file(dynamodb, "f1", "2026-11-23T10:00:01Z")
    tracker = DynamoFileTracker(TRACKER, client=dynamodb, clock=clock)
    # When they lease, read, mark and release
    leases.acquire(TABLE, "run-a")
    tracker.mark_processed(tracker.pending_files(TABLE), "run-a")
    leases.release(TABLE, "run-a")
    # Then no request carries a name or value its expressions do not use
    calls = [params for _, params in recorder.calls]
    assert [unused_placeholders(params) for params in calls if "TableName" in params] == [
        [] for params in calls if "TableName" in params
    ]
    assert len(calls) >= 5


def test_a_history_key_over_dynamodbs_limits_is_bounded_and_distinct() -> None:
    # Given two run keys over the 1,024-byte sort key, differing only at their end
    first, second = "r" * 2000 + "1", "r" * 2000 + "2"
    # When bounded / Then each fits, keeps its beginning, and they stay apart
    assert bounded_key("short", 1024) == "short"
    assert len(bounded_key(first, 1024).encode()) <= 1024
    assert bounded_key(first, 1024).startswith("rrrr")
    assert bounded_key(first, 1024) != bounded_key(second, 1024)
