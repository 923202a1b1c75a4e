import copy
import json
from datetime import timedelta
from typing import Any

import pytest
from lambda_support import CapturedLogs, FakeLambdaContext, MetricsReader, sample_event_names
from object_rewriter_fakes import (
    BUCKET,
    LANDED,
    NOW,
    SAMPLE_KEY,
    SAMPLE_VERSION,
    UPLOAD,
    FakeLedger,
    FakeObjectStore,
    FakeTaskQueue,
    StoreUnavailableError,
    app,
    load_event,
)
from object_task_samples import MASK, PURGE

from datalake_shared.event_shapes import EventShapeError
from datalake_shared.object_tasks import ObjectTask, TaskOutcome, task_from_item, task_id
from object_rewriter.fallback import FallbackRequeuer
from object_rewriter.service import ObjectRewriter

MASKED = b'{"id":1,"email":"***","file_contents":"SECRET-1"}\n'
MASKED += b'{"id":2,"email":"***","file_contents":"SECRET-2"}\n'


@pytest.fixture
def uploaded(store: FakeObjectStore) -> None:
    """The upload the sample events' tasks belong to."""
    store.upload(SAMPLE_KEY, UPLOAD, version_id=SAMPLE_VERSION)


def sample_task(rule: Any = PURGE) -> ObjectTask:
    return ObjectTask.for_upload(BUCKET, SAMPLE_KEY, SAMPLE_VERSION, rule, LANDED)


def message_ids(event: dict[str, Any]) -> list[str]:
    return [record["messageId"] for record in event["Records"]]


def failures(*ids: str) -> dict[str, Any]:
    return {"batchItemFailures": [{"itemIdentifier": item} for item in ids]}


# --- the samples ------------------------------------------------------------------------------


def test_sample_events_name_the_tasks_of_their_upload() -> None:
    # Given the samples / Then their task ids are those task_id derives from their data
    body = json.loads(load_event("scheduled_task.json")["Records"][0]["body"])
    assert body["task_id"] == task_id(BUCKET, SAMPLE_KEY, SAMPLE_VERSION, PURGE.name)
    for name in ("ttl_fallback.json", "ttl_fallback_exhausted.json", "user_delete.json"):
        record = load_event(name)["Records"][0]["dynamodb"]
        task = task_from_item(record["OldImage"])
        assert task == sample_task(MASK)
        assert record["Keys"]["task_id"]["S"] == task_id(
            BUCKET, SAMPLE_KEY, SAMPLE_VERSION, MASK.name
        )


def test_every_sample_event_is_covered_here() -> None:
    assert sample_event_names("object_rewriter") == [
        "malformed_message.json",
        "scheduled_task.json",
        "ttl_fallback.json",
        "ttl_fallback_exhausted.json",
        "user_delete.json",
    ]


# --- task messages ----------------------------------------------------------------------------


@pytest.mark.usefixtures("uploaded")
def test_a_scheduled_task_message_rewrites_the_object(
    rewriter: ObjectRewriter,
    store: FakeObjectStore,
    ledger: FakeLedger,
    lambda_context: FakeLambdaContext,
    emitted_metrics: MetricsReader,
) -> None:
    # Given the sample upload and its scheduled PURGE task
    ledger.schedule(sample_task())
    # When its message arrives
    response = app.lambda_handler(
        load_event("scheduled_task.json"), lambda_context, rewriter=rewriter
    )
    # Then nothing fails, the field is gone, the item is done, and it is counted
    current = store.current(SAMPLE_KEY)
    assert current is not None
    assert response == failures()
    assert b"file_contents" not in current.body
    assert ledger.items[sample_task().task_id]["status"] == "done"
    assert emitted_metrics.totals() == {"TasksApplied": 1, "BytesRewritten": len(current.body)}


