"""The Glue job's processing history (glue/cdc_merge/history.py) on DynamoDB Local, on the
history table exactly as template.yaml declares it: one item per table per run, the longest
error it stores, and keys that stay within DynamoDB's limits."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from mypy_boto3_dynamodb import DynamoDBClient

from cdc_merge.history import MAX_ERROR_CHARS, DynamoHistory, HistoryRecord
from tests.integration.engines.dynamodb_support import (
    MAX_ITEM_BYTES,
    MAX_PARTITION_KEY_BYTES,
    MAX_SORT_KEY_BYTES,
    utf8_len,
)

STARTED = datetime(2026, 11, 23, 10, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture
def history_table(template_table: Callable[[str], str]) -> str:
    return template_table("ProcessingHistoryTable")


def record(**changes: object) -> HistoryRecord:
    values: dict[str, object] = {
        "source_table": "sales.orders",
        "run_id": "hourly-2026-11-23T10-00",
        "batch_id": "hourly-hourly-2026-11-23T10-00-001",
        "status": "succeeded",
        "started_at": STARTED,
        "finished_at": STARTED + timedelta(seconds=2, milliseconds=500),
        "files": 3,
        "inserted": 10,
        "updated": 2,
        "deleted": 1,
        "full_load": True,
    }
    values.update(changes)
    return HistoryRecord(**values)  # type: ignore[arg-type]


def items_of(dynamodb: DynamoDBClient, table: str, source_table: str) -> list[dict[str, object]]:
    response = dynamodb.query(
        TableName=table,
        KeyConditionExpression="source_table = :table",
        ExpressionAttributeValues={":table": {"S": source_table}},
        ConsistentRead=True,
    )
    return [
        {name: next(iter(value.values())) for name, value in item.items()}
        for item in response["Items"]
    ]


def test_a_run_of_a_table_is_recorded_with_its_counts(
    dynamodb: DynamoDBClient, history_table: str
) -> None:
    # Given a table's successful run / When recorded
    DynamoHistory(history_table, client=dynamodb).record(record())
    # Then one item holds it, keyed by table and start time + run
    assert items_of(dynamodb, history_table, "sales.orders") == [
        {
            "source_table": "sales.orders",
            "run_key": f"{STARTED.isoformat()}#hourly-2026-11-23T10-00",
            "run_id": "hourly-2026-11-23T10-00",
            "batch_id": "hourly-hourly-2026-11-23T10-00-001",
            "status": "succeeded",
            "started_at": STARTED.isoformat(),
            "finished_at": (STARTED + timedelta(seconds=2, milliseconds=500)).isoformat(),
            "duration_ms": "2500",
            "files": "3",
            "inserted": "10",
            "updated": "2",
            "deleted": "1",
            "full_load": True,
        }
    ]


def test_a_tables_runs_read_back_in_start_order(
    dynamodb: DynamoDBClient, history_table: str
) -> None:
    # Given three runs recorded out of order
    history = DynamoHistory(history_table, client=dynamodb)
    for hours in (2, 0, 1):
        started = STARTED + timedelta(hours=hours)
        history.record(record(started_at=started, finished_at=started, run_id=f"run-{hours}"))
    # When the table's history is queried / Then it comes oldest first
    runs = [item["run_id"] for item in items_of(dynamodb, history_table, "sales.orders")]
    assert runs == ["run-0", "run-1", "run-2"]


def test_the_longest_error_is_stored_within_the_item_limit(
    dynamodb: DynamoDBClient, history_table: str
) -> None:
    # Given a failure whose error (a Spark stack, say) is 100,000 four-byte characters
    error = "\N{GREEK SMALL LETTER ALPHA}\N{MUSICAL SYMBOL G CLEF}" * 50_000
    # When recorded
    DynamoHistory(history_table, client=dynamodb).record(record(status="failed", error=error))
    # Then DynamoDB holds its beginning, as much as the job keeps, far below 400 KB
    [item] = items_of(dynamodb, history_table, "sales.orders")
    assert item["error"] == error[:MAX_ERROR_CHARS]
    assert utf8_len(str(item["error"])) <= 4 * MAX_ERROR_CHARS < MAX_ITEM_BYTES // 10


def test_a_run_id_too_long_for_the_sort_key_is_still_recorded(
    dynamodb: DynamoDBClient, history_table: str
) -> None:
    # Given a run id (a batch passed to the job by hand) longer than a sort key may be
    run_id = "manual-" + "r" * 2000
    # When the run is recorded
    DynamoHistory(history_table, client=dynamodb).record(record(run_id=run_id))
    # Then its key is bounded, still starts with the start time, and run_id is kept whole
    [item] = items_of(dynamodb, history_table, "sales.orders")
    assert utf8_len(str(item["run_key"])) <= MAX_SORT_KEY_BYTES
    assert str(item["run_key"]).startswith(f"{STARTED.isoformat()}#manual-rrr")
    assert item["run_id"] == run_id


def test_two_long_run_ids_keep_two_records(dynamodb: DynamoDBClient, history_table: str) -> None:
    # Given two long run ids that differ only at their end, started at the same moment
    history = DynamoHistory(history_table, client=dynamodb)
    first, second = "r" * 2000 + "1", "r" * 2000 + "2"
    # When both are recorded / Then neither overwrites the other
    history.record(record(run_id=first))
    history.record(record(run_id=second))
    runs = {item["run_id"] for item in items_of(dynamodb, history_table, "sales.orders")}
    assert runs == {first, second}


def test_a_table_name_too_long_for_the_partition_key_is_still_recorded(
    dynamodb: DynamoDBClient, history_table: str
) -> None:
    # Given a failed entry of a hand-made batch whose table name is over 2,048 bytes
    name = "s." + "t" * 3000
    history = DynamoHistory(history_table, client=dynamodb)
    # When recorded
    history.record(record(source_table=name, status="failed", error="invalid table spec"))
    # Then it is stored under a bounded key, found again by the same key
    key = history.item(record(source_table=name))["source_table"]["S"]
    assert utf8_len(key) <= MAX_PARTITION_KEY_BYTES
    [item] = items_of(dynamodb, history_table, key)
    assert item["error"] == "invalid table spec"
