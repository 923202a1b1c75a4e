"""DynamoFileTrackerStore against moto, on a table built from template.yaml's definition."""

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from boto_calls import CallRecorder
from eventbridge_fake import FakeEventsClient
from file_tracker_fakes import (
    app,
    landed_keys,
    load_event,
    object_created,
    object_keys,
    sqs_batch_of,
    tracker_with,
)
from lambda_support import FakeLambdaContext
from moto_dynamodb import template_tables

from datalake_contracts.dynamodb_keys import MAX_SORT_KEY_BYTES
from datalake_contracts.file_tracker_item import (
    MAX_ORDER_PREFIX_BYTES,
    PENDING_INDEX,
    order_prefix,
)
from file_tracker.service import KeyParts, TrackedFile
from file_tracker.store import DynamoFileTrackerStore, pending_order

TABLE_NAME = "file-tracker-test"
FIXED_NOW = "2026-11-22T10:15:02.345Z"


@pytest.fixture
def dynamodb(sam_template: dict[str, Any]) -> Iterator[Any]:
    """A moto DynamoDB client with the file tracker table exactly as the template declares it."""
    with template_tables(sam_template, {"FileTrackerTable": TABLE_NAME}) as client:
        yield client


@pytest.fixture
def dynamo_store(dynamodb: Any) -> DynamoFileTrackerStore:
    return DynamoFileTrackerStore(TABLE_NAME, client=dynamodb, now=lambda: FIXED_NOW)


def landed_file(key: str = "sales/orders/20261122-101500123.parquet") -> TrackedFile:
    return TrackedFile.from_event(object_created(key), KeyParts("sales", "orders", key))


def get_item(dynamodb: Any, file: TrackedFile) -> dict[str, Any]:
    response = dynamodb.get_item(
        TableName=TABLE_NAME,
        Key={"source_table": {"S": file.source_table}, "file_id": {"S": file.file_id}},
    )
    item: dict[str, Any] = response["Item"]
    return item


def test_first_put_creates_the_item_with_every_attribute(
    dynamo_store: DynamoFileTrackerStore, dynamodb: Any
) -> None:
    # Given a file not tracked yet
    file = landed_file()
    # When it is put
    result = dynamo_store.put_if_absent(file)
    # Then the item holds the file, its tracking time, the unannounced flag and pending keys
    assert (result.created, result.announced) == (True, False)
    assert get_item(dynamodb, file) == {
        "source_table": {"S": "sales.orders"},
        "file_id": {"S": file.file_id},
        "bucket": {"S": "datalake-staging-example"},
        "key": {"S": file.key},
        "size": {"N": "1024"},
        "etag": {"S": "b1946ac92492d2347c6235b4d2611184"},
        "version_id": {"S": "v1"},
        "sequencer": {"S": "0062F4A7B3C1D2E3F4"},
        "event_time": {"S": "2026-11-22T10:15:00Z"},
        "event_id": {"S": file.event_id},
        "schema_name": {"S": "sales"},
        "table_name": {"S": "orders"},
        "file_name": {"S": file.key},
        "load_type": {"S": "cdc"},
        "status": {"S": "raw_file_landed"},
        "tracked_at": {"S": FIXED_NOW},
        "landed_event_published": {"BOOL": False},
        "pending_status": {"S": "raw_file_landed"},
        "pending_order": {"S": f"sales.orders#2026-11-22T10:15:00Z#{file.file_id}"},
    }


def test_missing_optional_s3_fields_are_left_out(
    dynamo_store: DynamoFileTrackerStore, dynamodb: Any
) -> None:
    # Given an unversioned object without etag
    key = "sales/orders/20261122-101500123.parquet"
    file = TrackedFile.from_event(
        object_created(key, version_id=None, etag=None), KeyParts("sales", "orders", key)
    )
    # When it is put / Then the item has no attributes for them (DynamoDB has no None)
    dynamo_store.put_if_absent(file)
    assert {"etag", "version_id"}.isdisjoint(get_item(dynamodb, file))


