"""The handler end to end over the sample batches, with the real adapters on fake clients."""

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

import pytest
from eventbridge_fake import FakeEventsClient
from lambda_support import CapturedLogs, FakeLambdaContext, MetricsReader, sample_event_names
from pipeline_metrics_fakes import (
    BUCKET,
    PREFIX,
    FakeS3Client,
    app,
    bodies,
    codepipeline_event,
    handle,
    load_event,
    rows_of,
    sqs_event,
    writer_with,
)

from datalake_shared.event_publisher import PutOutcome
from datalake_shared.event_shapes import EventShapeError
from pipeline_metrics.csv_rows import object_key
from pipeline_metrics.service import MetricsObject, MetricsWriter
from pipeline_metrics.settings import get_settings
from pipeline_metrics.store import S3MetricsStore

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Every sample but the one of unknown shapes (test_pipeline_metrics_sample_events.py lists them).
GOOD_SAMPLES = [
    name for name in sample_event_names("pipeline_metrics") if name != "unknown_shapes.json"
]


def event_ids(name: str) -> list[str]:
    return [body["id"] for body in bodies(name)]


def test_sample_batch_is_one_csv_object_with_a_row_per_event(
    writer: MetricsWriter, s3: FakeS3Client, lambda_context: FakeLambdaContext
) -> None:
    # Given the ten events of a successful execution, all on 2026-11-22
    event = load_event("execution_succeeded.json")
    # When the handler runs
    response = app.lambda_handler(event, lambda_context, writer=writer)
    # Then nothing fails and one object under that day holds the ten rows
    assert response == {"batchItemFailures": []}
    key = object_key(PREFIX, "2026-11-22", event_ids("execution_succeeded.json"))
    assert list(s3.objects) == [key]
    assert sorted(r["event_id"] for r in rows_of(s3.objects.values())) == sorted(
        event_ids("execution_succeeded.json")
    )


def test_objects_are_written_encrypted_as_utf8_csv(
    writer: MetricsWriter, s3: FakeS3Client, lambda_context: FakeLambdaContext
) -> None:
    # Given a sample batch / When handled
    app.lambda_handler(load_event("execution_failed.json"), lambda_context, writer=writer)
    # Then the object is put to the metrics bucket with SSE and the CSV content type
    (request,) = s3.requests
    assert (request["Bucket"], request["ServerSideEncryption"], request["ContentType"]) == (
        BUCKET,
        "AES256",
        "text/csv; charset=utf-8",
    )


@pytest.mark.parametrize("name", GOOD_SAMPLES)
def test_every_sample_batch_is_stored_with_one_row_per_distinct_event(
    name: str, writer: MetricsWriter, s3: FakeS3Client, lambda_context: FakeLambdaContext
) -> None:
    # Given a sample batch / When handled
    response = app.lambda_handler(load_event(name), lambda_context, writer=writer)
    # Then nothing fails and each distinct event is one row
    assert response == {"batchItemFailures": []}
    assert sorted(r["event_id"] for r in rows_of(s3.objects.values())) == sorted(
        set(event_ids(name))
    )


def test_duplicate_event_id_in_a_batch_is_one_row_and_both_messages_succeed(
    writer: MetricsWriter,
    s3: FakeS3Client,
    lambda_context: FakeLambdaContext,
    emitted_metrics: MetricsReader,
) -> None:
    # Given one event delivered in two messages of a batch
    event = load_event("duplicate_event.json")
    # When handled
    response = app.lambda_handler(event, lambda_context, writer=writer)
    # Then one row is written, neither message fails, and the duplicate is counted
    assert response == {"batchItemFailures": []}
    assert len(rows_of(s3.objects.values())) == 1
    assert emitted_metrics.totals() == {
        "RowsWritten": 1,
        "ObjectsWritten": 1,
        "DuplicateEventsSkipped": 1,
    }


def test_batch_delivered_again_overwrites_its_object(
    writer: MetricsWriter, s3: FakeS3Client, lambda_context: FakeLambdaContext
) -> None:
    # Given a batch handled once
    event = load_event("execution_succeeded.json")
    app.lambda_handler(event, lambda_context, writer=writer)
    first = dict(s3.objects)
    # When the same batch is delivered again (the first invocation timed out after writing)
    app.lambda_handler(event, lambda_context, writer=writer)
    # Then the second put went to the same key with the same bytes: still one object
    assert s3.put_keys() == list(first) * 2
    assert s3.objects == first