@pytest.mark.usefixtures("uploaded")
def test_a_redelivered_message_of_a_done_task_is_skipped_and_counted(
    rewriter: ObjectRewriter,
    store: FakeObjectStore,
    ledger: FakeLedger,
    lambda_context: FakeLambdaContext,
    emitted_metrics: MetricsReader,
) -> None:
    # Given the sample task run once
    ledger.schedule(sample_task())
    app.lambda_handler(load_event("scheduled_task.json"), lambda_context, rewriter=rewriter)
    emitted_metrics.totals()
    versions = store.version_ids(SAMPLE_KEY)
    # When its message is delivered again
    response = app.lambda_handler(
        load_event("scheduled_task.json"), lambda_context, rewriter=rewriter
    )
    # Then it succeeds without a new version, counted as already done
    assert response == failures()
    assert store.version_ids(SAMPLE_KEY) == versions
    assert emitted_metrics.totals() == {"TasksAlreadyDone": 1}


def test_a_message_whose_item_is_gone_fails_so_it_is_dead_lettered(
    rewriter: ObjectRewriter,
    store: FakeObjectStore,
    lambda_context: FakeLambdaContext,
    emitted_metrics: MetricsReader,
    logs: CapturedLogs,
) -> None:
    # Given no item for the message's task / When the message arrives
    event = load_event("scheduled_task.json")
    response = app.lambda_handler(event, lambda_context, rewriter=rewriter)
    # Then it fails (retried, then dead-lettered), S3 is not called, an error names the task
    assert (response, store.calls) == (failures(*message_ids(event)), [])
    errors = [(r["message"], r["task_id"]) for r in logs.records() if r["level"] == "ERROR"]
    assert errors == [
        (
            "No item for the message's task; SQS will redeliver it, then dead-letter it",
            sample_task().task_id,
        )
    ]
    assert emitted_metrics.totals() == {"TasksWithoutItem": 1, "TasksFailed": 1}


@pytest.mark.usefixtures("uploaded")
def test_malformed_messages_fail_alone(
    rewriter: ObjectRewriter,
    ledger: FakeLedger,
    lambda_context: FakeLambdaContext,
    emitted_metrics: MetricsReader,
    logs: CapturedLogs,
) -> None:
    # Given a good message next to a bad task id and a truncated body
    ledger.schedule(sample_task())
    event = load_event("malformed_message.json")
    _, bad_id, truncated = message_ids(event)
    # When handled
    response = app.lambda_handler(event, lambda_context, rewriter=rewriter)
    # Then only the two bad ones fail, each logged as malformed, and the good task is done
    assert response == failures(bad_id, truncated)
    assert ledger.items[sample_task().task_id]["status"] == "done"
    errors = [(r["message"], r["message_id"]) for r in logs.records() if r["level"] == "ERROR"]
    assert errors == [
        ("Malformed record: its body is not a task message", bad_id),
        ("Malformed record: its body is not a task message", truncated),
    ]
    assert emitted_metrics.totals()["TasksFailed"] == 2


@pytest.mark.usefixtures("uploaded")
def test_a_failing_task_is_a_batch_item_failure_recorded_on_its_item(
    rewriter: ObjectRewriter,
    store: FakeObjectStore,
    ledger: FakeLedger,
    lambda_context: FakeLambdaContext,
    emitted_metrics: MetricsReader,
) -> None:
    # Given S3 failing the object's read
    ledger.schedule(sample_task())
    store.fail["get"] = StoreUnavailableError("S3 unavailable")
    event = load_event("scheduled_task.json")
    # When handled
    response = app.lambda_handler(event, lambda_context, rewriter=rewriter)
    # Then the message is reported for redelivery and the attempt is on the item
    assert response == failures(*message_ids(event))
    item = ledger.items[sample_task().task_id]
    assert (item["status"], item["attempts"], item["last_error"]) == (
        "scheduled",
        1,
        "StoreUnavailableError",
    )
    assert emitted_metrics.totals() == {"TasksFailed": 1}


# --- the TTL fallback -------------------------------------------------------------------------


def expired_mask_task(ledger: FakeLedger) -> dict[str, object]:
    item = ledger.items[sample_task(MASK).task_id]
    return {name: value for name, value in item.items() if name != "task"}


