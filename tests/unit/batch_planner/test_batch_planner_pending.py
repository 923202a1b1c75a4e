"""DynamoPendingTables against moto, on the file tracker table exactly as template.yaml declares
it: one paginated Query of the sparse pending-files index, never a Scan."""

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from boto_calls import CallRecorder
from moto_dynamodb import template_tables

from batch_planner.store import DynamoPendingTables
from datalake_contracts.file_tracker_item import PENDING_INDEX

TABLE_NAME = "file-tracker-test"


@pytest.fixture
def dynamodb(sam_template: dict[str, Any]) -> Iterator[Any]:
    with template_tables(sam_template, {"FileTrackerTable": TABLE_NAME}) as client:
        yield client


def file_item(
    source_table: str, n: int, *, pending: bool = True, key_padding: int = 0
) -> dict[str, Any]:
    """A tracker item shaped like the file tracker writes; pending ones carry the index keys."""
    file_id = f"{n:064x}"
    event_time = f"2026-11-23T09:{n % 60:02d}:00.000Z"
    item: dict[str, Any] = {
        "source_table": {"S": source_table},
        "file_id": {"S": file_id},
        "bucket": {"S": "datalake-staging-example"},
        "key": {"S": f"{source_table.replace('.', '/')}/{n:08d}.csv" + "x" * key_padding},
        "size": {"N": "1024"},
        "event_time": {"S": event_time},
        "load_type": {"S": "cdc"},
        "status": {"S": "raw_file_landed" if pending else "raw_file_processed"},
    }
    if pending:
        item["pending_status"] = {"S": "raw_file_landed"}
        item["pending_order"] = {"S": f"{source_table}#{event_time}#{file_id}"}
    return item


def put_items(client: Any, items: list[dict[str, Any]]) -> None:
    for start in range(0, len(items), 25):
        client.batch_write_item(
            RequestItems={
                TABLE_NAME: [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
            }
        )


def test_tables_with_pending_files_are_found(dynamodb: Any) -> None:
    # Given pending files of two tables and a processed file of a third
    put_items(
        dynamodb,
        [
            file_item("sales.orders", 1),
            file_item("sales.orders", 2),
            file_item("crm.customers", 3),
            file_item("hr.staff", 4, pending=False),
        ],
    )
    # When the pending tables are listed
    tables = DynamoPendingTables(TABLE_NAME, client=dynamodb).pending_tables()
    # Then the two tables with pending files are, and the one with only processed files is not
    assert tables == {"sales.orders", "crm.customers"}


def test_no_pending_files_gives_no_tables(dynamodb: Any) -> None:
    # Given only processed files
    put_items(dynamodb, [file_item("sales.orders", 1, pending=False)])
    # When listed / Then there is none
    assert DynamoPendingTables(TABLE_NAME, client=dynamodb).pending_tables() == set()


def test_every_page_of_one_query_is_read_and_no_scan_is_made(dynamodb: Any) -> None:
    # Given 1,200 pending files of 60 tables, over 1 MB of index items (several result pages)
    put_items(
        dynamodb,
        [file_item(f"schema{n % 60:02d}.table", n, key_padding=1000) for n in range(1200)],
    )
    recorder = CallRecorder(dynamodb)
    # When the pending tables are listed
    tables = DynamoPendingTables(TABLE_NAME, client=dynamodb).pending_tables()
    # Then every table is found, with Query calls only, each following the previous page
    assert tables == {f"schema{n:02d}.table" for n in range(60)}
    operations = recorder.operations()
    assert len(operations) >= 2
    assert set(operations) == {"Query"}
    queries = [params for _, params in recorder.calls]
    assert "ExclusiveStartKey" not in queries[0]
    assert all("ExclusiveStartKey" in params for params in queries[1:])


def test_query_reads_only_the_source_table_of_the_index(dynamodb: Any) -> None:
    # Given a pending file
    put_items(dynamodb, [file_item("sales.orders", 1)])
    recorder = CallRecorder(dynamodb)
    # When listed
    DynamoPendingTables(TABLE_NAME, client=dynamodb).pending_tables()
    # Then the request targets the index's landed partition and projects source_table alone
    # (the base table's key, which every index item carries)
    [(operation, params)] = recorder.calls
    assert operation == "Query"
    assert params["IndexName"] == PENDING_INDEX
    assert params["ExpressionAttributeValues"] == {":landed": {"S": "raw_file_landed"}}
    assert params["KeyConditionExpression"] == "#status = :landed"
    assert params["ProjectionExpression"] == "#table"
    assert params["ExpressionAttributeNames"] == {
        "#status": "pending_status",
        "#table": "source_table",
    }


def test_index_name_matches_the_template(sam_template: dict[str, Any]) -> None:
    # Given the tracker table's indexes / Then the one the adapter queries is among them
    indexes = sam_template["Resources"]["FileTrackerTable"]["Properties"]["GlobalSecondaryIndexes"]
    assert PENDING_INDEX in {index["IndexName"] for index in indexes}


def test_a_table_is_named_whole_even_with_a_hash_in_its_name(dynamodb: Any) -> None:
    # Given a pending file of a table whose name holds "#" (S3 keys may), so its sort key is
    # "sales.orders#2026#<time>#<id>"
    put_items(dynamodb, [file_item("sales.orders#2026", 1)])
    # When listed / Then the table is named whole, not cut at its first "#"
    assert DynamoPendingTables(TABLE_NAME, client=dynamodb).pending_tables() == {
        "sales.orders#2026"
    }


def test_client_is_not_built_until_used(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given boto3 unable to build clients
    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("client built at construction")

    monkeypatch.setattr(boto3, "client", refuse)
    # When the adapter is constructed / Then no client was needed
    adapter = DynamoPendingTables(TABLE_NAME)
    assert adapter.table_name == TABLE_NAME
