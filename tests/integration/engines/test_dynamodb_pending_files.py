"""The sparse pending-files index on DynamoDB Local, as template.yaml declares it (keys and
projection): written by the file tracker's store, read by the Glue job (one table's files) and
by the batch planner (every table with pending files), then emptied by the job's mark_processed.

moto returns every attribute of an index item whatever the projection says; DynamoDB returns
only the projected ones, so these tests see what the readers really get.
"""

from collections.abc import Callable
from typing import Any

import pytest
from boto_calls import CallRecorder
from mypy_boto3_dynamodb import DynamoDBClient

from batch_planner.store import DynamoPendingTables
from cdc_merge.file_tracker import DynamoFileTracker
from cdc_merge.job import plan_files
from datalake_contracts.file_tracker_item import PROCESSED_STATUS
from file_tracker.service import KeyLayout, TrackedFile
from file_tracker.store import DynamoFileTrackerStore, pending_order
from tests.integration.engines.dynamodb_support import (
    MAX_S3_KEY_BYTES,
    MAX_SORT_KEY_BYTES,
    Clock,
    object_created,
    scan_all,
    utf8_len,
)

DEFAULT_LAYOUT = KeyLayout(
    prefix="", pattern=r"^(?P<schema>[^/]+)/(?P<table>[^/]+)/(?:.+/)?(?P<file_name>[^/]+)$"
)
# DMS writes "<schema>/<table>/<file>"; a copy job re-partitions each file into parts, so the
# DMS file name is a folder and the key ends in the part's name.
PARTED_LAYOUT = KeyLayout(
    prefix="",
    pattern=r"^(?P<schema>[^/]+)/(?P<table>[^/]+)/(?P<file_name>[^/]+)/part-\d+\.csv$",
)


@pytest.fixture
def tracker_table(template_table: Callable[[str], str]) -> str:
    return template_table("FileTrackerTable")


def track(
    dynamodb: DynamoDBClient,
    table: str,
    key: str,
    *,
    layout: KeyLayout = DEFAULT_LAYOUT,
    time: str = "2026-11-22T10:15:00Z",
) -> TrackedFile:
    """Tracks the object as the file tracker does (its key mapped by ``layout``)."""
    parts = layout.parse(key)
    assert parts is not None, key
    file = TrackedFile.from_event(object_created(key, time=time), parts)
    assert DynamoFileTrackerStore(table, client=dynamodb).put_if_absent(file).created
    return file