@pytest.mark.usefixtures("uploaded")
def test_a_ttl_removal_of_a_scheduled_item_requeues_its_task_without_running_it(
    requeuer: FallbackRequeuer,
    *,
    store: FakeObjectStore,
    ledger: FakeLedger,
    queue: FakeTaskQueue,
    lambda_context: FakeLambdaContext,
    emitted_metrics: MetricsReader,
) -> None:
    # Given the MASK task's item removed by the TTL while still scheduled
    event = load_event("ttl_fallback.json")
    # When the stream record arrives
    response = app.lambda_handler(event, lambda_context, requeuer=requeuer)
    # Then the item is scheduled again for a day, counted once, and its message sent; S3 is
    # not touched
    assert response == failures()
    assert expired_mask_task(ledger) == {
        "status": "scheduled",
        "expires_at": NOW + timedelta(hours=24),
        "fallbacks": 1,
    }
    assert ledger.items[sample_task(MASK).task_id]["task"] == sample_task(MASK)
    assert (queue.sent, store.calls) == ([sample_task(MASK).task_id], [])
    assert emitted_metrics.totals() == {"FallbackTasks": 1}


@pytest.mark.usefixtures("uploaded")
def test_a_requeued_task_runs_on_the_queue_path(
    rewriter: ObjectRewriter,
    *,
    requeuer: FallbackRequeuer,
    store: FakeObjectStore,
    ledger: FakeLedger,
    queue: FakeTaskQueue,
    lambda_context: FakeLambdaContext,
) -> None:
    # Given the MASK task requeued by the fallback
    app.lambda_handler(load_event("ttl_fallback.json"), lambda_context, requeuer=requeuer)
    # When the message it sent arrives
    message = load_event("scheduled_task.json")
    message["Records"][0]["body"] = json.dumps({"task_id": queue.sent[0]})
    response = app.lambda_handler(message, lambda_context, rewriter=rewriter)
    # Then the object is masked and the item done
    current = store.current(SAMPLE_KEY)
    assert current is not None
    assert (response, current.body) == (failures(), MASKED)
    assert ledger.items[sample_task(MASK).task_id]["outcome"] == "applied"


def test_a_task_expired_after_every_fallback_is_marked_failed_not_requeued(
    requeuer: FallbackRequeuer,
    *,
    ledger: FakeLedger,
    queue: FakeTaskQueue,
    lambda_context: FakeLambdaContext,
    emitted_metrics: MetricsReader,
    logs: CapturedLogs,
) -> None:
    # Given the MASK task's item expiring a fourth time (three fallbacks already), failing
    event = load_event("ttl_fallback_exhausted.json")
    # When the stream record arrives
    response = app.lambda_handler(event, lambda_context, requeuer=requeuer)
    # Then nothing is sent; the item is failed, keeps its error and expires after the retention
    assert (response, queue.sent) == (failures(), [])
    assert expired_mask_task(ledger) == {
        "status": "failed",
        "expires_at": NOW + timedelta(days=30),
        "finished_at": NOW,
        "fallbacks": 3,
        "attempts": 12,
        "last_error": "line 2 is not valid JSON",
    }
    # And an error says so, and it is counted
    errors = [r for r in logs.records() if r["level"] == "ERROR"]
    assert [(e["task_id"], e["fallbacks"], e["last_error"]) for e in errors] == [
        (sample_task(MASK).task_id, 3, "line 2 is not valid JSON")
    ]
    assert emitted_metrics.totals() == {"TasksAbandoned": 1}


def test_a_task_finished_since_its_item_expired_is_not_requeued(
    requeuer: FallbackRequeuer,
    ledger: FakeLedger,
    queue: FakeTaskQueue,
    lambda_context: FakeLambdaContext,
    emitted_metrics: MetricsReader,
) -> None:
    # Given a late message ran the task after the TTL removed its item (a done item again)
    ledger.finish(sample_task(MASK), TaskOutcome.APPLIED, NOW, NOW + timedelta(days=30))
    # When the stream record arrives
    response = app.lambda_handler(
        load_event("ttl_fallback.json"), lambda_context, requeuer=requeuer
    )
    # Then the done item stays and nothing is sent
    assert (response, queue.sent) == (failures(), [])
    assert expired_mask_task(ledger)["status"] == "done"
    assert emitted_metrics.totals() == {"TasksAlreadyDone": 1}


