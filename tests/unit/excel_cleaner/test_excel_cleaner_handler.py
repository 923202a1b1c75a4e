"""The excel_cleaner Lambda with fakes: every record of every message, test events, malformed
messages, telemetry, and AWS errors raised (after the other records) for Lambda's retries."""

from typing import Any

import pytest
from eventbridge_fake import RecordingPublisher
from excel_cleaner_books import (
    compound_file,
    headcount_ods,
    regions_xlsx,
    sales_report_xlsx,
)
from excel_cleaner_fakes import (
    RAW_BUCKET,
    FakeStore,
    FakeTopic,
    app,
    load_event,
    s3_message,
    s3_record,
    sns_event,
    uploaded,
)
from lambda_support import CapturedLogs, FakeLambdaContext, MetricsReader

from excel_cleaner.service import ExcelCleaner

SAMPLE_KEY = "uploads/finance/Q3 sales report.xlsx"


def handle(event: dict[str, Any], cleaner: ExcelCleaner) -> dict[str, Any]:
    response: dict[str, Any] = app.lambda_handler(event, FakeLambdaContext(), cleaner=cleaner)
    return response


@pytest.fixture
def sample_objects(store: FakeStore) -> FakeStore:
    """The raw bucket holds the objects the sample events name."""
    store.add(SAMPLE_KEY, sales_report_xlsx())
    store.add("uploads/hr/headcount 2026.ods", headcount_ods())
    store.add("uploads/ops/inventory.xlsm", regions_xlsx())
    store.add("uploads/ops/legacy stock.xls", compound_file(["Workbook"]))
    return store


def test_sample_upload_is_cleaned_under_the_decoded_key(
    sample_objects: FakeStore, cleaner: ExcelCleaner, topic: FakeTopic
) -> None:
    # Given the sample event (key "uploads/finance/Q3+sales+report.xlsx") / When handled
    response = handle(load_event("uploaded.json"), cleaner)
    # Then the key is decoded and the CSV lands beside its name
    assert response["results"] == [
        {"outcome": "cleaned", "bucket": RAW_BUCKET, "key": SAMPLE_KEY, "outputs": 1}
    ]
    assert topic.only()["outputs"][0]["key"] == "clean/uploads/finance/Q3 sales report/q3_sales.csv"


def test_every_record_of_every_message_is_handled(
    sample_objects: FakeStore, cleaner: ExcelCleaner, topic: FakeTopic
) -> None:
    # Given two SNS records, the second carrying two S3 records / When handled
    response = handle(load_event("several_records.json"), cleaner)
    # Then all three objects were handled, in order
    assert [(r["key"], r["outcome"]) for r in response["results"]] == [
        ("uploads/hr/headcount 2026.ods", "cleaned"),
        ("uploads/ops/inventory.xlsm", "cleaned"),
        ("uploads/ops/legacy stock.xls", "failed"),
    ]
    assert topic.outcomes() == ["cleaned", "cleaned", "failed"]


def test_s3_test_event_is_ignored(
    cleaner: ExcelCleaner, topic: FakeTopic, emitted_metrics: MetricsReader
) -> None:
    response = handle(load_event("s3_test_event.json"), cleaner)
    assert response == {"results": [{"outcome": "ignored", "note": "s3:TestEvent"}]}
    assert topic.messages == []
    assert emitted_metrics.totals() == {"TestEventsIgnored": 1}


def test_s3_test_event_is_logged(cleaner: ExcelCleaner, logs: CapturedLogs) -> None:
    handle(load_event("s3_test_event.json"), cleaner)
    [line] = [r for r in logs.records() if r["message"] == "S3 test event ignored"]
    assert line["bucket"] == RAW_BUCKET


def test_malformed_message_is_reported_failed_without_raising(
    cleaner: ExcelCleaner, topic: FakeTopic, emitted_metrics: MetricsReader
) -> None:
    response = handle(load_event("malformed_message.json"), cleaner)
    assert response["results"] == [
        {"outcome": "failed", "bucket": None, "key": None, "reason": "malformed_notification"}
    ]
    assert "not JSON" in topic.only()["message"]
    assert emitted_metrics.totals() == {"MalformedNotifications": 1}