def test_second_put_of_the_same_file_reports_it_exists_unannounced(
    dynamo_store: DynamoFileTrackerStore, dynamodb: Any
) -> None:
    # Given a file written by a delivery that never announced it
    file = landed_file()
    dynamo_store.put_if_absent(file)
    # When the same file is put again
    result = dynamo_store.put_if_absent(file)
    # Then the store says it existed and was not announced (read from the conditional failure)
    assert (result.created, result.announced) == (False, False)
    assert dynamodb.scan(TableName=TABLE_NAME)["Count"] == 1


def test_second_put_after_announcement_reports_announced(
    dynamo_store: DynamoFileTrackerStore,
) -> None:
    # Given a tracked and announced file
    file = landed_file()
    dynamo_store.put_if_absent(file)
    assert dynamo_store.mark_announced_batch([file]) == []
    # When the same file is put again
    result = dynamo_store.put_if_absent(file)
    # Then the store reports it as already announced
    assert (result.created, result.announced) == (False, True)


def test_redelivered_put_does_not_overwrite_the_first_item(
    dynamo_store: DynamoFileTrackerStore, dynamodb: Any
) -> None:
    # Given a tracked file, announced
    file = landed_file()
    dynamo_store.put_if_absent(file)
    assert dynamo_store.mark_announced_batch([file]) == []
    # When a redelivery puts it again with a later tracking time
    DynamoFileTrackerStore(TABLE_NAME, client=dynamodb, now=lambda: "later").put_if_absent(file)
    # Then the first write stands
    item = get_item(dynamodb, file)
    assert (item["tracked_at"], item["landed_event_published"]) == (
        {"S": FIXED_NOW},
        {"BOOL": True},
    )


def test_flagging_a_missing_item_creates_nothing_and_is_reported(
    dynamo_store: DynamoFileTrackerStore, dynamodb: Any
) -> None:
    # Given a file never put
    file = landed_file()
    # When it is flagged announced
    failures = dynamo_store.mark_announced_batch([file])
    # Then the transaction is refused and reported, and no stray item appears
    assert [(f.files, f.error.split(":")[0]) for f in failures] == [
        ((file,), "TransactionCanceledException")
    ]
    assert dynamodb.scan(TableName=TABLE_NAME)["Count"] == 0


def test_flagging_is_all_or_nothing_per_transaction(
    dynamo_store: DynamoFileTrackerStore, dynamodb: Any
) -> None:
    # Given one stored file and one never put
    stored, missing = landed_file("sales/orders/a.parquet"), landed_file("sales/orders/b.parquet")
    dynamo_store.put_if_absent(stored)
    # When both are flagged in one batch
    failures = dynamo_store.mark_announced_batch([stored, missing])
    # Then the whole transaction is reported failed and the stored item keeps its flag unset
    assert [f.files for f in failures] == [(stored, missing)]
    assert get_item(dynamodb, stored)["landed_event_published"] == {"BOOL": False}
    assert dynamodb.scan(TableName=TABLE_NAME)["Count"] == 1


def test_flagging_uses_one_conditional_transaction_per_100_files(
    dynamo_store: DynamoFileTrackerStore, dynamodb: Any
) -> None:
    # Given 250 stored files
    files = [landed_file(key) for key in object_keys(250)]
    for file in files:
        dynamo_store.put_if_absent(file)
    calls = CallRecorder(dynamodb)
    # When they are flagged announced
    failures = dynamo_store.mark_announced_batch(files)
    # Then three TransactWriteItems calls of 100, 100 and 50 updates did it, each update only
    # allowed on an existing item, and every item is flagged
    transactions = calls.params_of("TransactWriteItems")
    assert failures == []
    assert calls.counts() == {"TransactWriteItems": 3}
    assert [len(t["TransactItems"]) for t in transactions] == [100, 100, 50]
    updates = [action["Update"] for t in transactions for action in t["TransactItems"]]
    assert {u["ConditionExpression"] for u in updates} == {"attribute_exists(file_id)"}
    assert [u["Key"]["file_id"]["S"] for u in updates] == [file.file_id for file in files]
    items = dynamodb.scan(TableName=TABLE_NAME)["Items"]
    assert {item["landed_event_published"]["BOOL"] for item in items} == {True}


