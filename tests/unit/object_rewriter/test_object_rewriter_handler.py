import copy
import json
from typing import Any

import pytest
from lambda_support import CapturedLogs, FakeLambdaContext, MetricsReader, sample_event_names
from object_rewriter_fakes import (
    BUCKET,
    LANDED,
    MASK,
    PURGE,
    SAMPLE_KEY,
    SAMPLE_VERSION,
    UPLOAD,
    FakeLedger,
    FakeObjectStore,
    StoreUnavailableError,
    app,
    load_event,
)

from datalake_shared.event_shapes import EventShapeError
from datalake_shared.object_tasks import ObjectTask, task_from_item, task_id
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
    for name in ("ttl_fallback.json", "user_delete.json"):
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


def test_a_message_whose_item_is_gone_is_skipped_with_a_warning(
    rewriter: ObjectRewriter,
    store: FakeObjectStore,
    lambda_context: FakeLambdaContext,
    logs: CapturedLogs,
) -> None:
    # Given no item for the message's task / When the message arrives
    response = app.lambda_handler(
        load_event("scheduled_task.json"), lambda_context, rewriter=rewriter
    )
    # Then it is not a failure, S3 is not called, and a warning names the task
    assert (response, store.calls) == (failures(), [])
    warnings = [r for r in logs.records() if r["level"] == "WARNING"]
    assert [(w["message"], w["task_id"]) for w in warnings] == [
        ("No item for the message's task; nothing to run", sample_task().task_id)
    ]


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


@pytest.mark.usefixtures("uploaded")
def test_a_ttl_removal_of_a_scheduled_item_runs_its_task(
    rewriter: ObjectRewriter,
    store: FakeObjectStore,
    ledger: FakeLedger,
    lambda_context: FakeLambdaContext,
    emitted_metrics: MetricsReader,
) -> None:
    # Given the MASK task's item removed by the TTL while still scheduled
    event = load_event("ttl_fallback.json")
    # When the stream record arrives
    response = app.lambda_handler(event, lambda_context, rewriter=rewriter)
    # Then the task from the old image runs, a done item is written again, and it is counted
    current = store.current(SAMPLE_KEY)
    assert current is not None
    assert (response, current.body) == (failures(), MASKED)
    assert ledger.items[sample_task(MASK).task_id]["outcome"] == "applied"
    assert emitted_metrics.totals() == {
        "FallbackTasks": 1,
        "TasksApplied": 1,
        "BytesRewritten": len(MASKED),
    }


@pytest.mark.usefixtures("uploaded")
def test_a_users_delete_of_an_item_is_skipped_with_its_reason(
    rewriter: ObjectRewriter,
    store: FakeObjectStore,
    lambda_context: FakeLambdaContext,
    logs: CapturedLogs,
) -> None:
    # Given a REMOVE made by a caller, not the TTL / When it arrives
    response = app.lambda_handler(load_event("user_delete.json"), lambda_context, rewriter=rewriter)
    # Then nothing runs or fails, and a warning says why
    assert (response, store.calls) == (failures(), [])
    warnings = [r for r in logs.records() if r["level"] == "WARNING"]
    assert [w["reason"] for w in warnings] == ["removed by a caller, not by the TTL"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"eventName": "MODIFY"}, "a MODIFY record, not a REMOVE"),
        ({"status": "done"}, "the item's status was 'done', not 'scheduled'"),
    ],
)
def test_other_stream_records_are_skipped(
    rewriter: ObjectRewriter,
    lambda_context: FakeLambdaContext,
    logs: CapturedLogs,
    change: dict[str, str],
    reason: str,
) -> None:
    # Given an update, or the expiry of a done item (both filtered out before the function)
    event = load_event("ttl_fallback.json")
    record = event["Records"][0]
    record["eventName"] = change.get("eventName", "REMOVE")
    if "status" in change:
        record["dynamodb"]["OldImage"]["status"] = {"S": change["status"]}
    # When one reaches it all the same
    response = app.lambda_handler(event, lambda_context, rewriter=rewriter)
    # Then it is skipped, not failed, saying why, and S3 is not called
    assert response == failures()
    assert [r["reason"] for r in logs.records() if r["level"] == "WARNING"] == [reason]
    assert isinstance(rewriter.store, FakeObjectStore)
    assert rewriter.store.calls == []


def test_a_failing_fallback_task_is_reported_by_sequence_number(
    rewriter: ObjectRewriter,
    store: FakeObjectStore,
    lambda_context: FakeLambdaContext,
    emitted_metrics: MetricsReader,
) -> None:
    # Given two TTL removals: the sample's task, whose object is not JSON, and a broken item
    store.upload(SAMPLE_KEY, b"not json\n", version_id=SAMPLE_VERSION)
    event = load_event("ttl_fallback.json")
    broken = copy.deepcopy(event["Records"][0])
    broken["dynamodb"]["SequenceNumber"] = "730000000000001234567802"
    broken["dynamodb"]["OldImage"]["task"] = {"S": "{}"}
    event["Records"].append(broken)
    # When handled / Then both fail by sequence number
    response = app.lambda_handler(event, lambda_context, rewriter=rewriter)
    assert response == failures("730000000000001234567801", "730000000000001234567802")
    assert emitted_metrics.totals() == {"FallbackTasks": 1, "TasksFailed": 2}


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