def test_a_malformed_record_does_not_stop_the_valid_ones(
    store: FakeStore, cleaner: ExcelCleaner, topic: FakeTopic
) -> None:
    store.add("a.ods", headcount_ods())
    event = sns_event(s3_message({"eventName": "ObjectCreated:Put"}, s3_record("a.ods", 10)))
    response = handle(event, cleaner)
    assert [r["outcome"] for r in response["results"]] == ["failed", "cleaned"]
    assert topic.outcomes() == ["failed", "cleaned"]


def test_cleaned_upload_is_counted(
    sample_objects: FakeStore, cleaner: ExcelCleaner, emitted_metrics: MetricsReader
) -> None:
    handle(load_event("uploaded.json"), cleaner)
    assert emitted_metrics.totals() == {"WorkbooksCleaned": 1, "SheetsWritten": 1, "RowsWritten": 4}


def test_cleaned_upload_logs_its_outputs(
    sample_objects: FakeStore, cleaner: ExcelCleaner, logs: CapturedLogs
) -> None:
    handle(load_event("uploaded.json"), cleaner)
    [line] = [r for r in logs.records() if r["message"] == "Workbook cleaned"]
    assert line["object_key"] == SAMPLE_KEY
    assert line["outputs"][0]["rows"] == 4


def test_failed_upload_logs_an_error_with_the_reason(
    store: FakeStore, cleaner: ExcelCleaner, logs: CapturedLogs
) -> None:
    store.add("bad.xlsx", b"not,a,workbook\n")
    handle(uploaded("bad.xlsx", 15), cleaner)
    [line] = [r for r in logs.records() if r["level"] == "ERROR"]
    assert (line["reason"], line["quarantine"]["key"]) == ("not_a_workbook", "quarantine/bad.xlsx")


def test_eventbridge_failure_is_counted_and_logged(
    sample_objects: FakeStore,
    cleaner: ExcelCleaner,
    events: RecordingPublisher,
    emitted_metrics: MetricsReader,
) -> None:
    events.failing = True
    handle(load_event("uploaded.json"), cleaner)
    assert emitted_metrics.totals()["EventsUnpublished"] == 1


def test_aws_error_raises_after_the_other_records_are_handled(
    sample_objects: FakeStore, cleaner: ExcelCleaner, topic: FakeTopic
) -> None:
    # Given S3 throttling the first read (the .ods of the first message)
    sample_objects.outages["GetObject"] = 1
    # When the event is handled / Then it raises, so Lambda retries...
    with pytest.raises(app.TransientFailureError, match="1 records failed"):
        handle(load_event("several_records.json"), cleaner)
    # ...but only after the other records were cleaned or reported
    assert topic.outcomes() == ["cleaned", "failed"]


def test_retry_after_an_aws_error_skips_what_was_already_cleaned(
    sample_objects: FakeStore, cleaner: ExcelCleaner, topic: FakeTopic
) -> None:
    # Given a first attempt that cleaned the .xlsm but hit an S3 error on the .ods
    sample_objects.outages["GetObject"] = 1
    with pytest.raises(app.TransientFailureError):
        handle(load_event("several_records.json"), cleaner)
    # When Lambda retries the same event
    response = handle(load_event("several_records.json"), cleaner)
    # Then the .ods is cleaned now, and the .xlsm is not cleaned (nor announced) twice
    assert [r["outcome"] for r in response["results"]] == ["cleaned", "duplicate", "failed"]
    assert topic.outcomes() == ["cleaned", "failed", "cleaned", "failed"]


def test_importing_the_handler_builds_no_client() -> None:
    # Given the module imported (by the fixtures) / Then no cleaner was built for Lambda yet
    assert app.default_cleaner.cache_info().currsize == 0


def test_unexpected_error_is_counted_and_raised_after_the_other_records(
    sample_objects: FakeStore,
    cleaner: ExcelCleaner,
    topic: FakeTopic,
    emitted_metrics: MetricsReader,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a bug hit by the .ods only
    original = cleaner.handle

    def buggy(obj: Any) -> Any:
        if obj.key.endswith(".ods"):
            raise KeyError("bug")
        return original(obj)

    monkeypatch.setattr(cleaner, "handle", buggy)
    # When the event is handled / Then the others are done, and the invocation fails for a retry
    with pytest.raises(app.TransientFailureError):
        handle(load_event("several_records.json"), cleaner)
    assert topic.outcomes() == ["cleaned", "failed"]
    assert emitted_metrics.totals()["UnexpectedErrors"] == 1
