"""The handler with every sample event, over a fake Glue catalog and an Athena on DuckDB."""

import base64
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from iceberg_cdc_fakes import (
    Harness,
    StreamWriter,
    app,
    batch,
    harness,
    load_event,
    order,
    sequence_number,
)
from lambda_support import CapturedLogs, FakeLambdaContext, MetricsReader

from datalake_shared.event_shapes import EventShapeError
from iceberg_cdc.changes import MalformedBatchError, TtlPolicy
from iceberg_cdc.service import UnknownAttributePolicy

NO_FAILURES = {"batchItemFailures": []}


def test_insert_sample_writes_the_row_and_announces_the_batch(
    cdc: Harness, lambda_context: FakeLambdaContext
) -> None:
    # Given the insert sample / When handled
    response = cdc.handle(load_event("insert.json"), lambda_context)
    # Then the order is in the table with every column typed
    assert response == NO_FAILURES
    row = cdc.warehouse.rows()["ord-1001"]
    assert row["amount"] == Decimal("129.95")
    assert row["tags"] == ["priority", "web"]
    assert row["updated_at"] == datetime(2026, 11, 20, 10, 15, 30, 123456)
    assert row["order_date"] == date(2026, 11, 20)
    # And one "CDC Batch Applied" event tells what happened
    (detail,) = cdc.events.details("CDC Batch Applied")
    assert (detail["inserted"], detail["updated"], detail["deleted"]) == (1, 0, 0)
    assert detail["statements"] == 1
    assert len(detail["query_execution_ids"]) == 1
    assert detail["source_table_arn"].endswith(":table/datalake-events-dev-cdc-orders")


def test_modify_sample_updates_the_row(cdc: Harness, lambda_context: FakeLambdaContext) -> None:
    # Given the order inserted / When the modify sample is handled
    cdc.handle(load_event("insert.json"), lambda_context)
    response = cdc.handle(load_event("modify.json"), lambda_context)
    # Then the row holds the new image
    assert response == NO_FAILURES
    row = cdc.warehouse.rows()["ord-1001"]
    assert (row["status"], row["amount"]) == ("shipped", Decimal("119.95"))
    assert cdc.events.details("CDC Batch Applied")[-1]["updated"] == 1


def test_remove_sample_deletes_the_row(cdc: Harness, lambda_context: FakeLambdaContext) -> None:
    # Given the order inserted / When the remove sample is handled / Then the row is gone
    cdc.handle(load_event("insert.json"), lambda_context)
    assert cdc.handle(load_event("remove.json"), lambda_context) == NO_FAILURES
    assert cdc.warehouse.rows() == {}
    assert cdc.events.details("CDC Batch Applied")[-1]["deleted"] == 1


def test_ttl_remove_sample_deletes_by_default(
    cdc: Harness, lambda_context: FakeLambdaContext
) -> None:
    # Given the expired order in the table / When the TTL removal is handled / Then deleted
    cdc.warehouse.insert({"order_id": "ord-0917"})
    assert cdc.handle(load_event("ttl_remove.json"), lambda_context) == NO_FAILURES
    assert cdc.warehouse.rows() == {}


def test_ttl_remove_sample_is_ignored_and_counted_when_configured(
    lambda_context: FakeLambdaContext, emitted_metrics: MetricsReader
) -> None:
    # Given TTL_DELETES=ignore and the expired order in the table
    cdc = harness(ttl_policy=TtlPolicy.IGNORE)
    cdc.warehouse.insert({"order_id": "ord-0917"})
    # When the TTL removal is handled
    response = cdc.handle(load_event("ttl_remove.json"), lambda_context)
    # Then the row stays, no statement runs, nothing is announced, and the skip is counted
    assert response == NO_FAILURES
    assert "ord-0917" in cdc.warehouse.rows()
    assert cdc.athena.started == []
    assert cdc.events.entries == []
    assert emitted_metrics.totals() == {
        "RecordsApplied": 0,
        "RecordsFailed": 0,
        "StatementsRun": 0,
        "TtlDeletesIgnored": 1,
    }


def test_nested_types_sample_lands_in_the_columns_types(
    cdc: Harness, lambda_context: FakeLambdaContext
) -> None:
    # Given the sample with M, L, SS, NS, BS, B, NULL and BOOL values / When handled
    response = cdc.handle(load_event("nested_types.json"), lambda_context)
    # Then each value has its column's type
    assert response == NO_FAILURES
    row = cdc.warehouse.rows()["ord-2001"]
    assert row["customer_id"] is None
    assert row["is_gift"] is True
    assert row["quantity"] == 9223372036854775807
    assert row["amount"] == Decimal("9999999999.99")
    assert row["tags"] == ["express", "fragile", "gift"]
    assert row["attributes"] == {
        "gift_message": "Happy birthday!",
        "wrapping": "blue",
        "note": None,
    }
    assert row["shipping_address"] == {
        "street": "221B Baker Street",
        "city": "London",
        "postcode": "NW1 6XE",
    }
    assert row["signature"] == bytes(range(0, 256, 17))
    assert row["updated_at"] == datetime(2026, 11, 20, 10, 35, 30, 123000)
    # And the line items (L of M with NS, BS, SS inside) are canonical JSON text, numbers exact
    assert row["line_items"].startswith(
        '[{"barcodes":["AQID","/v8="],"colours":["blue","red"],"dims":[10,20.25,{"unit":"cm"}],'
    )
    assert '"sizes":[7,10.5,42]' in row["line_items"]
    assert '"unit_price":12345678901234567890.123456789' in row["line_items"]


