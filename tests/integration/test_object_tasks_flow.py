"""Scheduled object rewrites end to end on the deployed template (local runtime on moto):
upload → EventBridge → ObjectUploadsQueue → object_task_scheduler → one-time schedule (and the
task's item) → on the compressed clock, the schedule → ObjectTaskQueue → object_rewriter →
the object rewritten in place, its replaced version deleted, the task's item done."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from local_runtime import LocalRuntime
from tests.integration.conftest import queue_depth

KEY = "dataset/uploads/2026/12/07/mock_uploaded_data.json"
ROWS = [
    {"id": 1, "name": "Ada", "file_contents": "c2Vuc2l0aXZl", "meta": {"pages": 3}},
    {"id": 2, "name": "Grace", "file_contents": "bW9yZQ==", "meta": {"pages": 1}},
]
# The template's default rule: file_contents removed 30 days after upload.
DUE_IN = timedelta(days=30)


def _json_lines(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


def upload(runtime: LocalRuntime, body: bytes, key: str = KEY) -> str:
    bucket = runtime.outputs["DatasetBucketName"]
    return runtime.s3.put_object(Bucket=bucket, Key=key, Body=body)["VersionId"]


def task_items(runtime: LocalRuntime) -> list[dict[str, Any]]:
    table = runtime.outputs["ObjectTaskTableName"]
    items = runtime.dynamodb.scan(TableName=table, ConsistentRead=True)["Items"]
    return [{name: next(iter(value.values())) for name, value in item.items()} for item in items]


def schedules(runtime: LocalRuntime) -> list[dict[str, Any]]:
    group = runtime.outputs["ObjectTaskScheduleGroupName"]
    client = runtime.client("scheduler")
    found = client.list_schedules(GroupName=group)["Schedules"]
    return [client.get_schedule(GroupName=group, Name=s["Name"]) for s in found]


def current_rows(runtime: LocalRuntime, key: str = KEY) -> list[dict[str, Any]]:
    bucket = runtime.outputs["DatasetBucketName"]
    body = runtime.s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    return [json.loads(line) for line in body.splitlines() if line]


def versions(runtime: LocalRuntime, key: str = KEY) -> list[str]:
    bucket = runtime.outputs["DatasetBucketName"]
    listed = runtime.s3.list_object_versions(Bucket=bucket, Prefix=key)
    return [v["VersionId"] for v in listed.get("Versions", []) if v["Key"] == key]


def invocations_of(runtime: LocalRuntime, function: str) -> list[Any]:
    return [i for i in runtime.invocations if i.function == function]


def test_an_upload_gets_a_one_time_schedule_and_its_task_item(runtime: LocalRuntime) -> None:
    # Given the deployed template with its default rule
    # When an application uploads a JSON Lines object under dataset/
    version = upload(runtime, _json_lines(ROWS))
    uploaded_at = datetime.now(UTC)
    runtime.settle()

    # Then one task is recorded, scheduled, for this upload
    [item] = task_items(runtime)
    assert item["status"] == "scheduled"
    assert json.loads(item["task"])["origin"] == version
    # And one one-time schedule, due 30 days on, deletes itself after delivering the task id
    [schedule] = schedules(runtime)
    assert schedule["Name"] == item["task_id"]
    due = datetime.fromisoformat(schedule["ScheduleExpression"][3:-1]).replace(tzinfo=UTC)
    assert abs(due - (uploaded_at + DUE_IN)) < timedelta(minutes=2)
    assert schedule["ActionAfterCompletion"] == "DELETE"
    assert json.loads(schedule["Target"]["Input"]) == {"task_id": item["task_id"]}
    # And the object is untouched until then
    assert current_rows(runtime) == ROWS


def test_when_the_task_is_due_the_fields_are_removed_in_place(runtime: LocalRuntime) -> None:
    # Given an uploaded object with its task scheduled
    upload(runtime, _json_lines(ROWS))
    runtime.settle()

    # When the clock passes the due time
    fired = runtime.advance_clock(DUE_IN + timedelta(minutes=2))
    runtime.settle()

    # Then the schedule fired once and is gone
    assert len(fired) == 1
    assert schedules(runtime) == []
    # And the object holds every value but the removed field, under the same key
    assert current_rows(runtime) == [
        {key: value for key, value in row.items() if key != "file_contents"} for row in ROWS
    ]
    # And the version holding the removed values is deleted: one version is left
    assert len(versions(runtime)) == 1
    # And the task is done, applied; the rewrite's own upload event scheduled nothing
    [item] = task_items(runtime)
    assert (item["status"], item["outcome"]) == ("done", "applied")
    assert len(invocations_of(runtime, "ObjectTaskSchedulerFunction")) == 2
    assert queue_depth(runtime, "ObjectTaskDLQUrl") == 0


def test_a_redelivered_upload_event_and_task_message_change_nothing_twice(
    runtime: LocalRuntime,
) -> None:
    # Given an upload whose task ran
    upload(runtime, _json_lines(ROWS))
    runtime.settle()
    [upload_event] = [r.event for r in runtime.activity.routed if "ObjectUploads" in r.target]
    runtime.advance_clock(DUE_IN + timedelta(minutes=2))
    runtime.settle()
    [rewritten] = versions(runtime)
    [item] = task_items(runtime)

    # When both the upload event and the task message are delivered again
    sqs = runtime.sqs
    sqs.send_message(
        QueueUrl=runtime.outputs["ObjectUploadsQueueUrl"], MessageBody=json.dumps(upload_event)
    )
    sqs.send_message(
        QueueUrl=runtime.outputs["ObjectTaskQueueUrl"],
        MessageBody=json.dumps({"task_id": item["task_id"]}),
    )
    runtime.settle()

    # Then no second schedule or item exists, and the object was not written again
    assert schedules(runtime) == []
    assert [i["task_id"] for i in task_items(runtime)] == [item["task_id"]]
    assert versions(runtime) == [rewritten]
    assert task_items(runtime)[0]["outcome"] == "applied"


def test_a_lost_schedule_is_caught_by_the_ttl_fallback(runtime: LocalRuntime) -> None:
    # Given an upload whose schedule was lost (deleted by hand, never delivered)
    upload(runtime, _json_lines(ROWS))
    runtime.settle()
    [item] = task_items(runtime)
    group = runtime.outputs["ObjectTaskScheduleGroupName"]
    runtime.client("scheduler").delete_schedule(GroupName=group, Name=item["task_id"])

    # When DynamoDB's TTL expires the still-scheduled item, a day after it was due
    expired = runtime.streams_bridge.expire_items("ObjectTaskTable", float(item["expires_at"]))
    runtime.settle()

    # Then the stream's TTL removal ran the task: fields removed, the task recorded done
    assert expired == 1
    assert current_rows(runtime) == [
        {key: value for key, value in row.items() if key != "file_contents"} for row in ROWS
    ]
    [done] = task_items(runtime)
    assert (done["task_id"], done["status"], done["outcome"]) == (
        item["task_id"],
        "done",
        "applied",
    )


def test_a_finished_tasks_expiry_does_not_run_it_again(runtime: LocalRuntime) -> None:
    # Given a task that ran
    upload(runtime, _json_lines(ROWS))
    runtime.settle()
    runtime.advance_clock(DUE_IN + timedelta(minutes=2))
    runtime.settle()
    [item] = task_items(runtime)
    rewriter_runs = len(invocations_of(runtime, "ObjectRewriterFunction"))

    # When its item expires at the end of its retention
    runtime.streams_bridge.expire_items("ObjectTaskTable", float(item["expires_at"]))
    runtime.settle()

    # Then the stream filter kept the removal from the rewriter
    assert task_items(runtime) == []
    assert len(invocations_of(runtime, "ObjectRewriterFunction")) == rewriter_runs


def test_an_object_deleted_before_its_task_is_reported_missing(runtime: LocalRuntime) -> None:
    # Given an upload deleted before its task was due
    upload(runtime, _json_lines(ROWS))
    runtime.settle()
    runtime.s3.delete_object(Bucket=runtime.outputs["DatasetBucketName"], Key=KEY)

    # When the task is due
    runtime.advance_clock(DUE_IN + timedelta(minutes=2))
    runtime.settle()

    # Then it ends without error, saying the object was missing
    [item] = task_items(runtime)
    assert (item["status"], item["outcome"]) == ("done", "object_missing")
    assert queue_depth(runtime, "ObjectTaskDLQUrl") == 0


def test_a_replaced_object_runs_only_the_newer_uploads_task(runtime: LocalRuntime) -> None:
    # Given an object uploaded twice before its first task was due
    first = upload(runtime, _json_lines(ROWS))
    runtime.settle()
    newer_rows = [{"id": 3, "name": "Edsger", "file_contents": "bmV3"}]
    second = upload(runtime, _json_lines(newer_rows))
    runtime.settle()

    # When both tasks are due
    runtime.advance_clock(DUE_IN + timedelta(minutes=2))
    runtime.settle()

    # Then the first upload's task was superseded and the newer one applied
    outcomes = {json.loads(i["task"])["origin"]: i["outcome"] for i in task_items(runtime)}
    assert outcomes == {first: "superseded", second: "applied"}
    assert current_rows(runtime) == [{"id": 3, "name": "Edsger"}]


def test_a_failing_rewrite_is_dead_lettered_and_the_object_left_whole(
    runtime: LocalRuntime,
) -> None:
    # Given an object under the rule's prefix that is not JSON Lines
    body = b"not json at all\n"
    upload(runtime, body)
    runtime.settle()

    # When its task is due
    runtime.advance_clock(DUE_IN + timedelta(minutes=2))
    runtime.settle()

    # Then every delivery failed, the task went to the DLQ, and the object is unchanged
    assert queue_depth(runtime, "ObjectTaskDLQUrl") == 1
    bucket = runtime.outputs["DatasetBucketName"]
    assert runtime.s3.get_object(Bucket=bucket, Key=KEY)["Body"].read() == body
    [item] = task_items(runtime)
    assert item["status"] == "scheduled"
    assert item["last_error"]
    assert "not json" not in item["last_error"]  # the object's content never leaks
