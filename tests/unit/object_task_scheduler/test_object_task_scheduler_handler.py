"""The handler over the sample events, with the fakes: partial failures, metrics, logs."""

import pytest
from lambda_support import CapturedLogs, FakeLambdaContext, MetricsReader
from object_task_samples import MASK, PURGE
from object_task_scheduler_fakes import (
    KEY,
    SOON,
    Fakes,
    app,
    load_event,
    object_created,
    sqs_event,
)

from datalake_shared.event_shapes import EventShapeError
from datalake_shared.object_tasks import ORIGIN_METADATA

SECOND_KEY = "dataset/uploads/2026/12/07/mock_uploaded_data_2.json"
SECOND_VERSION = "Lm4Rt8Wq2Zx6Cv0Bn3Mk7Jh1Gf5Ds9Ap"
SECOND_ETAG = "7d793037a0760186574b0282f2f435e7"


def test_sample_upload_is_scheduled_without_failures(
    fakes: Fakes, lambda_context: FakeLambdaContext, emitted_metrics: MetricsReader
) -> None:
    # Given the uploaded object in S3
    fakes.heads.put()
    # When the sample batch is handled
    response = app.lambda_handler(
        load_event("object_created.json"), lambda_context, scheduler=fakes.scheduler()
    )
    # Then its task is recorded and scheduled, and counted
    assert response == {"batchItemFailures": []}
    assert [task.key for task in fakes.tasks()] == [KEY]
    assert list(fakes.triggers.schedules.values()) == ["at(2026-12-08T09:30:00)"]
    assert emitted_metrics.totals() == {"TasksScheduled": 1}


def test_two_uploads_with_three_rules_each_get_three_tasks(
    fakes: Fakes, lambda_context: FakeLambdaContext, emitted_metrics: MetricsReader
) -> None:
    # Given both sample uploads in S3 and three rules covering them
    fakes.heads.put()
    fakes.heads.put(SECOND_KEY, version_id=SECOND_VERSION, etag=SECOND_ETAG)
    scheduler = fakes.scheduler((PURGE, MASK, SOON))
    # When the batch is handled
    response = app.lambda_handler(
        load_event("two_objects.json"), lambda_context, scheduler=scheduler
    )
    # Then six tasks: four schedules, two messages sent now
    assert response == {"batchItemFailures": []}
    assert sorted({task.key for task in fakes.tasks()}) == [KEY, SECOND_KEY]
    assert (len(fakes.triggers.schedules), len(fakes.triggers.sent)) == (4, 2)
    assert emitted_metrics.totals() == {"TasksScheduled": 4, "TasksSentNow": 2}


def test_redelivered_sample_is_counted_already_scheduled(
    fakes: Fakes, lambda_context: FakeLambdaContext, emitted_metrics: MetricsReader
) -> None:
    # Given the sample upload already handled
    fakes.heads.put()
    scheduler = fakes.scheduler()
    app.lambda_handler(load_event("object_created.json"), lambda_context, scheduler=scheduler)
    emitted_metrics.totals()  # drop the first invocation's metrics
    # When SQS delivers it again
    response = app.lambda_handler(
        load_event("object_created.json"), lambda_context, scheduler=scheduler
    )
    # Then it succeeds, with still one schedule, counted as already scheduled
    assert response == {"batchItemFailures": []}
    assert len(fakes.triggers.schedules) == 1
    assert emitted_metrics.totals() == {"TasksAlreadyScheduled": 1}


@pytest.mark.parametrize("name", ["folder_marker.json", "outside_prefix.json"])
def test_folder_marker_and_key_outside_every_rule_are_ignored_and_counted(
    fakes: Fakes, lambda_context: FakeLambdaContext, emitted_metrics: MetricsReader, name: str
) -> None:
    # Given a folder marker, or a key no rule covers / When handled
    response = app.lambda_handler(load_event(name), lambda_context, scheduler=fakes.scheduler())
    # Then it succeeds without a task, counted as ignored
    assert response == {"batchItemFailures": []}
    assert (fakes.ledger.puts, fakes.heads.calls) == ([], [])
    assert emitted_metrics.totals() == {"ObjectsIgnored": 1}


def test_rewritten_object_is_ignored_and_counted(
    fakes: Fakes, lambda_context: FakeLambdaContext, emitted_metrics: MetricsReader
) -> None:
    # Given the object S3 holds was written by object_rewriter
    fakes.heads.put(metadata={ORIGIN_METADATA: "Aa1Bb2Cc3Dd4"})
    # When its event is handled
    response = app.lambda_handler(
        load_event("object_created.json"), lambda_context, scheduler=fakes.scheduler()
    )
    # Then no task, counted as an ignored rewrite
    assert response == {"batchItemFailures": []}
    assert fakes.ledger.items == {}
    assert emitted_metrics.totals() == {"RewritesIgnored": 1}