def test_pending_index_lists_tracked_files_of_a_table_in_landing_order(
    dynamo_store: DynamoFileTrackerStore, dynamodb: Any
) -> None:
    # Given two files of sales.orders landed in reverse key order, and one of crm.customers
    later = TrackedFile.from_event(
        object_created("sales/orders/a.parquet", time="2026-11-22T10:20:00Z"),
        KeyParts("sales", "orders", "a.parquet"),
    )
    earlier = TrackedFile.from_event(
        object_created("sales/orders/b.parquet", time="2026-11-22T10:10:00Z"),
        KeyParts("sales", "orders", "b.parquet"),
    )
    other = TrackedFile.from_event(
        object_created("crm/customers/c.csv"), KeyParts("crm", "customers", "c.csv")
    )
    for file in (later, earlier, other):
        dynamo_store.put_if_absent(file)
    # When the pending index is queried for sales.orders
    response = dynamodb.query(
        TableName=TABLE_NAME,
        IndexName=PENDING_INDEX,
        KeyConditionExpression="pending_status = :landed AND begins_with(pending_order, :table)",
        ExpressionAttributeValues={
            ":landed": {"S": "raw_file_landed"},
            ":table": {"S": "sales.orders#"},
        },
    )
    # Then it returns that table's files, oldest first
    assert [item["key"]["S"] for item in response["Items"]] == [
        "sales/orders/b.parquet",
        "sales/orders/a.parquet",
    ]


def test_unmatched_key_is_quarantined_once_and_never_pending(
    dynamo_store: DynamoFileTrackerStore, dynamodb: Any
) -> None:
    # Given an unmatched key recorded twice (a redelivery)
    for _ in range(2):
        dynamo_store.record_unmatched(
            "datalake-staging-example", "readme.txt", "abc123", "2026-11-22T10:16:00Z", "no match"
        )
    # When the table and the pending index are read
    items = dynamodb.scan(TableName=TABLE_NAME)["Items"]
    pending = dynamodb.scan(TableName=TABLE_NAME, IndexName=PENDING_INDEX)["Items"]
    # Then one quarantine item exists, apart from real tables, and nothing is pending
    assert items == [
        {
            "source_table": {"S": "__unmatched__"},
            "file_id": {"S": "abc123"},
            "bucket": {"S": "datalake-staging-example"},
            "key": {"S": "readme.txt"},
            "event_time": {"S": "2026-11-22T10:16:00Z"},
            "reason": {"S": "no match"},
            "status": {"S": "unmatched_key"},
            "tracked_at": {"S": FIXED_NOW},
        }
    ]
    assert pending == []


def test_handler_with_dynamodb_store_keeps_one_item_per_file_on_redelivery(
    dynamo_store: DynamoFileTrackerStore, dynamodb: Any
) -> None:
    # Given the handler writing to the template's table
    events = FakeEventsClient()
    tracker = tracker_with(dynamo_store, events)
    # When the sample batch is delivered, then partly redelivered
    for name in ("sqs_batch.json", "redelivery.json"):
        response = app.lambda_handler(load_event(name), FakeLambdaContext(), tracker=tracker)
        assert response == {"batchItemFailures": []}
    # Then there is one item per file, each announced exactly once
    items = dynamodb.scan(TableName=TABLE_NAME)["Items"]
    assert len(items) == 3
    assert all(item["landed_event_published"] == {"BOOL": True} for item in items)
    assert len(landed_keys(events)) == 3


