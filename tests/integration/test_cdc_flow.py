"""DynamoDB source table → stream → iceberg_cdc → Athena MERGE → Iceberg table, through the
template's wiring (stream mapping with partial failures, bisect and OnFailure destination)."""

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from dev.demo.cdc import HOSTILE, source_writes
from dev.demo.support import athena_rows
from dev.runtime import project_runtime
from local_runtime import LocalRuntime
from tests.integration.conftest import queue_depth

LAKE_QUERY = "SELECT order_id, status, customer_id FROM orders ORDER BY order_id"


def apply_writes(runtime: LocalRuntime, writes: list[tuple[str, dict[str, Any]]]) -> None:
    source = runtime.outputs["CdcSourceTableName"]
    for action, item in writes:
        if action == "delete":
            runtime.dynamodb.delete_item(TableName=source, Key=item)
        else:
            runtime.dynamodb.put_item(TableName=source, Item=item)
    runtime.settle()


def source_state(runtime: LocalRuntime) -> list[list[str]]:
    items = runtime.dynamodb.scan(TableName=runtime.outputs["CdcSourceTableName"])["Items"]
    rows = [[i["order_id"]["S"], i["status"]["S"], i["customer_id"]["S"]] for i in items]
    return sorted(rows)


def lake_state(runtime: LocalRuntime) -> list[list[str]]:
    return athena_rows(runtime, LAKE_QUERY)[1]


def test_the_lake_table_ends_equal_to_the_source_table(runtime: LocalRuntime) -> None:
    # Given inserts, an update of a hostile string and a delete in the source table
    apply_writes(runtime, source_writes(time.time()))
    # Then the Iceberg table holds exactly the source's final state
    assert lake_state(runtime) == source_state(runtime)
    assert [row[2] for row in lake_state(runtime) if row[0] == "o-1002"] == [HOSTILE]
    # And each invocation ran one MERGE
    merges = [q for q in runtime.athena_bridge.queries if q.sql.startswith("MERGE")]
    invocations = [i for i in runtime.invocations if "IcebergCdc" in i.function]
    assert len(merges) == len(invocations) >= 1


def test_a_ttl_expiry_deletes_the_row(runtime: LocalRuntime) -> None:
    # Given an order whose TTL has passed
    now = time.time()
    apply_writes(runtime, source_writes(now))
    assert "o-1003" in [row[0] for row in lake_state(runtime)]
    # When DynamoDB's TTL process removes it
    assert runtime.streams_bridge.expire_items("CdcSourceTable", now) == 1
    runtime.settle()
    # Then the lake drops it too (CdcTtlDeletes=apply)
    assert "o-1003" not in [row[0] for row in lake_state(runtime)]


@pytest.fixture
def ttl_ignoring_runtime() -> Iterator[LocalRuntime]:
    with project_runtime(parameters={"CdcTtlDeletes": "ignore"}) as local:
        yield local


def test_with_ttl_deletes_ignored_the_lake_keeps_expired_rows(
    ttl_ignoring_runtime: LocalRuntime,
) -> None:
    # Given CdcTtlDeletes=ignore and an expired order
    runtime = ttl_ignoring_runtime
    now = time.time()
    apply_writes(runtime, source_writes(now))
    # When TTL removes it from the source
    runtime.streams_bridge.expire_items("CdcSourceTable", now)
    runtime.settle()
    # Then the lake keeps it: the lake keeps history the source expires
    assert "o-1003" in [row[0] for row in lake_state(runtime)]


def test_an_iceberg_commit_conflict_is_retried_and_the_batch_applied(
    runtime: LocalRuntime,
) -> None:
    # Given the next MERGE fails with an Iceberg commit conflict
    runtime.athena_bridge.fail_next(1, statement="MERGE")
    # When changes arrive
    apply_writes(runtime, source_writes(time.time()))
    # Then the function retried the statement and the lake is right; nothing dead-lettered
    injected = [q for q in runtime.athena_bridge.queries if q.injected]
    assert len(injected) == 1
    assert lake_state(runtime) == source_state(runtime)
    assert queue_depth(runtime, "CdcFailuresQueueUrl") == 0


def test_a_batch_that_never_applies_ends_in_the_failures_queue(runtime: LocalRuntime) -> None:
    # Given every MERGE fails with a non-retryable error
    runtime.athena_bridge.fail_next(
        10_000, reason="HIVE_BAD_DATA: poison", retryable=False, statement="MERGE"
    )
    # When a change arrives
    apply_writes(runtime, source_writes(time.time())[:1])
    # Then after the stream's retries the batch is described in the CDC failures queue
    assert queue_depth(runtime, "CdcFailuresQueueUrl") >= 1
    message = runtime.sqs.receive_message(QueueUrl=runtime.outputs["CdcFailuresQueueUrl"])
    record = json.loads(message["Messages"][0]["Body"])
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["DDBStreamBatchInfo"]["batchSize"] >= 1
    assert lake_state(runtime) == []
