"""The batch's announcements against EventBridge's limits, with an EventBridge that refuses what
AWS refuses: a long list is split over entries that each fit, and an announcement that still
cannot fit fails the batch's records, so that Lambda replays them and, its retries spent, sends
the batch to the CDC failures queue (OnFailure): never only a log line."""

from eventbridge_limits import LIMIT_BYTES, aws_entry_size
from iceberg_cdc_fakes import STREAM_ARN, Harness, StreamWriter, batch, order, sequence_number
from lambda_support import CapturedLogs, FakeLambdaContext, MetricsReader

from iceberg_cdc.service import ApplyReport

BATCH_APPLIED = "CDC Batch Applied"
COLUMNS_ADDED = "CDC Columns Added"


def long_names(count: int, length: int, prefix: str = "attr") -> list[str]:
    """``count`` distinct names of ``length`` characters, sorted."""
    return [f"{prefix}_{n:05d}_".ljust(length, "x") for n in range(count)]


def test_unknown_attributes_too_many_for_one_entry_are_announced_in_parts(
    cdc: Harness, stream: StreamWriter, lambda_context: FakeLambdaContext
) -> None:
    # Given an order with 3,000 attributes the table lacks: 300,000 bytes of names alone
    names = long_names(3_000, 100)
    record = stream.insert(order("A", **dict.fromkeys(names, 1)))
    # When handled
    response = cdc.handle(batch(record), lambda_context)
    # Then the order is applied and nothing is retried
    assert response == {"batchItemFailures": []}
    assert "A" in cdc.warehouse.rows()
    # ...and the batch is announced in several entries, each within EventBridge's limit
    entries = [entry for entry in cdc.events.entries if entry["DetailType"] == BATCH_APPLIED]
    assert len(entries) > 1
    assert all(aws_entry_size(entry) < LIMIT_BYTES for entry in entries)
    # ...whose parts name every attribute once, in order, each with the whole batch's counts
    details = cdc.events.details(BATCH_APPLIED)
    assert [name for detail in details for name in detail["unknown_attributes"]] == names
    assert [(d["part"], d["parts"]) for d in details] == [
        (part, len(details)) for part in range(1, len(details) + 1)
    ]
    assert {(d["records_applied"], d["inserted"]) for d in details} == {(1, 1)}


def test_columns_added_too_many_for_one_entry_are_announced_in_parts(cdc: Harness) -> None:
    # Given a batch that added 2,000 columns with 200-character names (over 400,000 bytes)
    columns = [(name, "string") for name in long_names(2_000, 200, prefix="col")]
    report = ApplyReport(columns_added=columns)
    # When announced
    outcome = cdc.cdc.announcer.announce(report, cdc.applier.options, STREAM_ARN)
    # Then every part was put, each entry within the limit, and the parts hold every column
    assert outcome is None
    assert len(cdc.events.entries) > 1
    assert all(aws_entry_size(entry) < LIMIT_BYTES for entry in cdc.events.entries)
    announced = [
        (column["name"], column["type"])
        for detail in cdc.events.details(COLUMNS_ADDED)
        for column in detail["columns"]
    ]
    assert announced == columns


def test_announcement_that_cannot_fit_fails_every_applied_record(
    cdc: Harness,
    stream: StreamWriter,
    lambda_context: FakeLambdaContext,
    logs: CapturedLogs,
    emitted_metrics: MetricsReader,
) -> None:
    # Given two orders, the second with an attribute the table lacks whose name alone (50,000
    # control characters: 300,000 bytes as JSON) is over any entry's limit
    unfit = "\x01" * 50_000
    records = [stream.insert(order("A")), stream.insert(order("B", **{unfit: 1}))]
    # When handled
    response = cdc.handle(batch(*records), lambda_context)
    # Then both orders are in the table, yet both records are reported: Lambda replays them
    # (the MERGE is idempotent) and, retries spent, sends the batch to its OnFailure queue
    assert sorted(cdc.warehouse.rows()) == ["A", "B"]
    assert response == {
        "batchItemFailures": [{"itemIdentifier": sequence_number(r)} for r in records]
    }
    # ...with an error saying why, counted as an event too large (the records were applied)
    errors = [line for line in logs.records() if line["level"] == "ERROR"]
    assert any("too large for EventBridge" in line["message"] for line in errors)
    totals = emitted_metrics.totals()
    assert (totals["EventsTooLarge"], totals["RecordsApplied"], totals["RecordsFailed"]) == (
        1,
        2,
        0,
    )
    # ...and no entry over the limit was ever sent
    assert all(aws_entry_size(entry) < LIMIT_BYTES for entry in cdc.events.entries)