def test_hostile_strings_are_stored_verbatim(
    cdc: Harness, lambda_context: FakeLambdaContext
) -> None:
    # Given the sample whose strings try to end their literal and run SQL / When handled
    event = load_event("hostile_string.json")
    response = cdc.handle(event, lambda_context)
    # Then the table still exists and holds each string exactly as DynamoDB did
    assert response == NO_FAILURES
    new_image = event["Records"][-1]["dynamodb"]["NewImage"]
    ((key, row),) = cdc.warehouse.rows().items()
    assert key == new_image["order_id"]["S"] == "ord-'; DROP TABLE orders; --"
    assert row["status"] == new_image["status"]["S"]
    assert row["customer_id"] == new_image["customer_id"]["S"]
    assert "\x00" in row["customer_id"]
    assert row["attributes"] == {k: v["S"] for k, v in new_image["attributes"]["M"].items()}
    assert row["shipping_address"]["street"] == "O'Connell Street\\"
    assert sorted(row["tags"]) == sorted(new_image["tags"]["SS"])
    assert len(cdc.athena.started) == 1


def test_mixed_batch_sample_applies_the_last_change_per_key_in_one_statement(
    cdc: Harness, lambda_context: FakeLambdaContext
) -> None:
    # Given the rows the batch removes already in the table
    cdc.warehouse.insert({"order_id": "ord-2999"})
    cdc.warehouse.insert({"order_id": "ord-2998"})
    # When the mixed batch is handled
    response = cdc.handle(load_event("mixed_batch.json"), lambda_context)
    # Then one MERGE leaves each key at its last change
    assert response == NO_FAILURES
    assert len(cdc.athena.started) == 1
    rows = cdc.warehouse.rows()
    assert sorted(rows) == ["ord-3001", "ord-3002"]
    assert rows["ord-3001"]["status"] == "shipped"
    (detail,) = cdc.events.details("CDC Batch Applied")
    assert (detail["records"], detail["keys_applied"]) == (8, 5)
    assert (detail["inserted"], detail["updated"], detail["deleted"]) == (2, 0, 3)


def test_sample_batch_emits_the_batch_metrics(
    cdc: Harness, lambda_context: FakeLambdaContext, emitted_metrics: MetricsReader
) -> None:
    # Given the mixed batch / When handled / Then records and statements are counted
    cdc.handle(load_event("mixed_batch.json"), lambda_context)
    assert emitted_metrics.totals() == {"RecordsApplied": 8, "RecordsFailed": 0, "StatementsRun": 1}


def test_failed_record_is_reported_logged_and_counted(
    cdc: Harness,
    stream: StreamWriter,
    lambda_context: FakeLambdaContext,
    logs: CapturedLogs,
    emitted_metrics: MetricsReader,
) -> None:
    # Given a batch where Athena rejects one key
    records = [stream.insert(order("good")), stream.insert(order("poison"))]
    cdc.athena.poison = ("poison",)
    # When handled
    response = cdc.handle(batch(*records), lambda_context)
    # Then only that record is in batchItemFailures, logged with its reason, and counted
    assert response == {"batchItemFailures": [{"itemIdentifier": sequence_number(records[1])}]}
    errors = [line for line in logs.records() if line["level"] == "ERROR"]
    assert [line["sequence_number"] for line in errors] == [sequence_number(records[1])]
    assert "INVALID_CAST_ARGUMENT" in errors[0]["reason"]
    totals = emitted_metrics.totals()
    assert (totals["RecordsApplied"], totals["RecordsFailed"], totals["StatementsRun"]) == (1, 1, 3)


def test_commit_conflict_retries_are_counted(
    cdc: Harness,
    stream: StreamWriter,
    lambda_context: FakeLambdaContext,
    emitted_metrics: MetricsReader,
) -> None:
    # Given one commit conflict / When a batch is handled / Then the retry is counted
    cdc.athena.conflicts = 1
    assert cdc.handle(batch(stream.insert(order("A"))), lambda_context) == NO_FAILURES
    assert emitted_metrics.totals()["CommitConflictsRetried"] == 1