def test_partial_redelivery_writes_its_own_object(
    writer: MetricsWriter, s3: FakeS3Client, lambda_context: FakeLambdaContext
) -> None:
    # Given a batch handled once
    app.lambda_handler(load_event("execution_succeeded.json"), lambda_context, writer=writer)
    # When SQS delivers three of its messages again in a batch of their own
    response = app.lambda_handler(load_event("redelivery.json"), lambda_context, writer=writer)
    # Then they are stored under the key of their own id set (the queries read each event once)
    assert response == {"batchItemFailures": []}
    assert len(s3.objects) == 2
    assert object_key(PREFIX, "2026-11-22", event_ids("redelivery.json")) in s3.objects


def test_batch_spanning_midnight_writes_one_object_per_utc_day(
    writer: MetricsWriter, s3: FakeS3Client, lambda_context: FakeLambdaContext
) -> None:
    # Given an execution running from 23:59:50 to 00:00:10 UTC / When its batch is handled
    app.lambda_handler(load_event("across_midnight.json"), lambda_context, writer=writer)
    # Then each day's events are in that day's partition
    by_day = {key.split("/")[1]: rows_of([body]) for key, body in s3.objects.items()}
    assert {day: [r["state"] for r in rows] for day, rows in by_day.items()} == {
        "dt=2026-11-22": ["STARTED", "STARTED"],
        "dt=2026-11-23": ["SUCCEEDED", "SUCCEEDED"],
    }


def test_unknown_shapes_are_reported_while_the_good_record_is_written(
    writer: MetricsWriter, s3: FakeS3Client, lambda_context: FakeLambdaContext
) -> None:
    # Given a stage event, a CloudTrail API call and an action event without its type
    event = load_event("unknown_shapes.json")
    ids = [record["messageId"] for record in event["Records"]]
    # When handled
    response = app.lambda_handler(event, lambda_context, writer=writer)
    # Then the two unknown shapes are reported for redelivery (and the DLQ), the stage is written
    assert response == {
        "batchItemFailures": [{"itemIdentifier": ids[1]}, {"itemIdentifier": ids[2]}]
    }
    assert [r["stage"] for r in rows_of(s3.objects.values())] == ["Deploy"]


def test_unknown_shapes_are_logged_with_message_id_and_detail_type(
    writer: MetricsWriter, lambda_context: FakeLambdaContext, logs: CapturedLogs
) -> None:
    # Given the unknown-shapes sample
    event = load_event("unknown_shapes.json")
    records = event["Records"]
    # When handled
    app.lambda_handler(event, lambda_context, writer=writer)
    # Then one error per unknown record names its message, event and detail-type, and why
    errors = [r for r in logs.records() if r["level"] == "ERROR"]
    assert [(e["message_id"], e["detail_type"]) for e in errors] == [
        (records[1]["messageId"], "AWS API Call via CloudTrail"),
        (records[2]["messageId"], "CodePipeline Action Execution State Change"),
    ]
    assert errors[0]["event_id"] == json.loads(records[1]["body"])["id"]
    assert "detail.type: Field required" in errors[1]["error"]


def test_unknown_shapes_are_counted(
    writer: MetricsWriter, lambda_context: FakeLambdaContext, emitted_metrics: MetricsReader
) -> None:
    # Given the unknown-shapes sample / When handled
    app.lambda_handler(load_event("unknown_shapes.json"), lambda_context, writer=writer)
    # Then the unknown events and failed records are counted next to the row written
    assert emitted_metrics.totals() == {
        "UnknownEvents": 2,
        "RecordsFailed": 2,
        "RowsWritten": 1,
        "ObjectsWritten": 1,
    }


@pytest.mark.parametrize(
    "body", ["{not json", "[]", json.dumps({"detail-type": "Scheduled Event"})]
)
def test_body_that_is_not_an_event_is_a_batch_item_failure(
    writer: MetricsWriter, lambda_context: FakeLambdaContext, body: str
) -> None:
    # Given a good record followed by a truncated, non-object or foreign body
    good = codepipeline_event("pipeline", state="STARTED", time="2026-11-22T10:00:00Z")
    # When handled / Then only the bad record fails
    response = app.lambda_handler(sqs_event(good, body), lambda_context, writer=writer)
    assert response == {"batchItemFailures": [{"itemIdentifier": "m1"}]}


