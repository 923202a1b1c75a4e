import json

import pytest
from catalog_type_fixer_fakes import (
    FakeCatalog,
    access_denied,
    app,
    column_types,
    event_body,
    load_event,
    sqs_event,
    table_event,
)
from lambda_support import CapturedLogs, FakeLambdaContext, MetricsReader, sample_event_names

from catalog_type_fixer.models import CatalogChangeSqsRecord
from catalog_type_fixer.service import CatalogTypeFixer
from datalake_shared.event_shapes import EventShapeError


def test_every_sample_event_is_an_sqs_batch_of_glue_table_events() -> None:
    # Given the sample events / Then each parses, but the malformed sample's second record
    parsed = {}
    for name in sample_event_names("catalog_type_fixer"):
        records = load_event(name)["Records"]
        good = records[:1] if name == "malformed_record.json" else records
        parsed[name] = [CatalogChangeSqsRecord.model_validate(r).body.detail for r in good]
    assert {name: [d.type_of_change for d in details] for name, details in parsed.items()} == {
        "another_database.json": ["UpdateTable"],
        "malformed_record.json": ["UpdateTable"],
        "partition_created.json": ["BatchCreatePartition"],
        "table_created.json": ["CreateTable"],
        "table_updated.json": ["UpdateTable"],
    }


def test_updated_table_sample_fixes_the_table(
    fixer: CatalogTypeFixer, catalog: FakeCatalog, lambda_context: FakeLambdaContext
) -> None:
    # Given the crawler updated crawled_db.sessions (sample event)
    # When the handler runs
    response = app.lambda_handler(load_event("table_updated.json"), lambda_context, fixer=fixer)
    # Then no record failed and the table's sets are arrays
    assert response == {"batchItemFailures": []}
    assert column_types(catalog.table("sessions"))["page_ids"] == "array<bigint>"


def test_fixed_table_is_counted_with_its_columns(
    fixer: CatalogTypeFixer, lambda_context: FakeLambdaContext, emitted_metrics: MetricsReader
) -> None:
    # Given the table_created sample / When handled
    app.lambda_handler(load_event("table_created.json"), lambda_context, fixer=fixer)
    # Then one table and its four set columns are counted
    assert emitted_metrics.totals() == {"TablesFixed": 1, "ColumnsFixed": 4}


def test_fixed_columns_are_logged(
    fixer: CatalogTypeFixer, lambda_context: FakeLambdaContext, logs: CapturedLogs
) -> None:
    # Given the table_updated sample / When handled
    app.lambda_handler(load_event("table_updated.json"), lambda_context, fixer=fixer)
    # Then one line names the table and its fixed columns
    [line] = [r for r in logs.records() if r["message"] == "Set types made arrays"]
    assert (line["database"], line["table"], line["columns"]) == (
        "crawled_db",
        "sessions",
        ["tags", "page_ids", "device", "experiments"],
    )


@pytest.mark.parametrize("name", ["partition_created.json", "another_database.json"])
def test_skipped_samples_succeed_without_update_and_are_counted(
    fixer: CatalogTypeFixer,
    catalog: FakeCatalog,
    lambda_context: FakeLambdaContext,
    emitted_metrics: MetricsReader,
    name: str,
) -> None:
    # Given a partition change, or a change in a database not configured / When handled
    response = app.lambda_handler(load_event(name), lambda_context, fixer=fixer)
    # Then the record succeeds, nothing is updated, and the skip is counted
    assert response == {"batchItemFailures": []}
    assert catalog.updates == []
    assert emitted_metrics.totals() == {"EventsSkipped": 1}


def test_skip_is_logged_with_its_reason(
    fixer: CatalogTypeFixer, lambda_context: FakeLambdaContext, logs: CapturedLogs
) -> None:
    # Given the partition_created sample / When handled
    app.lambda_handler(load_event("partition_created.json"), lambda_context, fixer=fixer)
    # Then the skip says why
    [line] = [r for r in logs.records() if r["message"] == "Event skipped"]
    assert line["reason"] == "a BatchCreatePartition change cannot change the table's columns"


def test_malformed_record_fails_alone(
    fixer: CatalogTypeFixer, catalog: FakeCatalog, lambda_context: FakeLambdaContext
) -> None:
    # Given a batch with a good event and one without a table name
    event = load_event("malformed_record.json")
    poison_id = event["Records"][1]["messageId"]
    # When handled
    response = app.lambda_handler(event, lambda_context, fixer=fixer)
    # Then only the poison message fails, and the good one fixed its table
    assert response == {"batchItemFailures": [{"itemIdentifier": poison_id}]}
    assert len(catalog.updates) == 1


def test_malformed_record_is_logged_with_its_message_id_and_counted(
    fixer: CatalogTypeFixer,
    lambda_context: FakeLambdaContext,
    logs: CapturedLogs,
    emitted_metrics: MetricsReader,
) -> None:
    # Given the malformed sample / When handled
    event = load_event("malformed_record.json")
    app.lambda_handler(event, lambda_context, fixer=fixer)
    # Then one error names the message and the missing field, and the failure is counted
    errors = [r for r in logs.records() if r["level"] == "ERROR"]
    assert [e["message_id"] for e in errors] == [event["Records"][1]["messageId"]]
    assert "a table state change names its table (detail.tableName)" in errors[0]["error"]
    assert emitted_metrics.totals() == {"TablesFixed": 1, "ColumnsFixed": 4, "RecordsFailed": 1}