def test_handler_makes_one_write_per_file_and_one_flagging_transaction_per_batch(
    dynamo_store: DynamoFileTrackerStore, dynamodb: Any
) -> None:
    # Given a full SQS batch of 25 new files and the handler writing to the template's table
    events = FakeEventsClient()
    tracker = tracker_with(dynamo_store, events)
    calls = CallRecorder(dynamodb)
    # When the batch is handled
    response = app.lambda_handler(
        sqs_batch_of(object_keys(25)), FakeLambdaContext(), tracker=tracker
    )
    # Then DynamoDB saw 25 conditional puts and one transaction, EventBridge three calls,
    # and every item is flagged announced
    assert response == {"batchItemFailures": []}
    assert calls.counts() == {"PutItem": 25, "TransactWriteItems": 1}
    assert len(events.calls) == 3
    items = dynamodb.scan(TableName=TABLE_NAME)["Items"]
    assert [item["landed_event_published"] for item in items] == [{"BOOL": True}] * 25


@pytest.mark.parametrize("length", [3, 969, 970, 971, 1022, 2047])
def test_the_index_sort_key_stays_within_1024_bytes(length: int) -> None:
    # Given a file of a table whose name has ``length`` bytes (up to what a key can give)
    table = "s." + "t" * (length - 2)
    file = replace(landed_file(), source_table=table)
    # When its index sort key is built / Then it fits DynamoDB's sort key, in landing order
    order = pending_order(file)
    assert len(order.encode()) <= MAX_SORT_KEY_BYTES
    assert order.endswith(f"#{file.event_time}#{file.file_id}")


def test_a_table_name_that_fits_stands_whole_in_the_sort_key() -> None:
    # Given a name of exactly the prefix budget / Then it is its own prefix
    name = "s." + "t" * (MAX_ORDER_PREFIX_BYTES - 2)
    assert order_prefix(name) == name


def test_a_longer_name_is_cut_and_hashed_deterministically() -> None:
    # Given two names one byte over the budget, differing only in their last character
    first = "s." + "t" * (MAX_ORDER_PREFIX_BYTES - 1)
    second = first[:-1] + "u"
    # When their prefixes are built / Then each is bounded, stable and distinct
    assert len(order_prefix(first).encode()) == MAX_ORDER_PREFIX_BYTES
    assert order_prefix(first) == order_prefix(first)
    assert order_prefix(first) != order_prefix(second)
    assert order_prefix(first).startswith("s.ttt")


def test_a_multibyte_name_is_cut_between_characters() -> None:
    # Given a name of three-byte characters over the budget
    name = "s." + "\N{EURO SIGN}" * 400
    # When its prefix is built / Then it is valid UTF-8 within the budget
    prefix = order_prefix(name)
    assert len(prefix.encode()) <= MAX_ORDER_PREFIX_BYTES
    assert prefix.encode().decode() == prefix


def test_default_clock_stamps_the_tracking_time_in_utc_milliseconds(dynamodb: Any) -> None:
    # Given a store on its default clock
    store = DynamoFileTrackerStore(TABLE_NAME, client=dynamodb)
    file = landed_file()
    # When a file is put
    store.put_if_absent(file)
    # Then its tracking time is a UTC ISO-8601 time with milliseconds and a "Z"
    tracked_at = get_item(dynamodb, file)["tracked_at"]["S"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", tracked_at)
    assert datetime.fromisoformat(tracked_at).utcoffset() == timedelta(0)


def test_a_quarantine_record_is_written_once(
    dynamo_store: DynamoFileTrackerStore, dynamodb: Any
) -> None:
    # Given an unmatched key quarantined once
    dynamo_store.record_unmatched(
        "datalake-staging-example", "readme.txt", "abc123", "2026-11-22T10:16:00Z", "no match"
    )
    # When a redelivery quarantines it again later, under another reason
    later = DynamoFileTrackerStore(TABLE_NAME, client=dynamodb, now=lambda: "later")
    later.record_unmatched(
        "datalake-staging-example", "readme.txt", "abc123", "2026-11-22T10:16:00Z", "changed"
    )
    # Then the first record stands
    [item] = dynamodb.scan(TableName=TABLE_NAME)["Items"]
    assert (item["tracked_at"], item["reason"]) == ({"S": FIXED_NOW}, {"S": "no match"})