def test_object_gone_since_is_skipped_with_a_warning(
    fakes: Fakes, lambda_context: FakeLambdaContext, logs: CapturedLogs
) -> None:
    # Given S3 no longer holds the object / When its event is handled
    response = app.lambda_handler(
        load_event("object_created.json"), lambda_context, scheduler=fakes.scheduler()
    )
    # Then the record succeeds and a warning names the object
    assert response == {"batchItemFailures": []}
    warnings = [r for r in logs.records() if r["level"] == "WARNING"]
    assert [(w["object_key"], w["outcome"]) for w in warnings] == [(KEY, "missing")]


def test_malformed_record_fails_alone_while_the_good_one_is_scheduled(
    fakes: Fakes, lambda_context: FakeLambdaContext, emitted_metrics: MetricsReader
) -> None:
    # Given a batch of the sample upload and an S3 test event (not an EventBridge event)
    fakes.heads.put()
    event = load_event("malformed_record.json")
    poison_id = event["Records"][1]["messageId"]
    # When handled
    response = app.lambda_handler(event, lambda_context, scheduler=fakes.scheduler())
    # Then only the poison message is reported, the upload is scheduled, both are counted
    assert response == {"batchItemFailures": [{"itemIdentifier": poison_id}]}
    assert [task.key for task in fakes.tasks()] == [KEY]
    assert emitted_metrics.totals() == {"TasksScheduled": 1, "RecordsFailed": 1}


def test_malformed_record_is_logged_as_an_error_with_its_message_id(
    fakes: Fakes, lambda_context: FakeLambdaContext, logs: CapturedLogs
) -> None:
    # Given a batch with a poison message
    fakes.heads.put()
    event = load_event("malformed_record.json")
    # When handled
    app.lambda_handler(event, lambda_context, scheduler=fakes.scheduler())
    # Then one error names the message and why it was rejected
    errors = [r for r in logs.records() if r["level"] == "ERROR"]
    assert [(e["message_id"], e["message"].startswith("Malformed record")) for e in errors] == [
        (event["Records"][1]["messageId"], True)
    ]
    assert "body.detail: Field required" in errors[0]["error"]


def test_record_whose_trigger_fails_is_redelivered_alone(
    fakes: Fakes, lambda_context: FakeLambdaContext, logs: CapturedLogs
) -> None:
    # Given both sample uploads, and Scheduler failing the first create
    fakes.heads.put()
    fakes.heads.put(SECOND_KEY, version_id=SECOND_VERSION, etag=SECOND_ETAG)
    fakes.triggers.outages = 1
    event = load_event("two_objects.json")
    # When handled
    response = app.lambda_handler(event, lambda_context, scheduler=fakes.scheduler())
    # Then the first message fails (its item stays, for the retry), the second succeeds
    first_id = event["Records"][0]["messageId"]
    assert response == {"batchItemFailures": [{"itemIdentifier": first_id}]}
    assert len(fakes.ledger.items) == 2
    assert list(fakes.triggers.schedules) == [fakes.tasks()[1].task_id]
    errors = [r for r in logs.records() if r["level"] == "ERROR"]
    assert [(e["message_id"], e["object_key"]) for e in errors] == [(first_id, KEY)]


def test_record_with_a_time_zone_less_event_time_fails(
    fakes: Fakes, lambda_context: FakeLambdaContext
) -> None:
    # Given an event whose time has no time zone (no due time can be derived from it)
    fakes.heads.put()
    event = sqs_event(object_created(time="2026-12-07T09:30:00"))
    # When handled / Then that record fails rather than being scheduled at a guessed time
    response = app.lambda_handler(event, lambda_context, scheduler=fakes.scheduler())
    assert response == {"batchItemFailures": [{"itemIdentifier": "m0"}]}
    assert fakes.ledger.items == {}


def test_event_that_is_not_an_sqs_batch_is_rejected_whole(
    fakes: Fakes, lambda_context: FakeLambdaContext
) -> None:
    # Given the bare EventBridge event (as a misrouted rule would deliver it)
    # When handled / Then it is rejected naming the expected shape
    with pytest.raises(EventShapeError, match="SQS batch"):
        app.lambda_handler(object_created(), lambda_context, scheduler=fakes.scheduler())