def test_unknown_attributes_are_logged_and_counted(
    cdc: Harness,
    stream: StreamWriter,
    lambda_context: FakeLambdaContext,
    logs: CapturedLogs,
    emitted_metrics: MetricsReader,
) -> None:
    # Given an order with an attribute the table lacks / When handled
    cdc.handle(batch(stream.insert(order("A", gift_note="hi"))), lambda_context)
    # Then a warning names it and the metric counts it
    warnings = [line for line in logs.records() if line["level"] == "WARNING"]
    assert warnings[0]["attributes"] == {"gift_note": 1}
    assert emitted_metrics.totals()["UnknownAttributes"] == 1


def test_publish_failure_does_not_fail_the_batch(
    cdc: Harness,
    lambda_context: FakeLambdaContext,
    logs: CapturedLogs,
    emitted_metrics: MetricsReader,
) -> None:
    # Given EventBridge unavailable
    cdc.events.fail_next(1)
    # When the insert sample is handled
    response = cdc.handle(load_event("insert.json"), lambda_context)
    # Then the batch is applied and not retried; the failure is logged and counted
    assert response == NO_FAILURES
    assert "ord-1001" in cdc.warehouse.rows()
    assert any("Could not publish" in line["message"] for line in logs.records())
    assert emitted_metrics.totals()["EventPublishFailures"] == 1


def test_columns_added_are_announced(
    lambda_context: FakeLambdaContext, stream: StreamWriter
) -> None:
    # Given UNKNOWN_ATTRIBUTES=add / When an order with a new attribute is handled
    cdc = harness(unknown_attributes=UnknownAttributePolicy.ADD)
    cdc.handle(batch(stream.insert(order("A", gift_note="hi"))), lambda_context)
    # Then a "CDC Columns Added" event names the column and its type
    (detail,) = cdc.events.details("CDC Columns Added")
    assert detail["columns"] == [{"name": "gift_note", "type": "string"}]


def test_binary_values_round_trip(
    cdc: Harness, stream: StreamWriter, lambda_context: FakeLambdaContext
) -> None:
    # Given every byte value in a signature / When handled / Then stored byte for byte
    signature = bytes(range(256))
    cdc.handle(batch(stream.insert(order("A", signature=signature))), lambda_context)
    assert cdc.warehouse.rows()["A"]["signature"] == signature
    assert base64.b64encode(signature).decode() in cdc.athena.started[0]


def test_record_that_is_no_stream_record_fails_the_invocation(
    cdc: Harness, lambda_context: FakeLambdaContext
) -> None:
    # Given a stream record without a sequence number (it cannot be reported)
    # When handled / Then the invocation fails, so Lambda retries and finally dead-letters it
    with pytest.raises(MalformedBatchError):
        cdc.handle(batch({"eventSource": "aws:dynamodb", "eventName": "INSERT"}), lambda_context)


@pytest.mark.parametrize("sequence_number", ["1" * 41, "9" * 300_000, "\uff11\uff12", "-5"])
def test_a_malformed_sequence_number_fails_the_invocation_before_any_statement(
    cdc: Harness, lambda_context: FakeLambdaContext, sequence_number: str
) -> None:
    # Given a stream record whose sequence number is not 1 to 40 ASCII digits
    record = {"eventSource": "aws:dynamodb", "dynamodb": {"SequenceNumber": sequence_number}}
    # When handled / Then the batch fails as a whole, naming why, and nothing ran
    with pytest.raises(MalformedBatchError, match=r"1 to 40 digits"):
        cdc.handle(batch(record), lambda_context)
    assert cdc.athena.started == []


@pytest.mark.parametrize(
    ("event", "received"),
    [
        ({"Records": []}, "an empty 'Records' list"),
        (batch({"eventName": "INSERT"}), "1 record(s) from no eventSource"),
        ({"detail-type": "Object Created", "source": "aws.s3"}, "an EventBridge event"),
    ],
    ids=["empty", "no-event-source", "eventbridge"],
)
def test_an_event_that_is_no_stream_batch_is_rejected_before_any_statement(
    cdc: Harness, lambda_context: FakeLambdaContext, event: dict[str, Any], received: str
) -> None:
    # Given an event that is not a DynamoDB stream batch / When handled
    with pytest.raises(EventShapeError, match=r"^expected a DynamoDB stream batch") as raised:
        cdc.handle(event, lambda_context)
    # Then it is rejected naming what came, and nothing ran or was announced
    assert raised.value.received.startswith(received)
    assert cdc.athena.started == []
    assert cdc.events.entries == []


def test_time_left_comes_from_the_lambda_context_minus_a_reserve() -> None:
    # Given a context with 60 s left / Then Athena may use all but the response reserve
    class Context:
        def get_remaining_time_in_millis(self) -> int:
            return 60_000

    assert app.time_left(Context())() == 60.0 - app.RESPONSE_RESERVE_SECONDS


def test_time_left_without_a_lambda_context_is_bounded() -> None:
    # Given a context that cannot tell (a local run) / Then a fixed budget applies
    assert 0 < app.time_left(object())() <= app.DEFAULT_BUDGET_SECONDS