@pytest.mark.usefixtures("uploaded")
def test_a_users_delete_of_an_item_is_skipped_with_its_reason(
    requeuer: FallbackRequeuer,
    ledger: FakeLedger,
    queue: FakeTaskQueue,
    lambda_context: FakeLambdaContext,
    logs: CapturedLogs,
) -> None:
    # Given a REMOVE made by a caller, not the TTL / When it arrives
    event = load_event("user_delete.json")
    response = app.lambda_handler(event, lambda_context, requeuer=requeuer)
    # Then nothing is written, sent or failed, and a warning says why
    assert (response, ledger.items, queue.sent) == (failures(), {}, [])
    warnings = [r for r in logs.records() if r["level"] == "WARNING"]
    assert [w["reason"] for w in warnings] == ["removed by a caller, not by the TTL"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"eventName": "MODIFY"}, "a MODIFY record, not a REMOVE"),
        ({"status": "done"}, "the item's status was 'done', not 'scheduled'"),
        ({"status": "failed"}, "the item's status was 'failed', not 'scheduled'"),
    ],
)
def test_other_stream_records_are_skipped(
    requeuer: FallbackRequeuer,
    *,
    ledger: FakeLedger,
    queue: FakeTaskQueue,
    lambda_context: FakeLambdaContext,
    logs: CapturedLogs,
    change: dict[str, str],
    reason: str,
) -> None:
    # Given an update, or the expiry of a done or failed item (filtered out before the function)
    event = load_event("ttl_fallback.json")
    record = event["Records"][0]
    record["eventName"] = change.get("eventName", "REMOVE")
    if "status" in change:
        record["dynamodb"]["OldImage"]["status"] = {"S": change["status"]}
    # When one reaches it all the same
    response = app.lambda_handler(event, lambda_context, requeuer=requeuer)
    # Then it is skipped, not failed, saying why, and nothing is written or sent
    assert (response, ledger.items, queue.sent) == (failures(), {}, [])
    assert [r["reason"] for r in logs.records() if r["level"] == "WARNING"] == [reason]


def test_a_failing_requeue_is_reported_by_sequence_number_and_its_retry_converges(
    requeuer: FallbackRequeuer,
    ledger: FakeLedger,
    queue: FakeTaskQueue,
    lambda_context: FakeLambdaContext,
    emitted_metrics: MetricsReader,
) -> None:
    # Given two TTL removals: the sample's, whose message SQS refuses, and a broken item
    queue.fail = StoreUnavailableError("SQS unavailable")
    event = load_event("ttl_fallback.json")
    broken = copy.deepcopy(event["Records"][0])
    broken["dynamodb"]["SequenceNumber"] = "730000000000001234567802"
    broken["dynamodb"]["OldImage"]["task"] = {"S": "{}"}
    event["Records"].append(broken)
    # When handled / Then both fail by sequence number
    response = app.lambda_handler(event, lambda_context, requeuer=requeuer)
    assert response == failures("730000000000001234567801", "730000000000001234567802")
    assert emitted_metrics.totals() == {"TasksFailed": 2}
    # And when the sample's record is retried with SQS back, it is requeued once, counted once
    queue.fail = None
    retry = load_event("ttl_fallback.json")
    assert app.lambda_handler(retry, lambda_context, requeuer=requeuer) == failures()
    assert queue.sent == [sample_task(MASK).task_id]
    assert expired_mask_task(ledger)["fallbacks"] == 1


# --- events of another shape ------------------------------------------------------------------


def _stream_record_without_sequence_number() -> dict[str, Any]:
    event = load_event("ttl_fallback.json")
    del event["Records"][0]["dynamodb"]["SequenceNumber"]
    return event


def _mixed_batch() -> dict[str, Any]:
    event = load_event("scheduled_task.json")
    event["Records"] += load_event("ttl_fallback.json")["Records"]
    return event


@pytest.mark.parametrize(
    "event",
    [
        {"detail-type": "Object Created", "source": "aws.s3", "detail": {}},
        {"Records": []},
        {"Records": [{"eventSource": "aws:s3"}]},
        _mixed_batch(),
        _stream_record_without_sequence_number(),
    ],
)
def test_an_event_of_another_shape_is_rejected_whole(
    rewriter: ObjectRewriter,
    store: FakeObjectStore,
    lambda_context: FakeLambdaContext,
    event: dict[str, Any],
) -> None:
    with pytest.raises(EventShapeError):
        app.lambda_handler(event, lambda_context, rewriter=rewriter)
    assert store.calls == []