@pytest.mark.parametrize("body", ["{not json", json.dumps({"detail-type": "Object Created"})])
def test_body_that_is_not_a_glue_event_fails_its_record(
    fixer: CatalogTypeFixer, lambda_context: FakeLambdaContext, body: str
) -> None:
    # Given a good record and a truncated or foreign body / When handled
    event = sqs_event(event_body(table_event("orders_parquet")), body)
    # Then only the bad record fails
    response = app.lambda_handler(event, lambda_context, fixer=fixer)
    assert response == {"batchItemFailures": [{"itemIdentifier": "m1"}]}


def test_concurrent_modification_fails_only_that_record(
    fixer: CatalogTypeFixer, catalog: FakeCatalog, lambda_context: FakeLambdaContext
) -> None:
    # Given a crawler writes sessions right after the fixer reads it, in a batch with another
    catalog.crawler_writes_after_read = 1
    event = sqs_event(
        event_body(table_event("sessions")), event_body(table_event("orders_parquet"))
    )
    # When handled
    response = app.lambda_handler(event, lambda_context, fixer=fixer)
    # Then the sessions record fails (SQS redelivers it) and the other succeeds
    assert response == {"batchItemFailures": [{"itemIdentifier": "m0"}]}


def test_concurrent_modification_is_a_warning_not_an_error(
    fixer: CatalogTypeFixer,
    catalog: FakeCatalog,
    lambda_context: FakeLambdaContext,
    logs: CapturedLogs,
) -> None:
    # Given a crawler's write between read and update / When handled
    catalog.crawler_writes_after_read = 1
    app.lambda_handler(load_event("table_updated.json"), lambda_context, fixer=fixer)
    # Then a warning names the table and says it will be redelivered
    lines = [r for r in logs.records() if r["level"] in {"WARNING", "ERROR"}]
    assert [(r["level"], r["message"], r["tables"]) for r in lines] == [
        ("WARNING", "Table changed while being fixed; SQS will redeliver it", ["sessions"])
    ]


def test_other_glue_error_fails_the_record_with_a_clear_error(
    fixer: CatalogTypeFixer,
    catalog: FakeCatalog,
    lambda_context: FakeLambdaContext,
    logs: CapturedLogs,
    emitted_metrics: MetricsReader,
) -> None:
    # Given Glue denies the update
    catalog.update_errors.append(access_denied())
    event = load_event("table_updated.json")
    # When handled
    response = app.lambda_handler(event, lambda_context, fixer=fixer)
    # Then the record fails, an error names the table and Glue's error, and it is counted
    assert response == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    [error] = [r for r in logs.records() if r["level"] == "ERROR"]
    assert (error["database"], error["tables"]) == ("crawled_db", ["sessions"])
    assert error["error"].startswith("ClientError: An error occurred (AccessDeniedException)")
    assert emitted_metrics.totals() == {"RecordsFailed": 1}


def test_refused_iceberg_table_is_counted(
    fixer: CatalogTypeFixer,
    catalog: FakeCatalog,
    lambda_context: FakeLambdaContext,
    emitted_metrics: MetricsReader,
) -> None:
    # Given an event about the Iceberg table / When handled
    event = sqs_event(event_body(table_event("sessions_iceberg")))
    response = app.lambda_handler(event, lambda_context, fixer=fixer)
    # Then it succeeds without update and is counted as refused
    assert response == {"batchItemFailures": []}
    assert catalog.updates == []
    assert emitted_metrics.totals() == {"TablesRefused": 1}


def test_redelivered_event_of_a_fixed_table_is_counted_unchanged(
    fixer: CatalogTypeFixer,
    catalog: FakeCatalog,
    lambda_context: FakeLambdaContext,
    emitted_metrics: MetricsReader,
) -> None:
    # Given the sample handled once
    app.lambda_handler(load_event("table_updated.json"), lambda_context, fixer=fixer)
    emitted_metrics.totals()  # drop the first invocation's metrics
    # When SQS delivers it again
    response = app.lambda_handler(load_event("table_updated.json"), lambda_context, fixer=fixer)
    # Then it succeeds without a second update
    assert response == {"batchItemFailures": []}
    assert len(catalog.updates) == 1
    assert emitted_metrics.totals() == {"TablesUnchanged": 1}


def test_event_that_is_not_an_sqs_batch_is_rejected_whole(
    fixer: CatalogTypeFixer, lambda_context: FakeLambdaContext
) -> None:
    # Given the Glue event itself, as if the rule targeted the function directly
    event = event_body(table_event("sessions"))
    # When handled / Then the whole event is rejected, naming what came
    with pytest.raises(EventShapeError, match="an EventBridge event"):
        app.lambda_handler(event, lambda_context, fixer=fixer)