def test_batch_of_only_unknown_shapes_reports_each_and_writes_nothing(
    writer: MetricsWriter, s3: FakeS3Client, lambda_context: FakeLambdaContext
) -> None:
    # Given a batch of two poison messages
    event = sqs_event("{not json", "[]")
    # When handled / Then both are reported (no exception, no crash loop) and nothing is put
    response = app.lambda_handler(event, lambda_context, writer=writer)
    assert response == {"batchItemFailures": [{"itemIdentifier": "m0"}, {"itemIdentifier": "m1"}]}
    assert s3.requests == []


def test_failed_put_fails_only_the_messages_of_that_days_object(
    events: FakeEventsClient, lambda_context: FakeLambdaContext
) -> None:
    # Given S3 refusing the object of the second day of a midnight-spanning batch
    event = load_event("across_midnight.json")
    second_day = object_key(PREFIX, "2026-11-23", event_ids("across_midnight.json")[2:])
    s3 = FakeS3Client(denied={second_day: 1})
    # When handled
    (response,) = handle(writer_with(s3, events), event)
    # Then the first day is written and only the second day's two messages are redelivered
    assert response == {
        "batchItemFailures": [
            {"itemIdentifier": record["messageId"]} for record in event["Records"][2:]
        ]
    }
    assert [key.split("/")[1] for key in s3.objects] == ["dt=2026-11-22"]


def test_redelivery_after_a_failed_put_stores_every_event_exactly_once(
    events: FakeEventsClient, lambda_context: FakeLambdaContext
) -> None:
    # Given a midnight-spanning batch whose second day failed to write once
    event = load_event("across_midnight.json")
    second_day = object_key(PREFIX, "2026-11-23", event_ids("across_midnight.json")[2:])
    s3 = FakeS3Client(denied={second_day: 1})
    writer = writer_with(s3, events)
    (first,) = handle(writer, event)
    failed = {failure["itemIdentifier"] for failure in first["batchItemFailures"]}
    # When SQS redelivers the failed messages
    (second,) = handle(
        writer, {"Records": [r for r in event["Records"] if r["messageId"] in failed]}
    )
    # Then the redelivery succeeds and every event is stored once
    assert second == {"batchItemFailures": []}
    assert sorted(r["event_id"] for r in rows_of(s3.objects.values())) == sorted(
        event_ids("across_midnight.json")
    )


def test_failed_put_is_logged_and_counted(
    events: FakeEventsClient,
    lambda_context: FakeLambdaContext,
    logs: CapturedLogs,
    emitted_metrics: MetricsReader,
) -> None:
    # Given S3 throttling every put
    s3 = FakeS3Client(outages={0})
    # When a batch is handled
    handle(writer_with(s3, events), load_event("execution_failed.json"))
    # Then one error names the object and S3's error, and the failures are counted
    errors = [r for r in logs.records() if r["level"] == "ERROR"]
    assert [e["key"] for e in errors] == s3.put_keys()
    assert "SlowDown" in errors[0]["error"]
    assert emitted_metrics.totals() == {"ObjectWriteFailures": 1, "RecordsFailed": 6}


def test_each_written_object_is_announced_on_eventbridge(
    writer: MetricsWriter, s3: FakeS3Client, events: FakeEventsClient
) -> None:
    # Given a midnight-spanning batch / When handled
    handle(writer, load_event("across_midnight.json"))
    # Then one "Pipeline Metrics Written" per object, from datalake-events.pipeline-metrics
    assert [(e["Source"], e["DetailType"]) for call in events.calls for e in call] == [
        ("datalake-events.pipeline-metrics", "Pipeline Metrics Written")
    ] * 2
    first = events.accepted[0]
    key = next(iter(s3.objects))
    assert first["Resources"] == [f"arn:aws:s3:::{BUCKET}/{key}"]
    assert json.loads(first["Detail"]) == {
        "bucket": BUCKET,
        "key": key,
        "dt": "2026-11-22",
        "rows": 2,
        "pipelines": ["nightly-etl"],
        "first_event_time": "2026-11-22T23:59:50Z",
        "last_event_time": "2026-11-22T23:59:51Z",
        "part": 1,
        "parts": 1,
    }