def longest_key(schema: str, file_name: str, table_char: str = "t") -> str:
    """An S3 key of the maximum 1,024 bytes whose table segment takes what is left."""
    room = MAX_S3_KEY_BYTES - utf8_len(f"{schema}//{file_name}")
    table = table_char * (room // utf8_len(table_char))
    key = f"{schema}/{table}/{file_name}"
    assert MAX_S3_KEY_BYTES - utf8_len(table_char) < utf8_len(key) <= MAX_S3_KEY_BYTES
    return key


# ----------------------------------------------------------------------------- projection


def test_the_job_reads_a_files_own_name_when_the_key_ends_in_another(
    dynamodb: DynamoDBClient, tracker_table: str
) -> None:
    # Given a full load whose DMS file names are folders of parts (a custom key pattern)
    track(dynamodb, tracker_table, "sales/orders/LOAD00000001.csv/part-0.csv", layout=PARTED_LAYOUT)
    track(
        dynamodb,
        tracker_table,
        "sales/orders/LOAD00000002.csv/part-0.csv",
        layout=PARTED_LAYOUT,
        time="2026-11-22T10:15:01Z",
    )
    # When the job reads the table's pending files from the index
    files = DynamoFileTracker(tracker_table, client=dynamodb).pending_files("sales.orders")
    # Then each file carries the name the tracker mapped, so the set is planned as a full load
    assert [file.file_name for file in files] == ["LOAD00000001.csv", "LOAD00000002.csv"]
    plan = plan_files(files)
    assert (len(plan.load), plan.changes) == (2, ())


def test_every_attribute_the_job_reads_is_projected_into_the_index(
    dynamodb: DynamoDBClient, tracker_table: str
) -> None:
    # Given a tracked CDC file
    file = track(dynamodb, tracker_table, "sales/orders/2026/11/22/20261122-101500123.csv")
    # When the job reads it back from the index
    [pending] = DynamoFileTracker(tracker_table, client=dynamodb).pending_files("sales.orders")
    # Then it is the file as tracked
    assert (
        pending.source_table,
        pending.file_id,
        pending.bucket,
        pending.key,
        pending.load_type,
        pending.event_time,
        pending.file_name,
    ) == (
        file.source_table,
        file.file_id,
        file.bucket,
        file.key,
        file.load_type,
        file.event_time,
        file.file_name,
    )


# ----------------------------------------------------------------------------- key sizes


def test_a_file_with_the_longest_s3_key_is_tracked_and_found_by_the_job(
    dynamodb: DynamoDBClient, tracker_table: str
) -> None:
    # Given an object whose 1,024-byte key is nearly all table name
    key = longest_key("s", "20261122-101500123.csv")
    # When it is tracked
    file = track(dynamodb, tracker_table, key)
    # Then its index sort key stays within DynamoDB's 1,024 bytes, and the job finds the file
    stored = dynamodb.get_item(
        TableName=tracker_table,
        Key={"source_table": {"S": file.source_table}, "file_id": {"S": file.file_id}},
    )["Item"]
    assert utf8_len(stored["pending_order"]["S"]) <= MAX_SORT_KEY_BYTES
    pending = DynamoFileTracker(tracker_table, client=dynamodb).pending_files(file.source_table)
    assert [p.key for p in pending] == [key]


def test_multibyte_table_names_are_cut_on_a_character_boundary(
    dynamodb: DynamoDBClient, tracker_table: str
) -> None:
    # Given a 1,024-byte key whose table name is four-byte characters
    key = longest_key("s", "x.csv", table_char="\N{MUSICAL SYMBOL G CLEF}")
    # When it is tracked
    file = track(dynamodb, tracker_table, key)
    # Then the sort key is valid UTF-8 within the limit, and the job finds the file
    order = pending_order(file)
    assert utf8_len(order) <= MAX_SORT_KEY_BYTES
    assert order.encode().decode() == order
    pending = DynamoFileTracker(tracker_table, client=dynamodb).pending_files(file.source_table)
    assert [p.file_id for p in pending] == [file.file_id]


def test_a_long_tables_files_keep_their_landing_order_in_the_index(
    dynamodb: DynamoDBClient, tracker_table: str
) -> None:
    # Given three files of a table whose name is too long to stand whole in the sort key,
    # landed out of name order
    table = "t" * 1000
    times = ["2026-11-22T10:15:02Z", "2026-11-22T10:15:00Z", "2026-11-22T10:15:01Z"]
    files = [
        track(dynamodb, tracker_table, f"s/{table}/{name}.csv", time=time)
        for name, time in zip("abc", times, strict=True)
    ]
    # When the index is read in its own order (sort key ascending)
    items = dynamodb.query(
        TableName=tracker_table,
        IndexName="pending-files-index",
        KeyConditionExpression="pending_status = :landed",
        ExpressionAttributeValues={":landed": {"S": "raw_file_landed"}},
    )["Items"]
    # Then the table's files come oldest first, as for any table
    assert [item["file_id"]["S"] for item in items] == [files[i].file_id for i in (1, 2, 0)]


def test_the_bounded_sort_key_is_the_same_for_every_delivery(
    dynamodb: DynamoDBClient, tracker_table: str
) -> None:
    # Given a file of a long table tracked once
    key = longest_key("s", "x.csv")
    file = track(dynamodb, tracker_table, key)
    # When its sort key is computed again (a redelivery, or another process)
    again = TrackedFile.from_event(object_created(key), DEFAULT_LAYOUT.parse(key))  # type: ignore[arg-type]
    # Then it is the stored one
    stored = scan_all(dynamodb, tracker_table)
    assert [item["pending_order"]["S"] for item in stored] == [pending_order(again)]
    assert pending_order(again) == pending_order(file)


# ----------------------------------------------------------------------------- table names


def test_the_job_gets_only_its_tables_files_when_another_name_extends_it(
    dynamodb: DynamoDBClient, tracker_table: str
) -> None:
    # Given files of "sales.orders" and of a table whose name starts with "sales.orders#"
    own = track(dynamodb, tracker_table, "sales/orders/a.csv")
    track(dynamodb, tracker_table, "sales/orders#2026/b.csv")
    # When the job reads sales.orders' pending files
    pending = DynamoFileTracker(tracker_table, client=dynamodb).pending_files("sales.orders")
    # Then the other table's file is not among them
    assert [file.file_id for file in pending] == [own.file_id]


def test_the_planner_names_each_table_whole_even_with_a_hash_in_it(
    dynamodb: DynamoDBClient, tracker_table: str
) -> None:
    # Given pending files of "sales.orders#2026", a long table, and "crm.customers"
    track(dynamodb, tracker_table, "sales/orders#2026/b.csv")
    long_file = track(dynamodb, tracker_table, longest_key("s", "x.csv"))
    track(dynamodb, tracker_table, "crm/customers/c.csv")
    # When the planner lists the tables with pending files
    tables = DynamoPendingTables(tracker_table, client=dynamodb).pending_tables()
    # Then each is named as the tracker named it
    assert tables == {"sales.orders#2026", long_file.source_table, "crm.customers"}


# ----------------------------------------------------------------------------- pagination


def test_the_planner_follows_every_page_of_one_query(
    dynamodb: DynamoDBClient, tracker_table: str
) -> None:
    # Given 1,100 pending files of 50 tables with ~1 KB keys: more than the 1 MB a Query page
    # reads from the index
    store = DynamoFileTrackerStore(tracker_table, client=dynamodb)
    items = []
    for n in range(1100):
        key = f"schema{n % 50:02d}/orders/{n:06d}-" + "k" * 990 + ".csv"
        file = TrackedFile.from_event(object_created(key), DEFAULT_LAYOUT.parse(key))  # type: ignore[arg-type]
        items.append(store.item(file))
    for start in range(0, len(items), 25):
        dynamodb.batch_write_item(
            RequestItems={
                tracker_table: [
                    {"PutRequest": {"Item": item}} for item in items[start : start + 25]
                ]
            }
        )
    recorder = CallRecorder(dynamodb)
    # When the planner lists the tables
    tables = DynamoPendingTables(tracker_table, client=dynamodb).pending_tables()
    # Then it read several pages of the one index Query, never a Scan, and found every table
    queries = recorder.params_of("Query")
    assert len(queries) >= 2
    assert recorder.operations() == ["Query"] * len(queries)
    assert ["ExclusiveStartKey" in query for query in queries] == [False] + [True] * (
        len(queries) - 1
    )
    assert tables == {f"schema{n:02d}.orders" for n in range(50)}


def test_the_job_follows_every_page_of_its_tables_files(
    dynamodb: DynamoDBClient, tracker_table: str
) -> None:
    # Given 1,100 pending files of one table with ~1 KB keys (several index pages)
    store = DynamoFileTrackerStore(tracker_table, client=dynamodb)
    written: list[Any] = []
    for n in range(1100):
        key = f"sales/orders/{n:06d}-" + "k" * 990 + ".csv"
        written.append(TrackedFile.from_event(object_created(key), DEFAULT_LAYOUT.parse(key)))  # type: ignore[arg-type]
    for start in range(0, len(written), 25):
        dynamodb.batch_write_item(
            RequestItems={
                tracker_table: [
                    {"PutRequest": {"Item": store.item(file)}}
                    for file in written[start : start + 25]
                ]
            }
        )
    recorder = CallRecorder(dynamodb)
    # When the job reads the table's pending files
    pending = DynamoFileTracker(tracker_table, client=dynamodb).pending_files("sales.orders")
    # Then every file is there, read over several pages
    assert len(recorder.params_of("Query")) >= 2
    assert sorted(file.file_id for file in pending) == sorted(file.file_id for file in written)


# ----------------------------------------------------------------------------- mark processed


def test_marking_processed_takes_the_files_out_of_the_index(
    dynamodb: DynamoDBClient, tracker_table: str
) -> None:
    # Given two pending files of a table, one of another table
    first = track(dynamodb, tracker_table, "sales/orders/a.csv")
    track(dynamodb, tracker_table, "sales/orders/b.csv", time="2026-11-22T10:15:01Z")
    track(dynamodb, tracker_table, "crm/customers/c.csv")
    job = DynamoFileTracker(tracker_table, client=dynamodb, clock=Clock())
    files = job.pending_files("sales.orders")
    # When the job marks them processed
    job.mark_processed(files, "run-a")
    # Then they leave the index, their items stay as history, and the other table's file stays
    assert job.pending_files("sales.orders") == []
    assert DynamoPendingTables(tracker_table, client=dynamodb).pending_tables() == {"crm.customers"}
    item = dynamodb.get_item(
        TableName=tracker_table,
        Key={"source_table": {"S": "sales.orders"}, "file_id": {"S": first.file_id}},
    )["Item"]
    assert (item["status"]["S"], item["processed_by_run"]["S"]) == (PROCESSED_STATUS, "run-a")
    assert {"pending_status", "pending_order"}.isdisjoint(item)


def test_marking_a_file_that_is_not_tracked_fails_without_creating_it(
    dynamodb: DynamoDBClient, tracker_table: str
) -> None:
    # Given a pending file read by the job, whose item is then deleted
    file = track(dynamodb, tracker_table, "sales/orders/a.csv")
    job = DynamoFileTracker(tracker_table, client=dynamodb, clock=Clock())
    files = job.pending_files("sales.orders")
    dynamodb.delete_item(
        TableName=tracker_table,
        Key={"source_table": {"S": file.source_table}, "file_id": {"S": file.file_id}},
    )
    # When the job marks it processed / Then the conditional update is refused, nothing created
    with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException):
        job.mark_processed(files, "run-a")
    assert scan_all(dynamodb, tracker_table) == []