def test_failed_announcement_fails_no_record_and_is_logged_and_counted(
    s3: FakeS3Client,
    lambda_context: FakeLambdaContext,
    logs: CapturedLogs,
    emitted_metrics: MetricsReader,
) -> None:
    # Given EventBridge unavailable
    events = FakeEventsClient(outages={0})
    # When a batch is handled
    (response,) = handle(writer_with(s3, events), load_event("execution_failed.json"))
    # Then the object is written, no record is redelivered, and a warning and a metric say so
    assert response == {"batchItemFailures": []}
    assert len(s3.objects) == 1
    warnings = [r for r in logs.records() if r["level"] == "WARNING"]
    assert [w["key"] for w in warnings] == list(s3.objects)
    assert "InternalException" in warnings[0]["error"]
    assert emitted_metrics.totals() == {
        "RowsWritten": 6,
        "ObjectsWritten": 1,
        "WrittenEventsUnpublished": 1,
    }


def test_each_invocation_logs_one_batch_summary(
    writer: MetricsWriter, lambda_context: FakeLambdaContext, logs: CapturedLogs
) -> None:
    # Given the unknown-shapes sample / When handled
    app.lambda_handler(load_event("unknown_shapes.json"), lambda_context, writer=writer)
    # Then one summary line gives records, rows, objects and failures
    summaries = [r for r in logs.records() if r["message"] == "Batch handled"]
    assert [(s["records"], s["rows"], s["objects"], s["failed"]) for s in summaries] == [
        (3, 1, 1, 2)
    ]


def test_default_writer_is_built_from_settings_without_touching_aws(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the environment the template sets (prefix without its trailing slash)
    monkeypatch.setenv("METRICS_BUCKET", "datalake-metrics-dev")
    monkeypatch.setenv("METRICS_PREFIX", "cicd/pipeline-metrics")
    monkeypatch.setenv("EVENT_BUS_NAME", "datalake-bus")
    get_settings.cache_clear()
    app.default_writer.cache_clear()
    try:
        # When the handler's writer is built
        writer = app.default_writer()
        # Then it writes to the configured bucket and folder, and no AWS client exists yet
        assert isinstance(writer.store, S3MetricsStore)
        assert (writer.store.bucket, writer.prefix) == (
            "datalake-metrics-dev",
            "cicd/pipeline-metrics/",
        )
        assert "client" not in vars(writer.store)
        assert app.default_writer() is writer
    finally:
        get_settings.cache_clear()
        app.default_writer.cache_clear()


class TooLargePublisher:
    """Every announcement refused as too large for EventBridge (it can never be put)."""

    def publish_written(
        self, bucket: str, objects: Sequence[MetricsObject]
    ) -> dict[str, PutOutcome]:
        failure = PutOutcome(error="EntryTooLarge: 300000 bytes", too_large=True)
        return dict.fromkeys((obj.key for obj in objects), failure)


def test_announcement_too_large_fails_its_records_with_an_error_and_a_metric(
    s3: FakeS3Client, logs: CapturedLogs, emitted_metrics: MetricsReader
) -> None:
    # Given announcements EventBridge can never take
    writer = MetricsWriter(
        S3MetricsStore(BUCKET, client=cast("S3Client", s3)), TooLargePublisher(), PREFIX
    )
    event = load_event("execution_failed.json")
    # When a batch is handled
    (response,) = handle(writer, event)
    # Then the object is written, and every record fails: redelivered, then kept by the DLQ
    assert len(s3.objects) == 1
    assert sorted(f["itemIdentifier"] for f in response["batchItemFailures"]) == sorted(
        record["messageId"] for record in event["Records"]
    )
    # ...with an error naming the object, and a metric
    [error] = [r for r in logs.records() if r["level"] == "ERROR"]
    assert (error["key"], "too large" in error["message"]) == (next(iter(s3.objects)), True)
    assert emitted_metrics.totals()["WrittenEventsTooLarge"] == 1


@pytest.mark.parametrize(
    ("event", "received"),
    [
        pytest.param(bodies("execution_failed.json")[0], "an EventBridge event", id="bare-event"),
        pytest.param(
            {"CodePipeline.job": {"id": "11111111-abcd-1111-abcd-111111abcdef"}},
            "a CodePipeline job event",
            id="job-event",
        ),
    ],
)
def test_an_event_that_is_no_sqs_batch_is_rejected_before_any_write(
    writer: MetricsWriter,
    s3: FakeS3Client,
    lambda_context: FakeLambdaContext,
    event: dict[str, object],
    received: str,
) -> None:
    # Given a CodePipeline event sent straight to the function (no SQS around it)
    # When handled / Then rejected naming both shapes, and nothing is written
    with pytest.raises(EventShapeError, match=r"^expected an SQS batch") as raised:
        app.lambda_handler(event, lambda_context, writer=writer)
    assert raised.value.received.startswith(received)
    assert s3.objects == {}
