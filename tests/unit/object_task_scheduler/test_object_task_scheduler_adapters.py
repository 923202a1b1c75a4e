"""The AWS adapters against moto: the ledger's conditional put, HeadObject of a version, and the
triggers (SQS delayed send, EventBridge Scheduler one-time schedule)."""

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from boto_calls import CallRecorder
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from lambda_support import create_template_table
from moto import mock_aws
from object_task_samples import PURGE
from object_task_scheduler_fakes import BUCKET, KEY, LANDED_AT, NOW

from datalake_shared.object_tasks import ORIGIN_METADATA, ObjectTask, scheduled_item
from object_task_scheduler.ledger import DynamoTaskLedger
from object_task_scheduler.objects import S3ObjectHeads
from object_task_scheduler.planning import ScheduleAt, SendNow
from object_task_scheduler.triggers import QueueAndSchedulerTriggers, ScheduleTarget

REGION = "us-east-1"
TABLE = "object-tasks-test"
GROUP = "datalake-object-tasks"
TARGET = ScheduleTarget(
    group=GROUP,
    queue_arn="arn:aws:sqs:us-east-1:123456789012:datalake-events-ObjectTaskQueue",
    role_arn="arn:aws:iam::123456789012:role/datalake-events-ObjectTaskSchedulerRole",
    dlq_arn="arn:aws:sqs:us-east-1:123456789012:datalake-events-ObjectTaskScheduleDLQ",
)
TASK = ObjectTask.for_upload(BUCKET, KEY, "Kp7Qw2Ex9Rt4Yu1Io3Pa6Sd8Fg0Hj5Lz", PURGE, LANDED_AT)


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def dynamodb(aws: None, sam_template: dict[str, Any]) -> Any:
    """moto DynamoDB holding ObjectTaskTable as template.yaml declares it."""
    client = boto3.client("dynamodb", region_name=REGION)
    create_template_table(client, sam_template, "ObjectTaskTable", TABLE)
    return client


@pytest.fixture
def s3(aws: None) -> Any:
    client = boto3.client("s3", region_name=REGION)
    client.create_bucket(Bucket=BUCKET)
    client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    return client


@pytest.fixture
def sqs(aws: None) -> Any:
    return boto3.client("sqs", region_name=REGION)


@pytest.fixture
def scheduler(aws: None) -> Any:
    client = boto3.client("scheduler", region_name=REGION)
    client.create_schedule_group(Name=GROUP)
    return client


@pytest.fixture
def queue_url(sqs: Any) -> str:
    url: str = sqs.create_queue(QueueName="datalake-events-ObjectTaskQueue")["QueueUrl"]
    return url


# --- the ledger -------------------------------------------------------------------------------


def test_first_put_writes_the_contracts_scheduled_item(dynamodb: Any) -> None:
    # Given an empty table and a 12-hour fallback grace
    ledger = DynamoTaskLedger(TABLE, timedelta(hours=12), client=dynamodb)
    # When the task is put
    put = ledger.put_if_absent(TASK, NOW)
    # Then the item is the contract's scheduled item, expiring 12 hours after the due time
    item = dynamodb.get_item(TableName=TABLE, Key={"task_id": {"S": TASK.task_id}})["Item"]
    assert put.created is True
    assert item == scheduled_item(TASK, NOW, timedelta(hours=12))
    assert item["expires_at"] == {"N": str(int((TASK.due_at + timedelta(hours=12)).timestamp()))}


def test_second_put_keeps_the_item_and_reports_it_scheduled(dynamodb: Any) -> None:
    # Given the task already put
    ledger = DynamoTaskLedger(TABLE, client=dynamodb)
    ledger.put_if_absent(TASK, NOW)
    # When put again an hour later (a redelivery)
    put = ledger.put_if_absent(TASK, NOW + timedelta(hours=1))
    # Then the first item stays, and the put says it exists, still scheduled
    item = dynamodb.get_item(TableName=TABLE, Key={"task_id": {"S": TASK.task_id}})["Item"]
    assert (put.created, put.status) == (False, "scheduled")
    assert item["scheduled_at"] == {"S": "2026-12-07T09:32:05Z"}


def test_put_of_a_finished_task_reports_it_done(dynamodb: Any) -> None:
    # Given the task's item marked done by object_rewriter
    ledger = DynamoTaskLedger(TABLE, client=dynamodb)
    ledger.put_if_absent(TASK, NOW)
    dynamodb.update_item(
        TableName=TABLE,
        Key={"task_id": {"S": TASK.task_id}},
        UpdateExpression="SET #s = :done",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":done": {"S": "done"}},
    )
    # When put again / Then the put reports it done
    assert ledger.put_if_absent(TASK, NOW).status == "done"


def test_put_into_a_missing_table_raises(dynamodb: Any) -> None:
    # Given a table name that does not exist / When put / Then the error propagates
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        DynamoTaskLedger("no-such-table", client=dynamodb).put_if_absent(TASK, NOW)


# --- HeadObject -------------------------------------------------------------------------------


def test_head_reads_the_named_versions_metadata_not_the_latests(s3: Any) -> None:
    # Given an upload, then a rewrite of it on top (marked with its origin)
    upload = s3.put_object(Bucket=BUCKET, Key=KEY, Body=b'{"file_contents":"x"}\n')
    s3.put_object(
        Bucket=BUCKET, Key=KEY, Body=b'{"file_contents":""}\n', Metadata={ORIGIN_METADATA: "v0"}
    )
    heads = S3ObjectHeads(client=s3)
    # When each is read
    first = heads.head(BUCKET, KEY, upload["VersionId"])
    latest = heads.head(BUCKET, KEY, None)
    # Then the upload has no mark and the latest (the rewrite) has it
    assert first is not None
    assert latest is not None
    assert (dict(first.metadata), first.etag, first.version_id) == (
        {},
        upload["ETag"],
        upload["VersionId"],
    )
    assert dict(latest.metadata) == {ORIGIN_METADATA: "v0"}


def test_head_of_a_deleted_version_or_key_is_none(s3: Any) -> None:
    # Given a version deleted for good, and a key never written
    upload = s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"{}\n")
    s3.delete_object(Bucket=BUCKET, Key=KEY, VersionId=upload["VersionId"])
    heads = S3ObjectHeads(client=s3)
    # When read / Then neither exists
    assert heads.head(BUCKET, KEY, upload["VersionId"]) is None
    assert heads.head(BUCKET, "dataset/never-written.json", None) is None


def test_head_refused_access_raises(s3: Any) -> None:
    # Given S3 answering 403 (no permission: a missing key also looks like this without
    # s3:ListBucket, so it must not be taken for "deleted")
    stubber = Stubber(s3)
    stubber.add_client_error("head_object", "403", http_status_code=403)
    # When read / Then the error propagates
    with stubber, pytest.raises(ClientError):
        S3ObjectHeads(client=s3).head(BUCKET, KEY, None)


# --- the triggers -----------------------------------------------------------------------------


def triggers(sqs: Any, scheduler: Any, queue_url: str) -> QueueAndSchedulerTriggers:
    return QueueAndSchedulerTriggers(queue_url, TARGET, sqs=sqs, scheduler=scheduler)


def test_send_now_puts_the_task_message_on_the_queue(
    sqs: Any, scheduler: Any, queue_url: str
) -> None:
    # Given an undelayed send / When ensured
    created = triggers(sqs, scheduler, queue_url).ensure(TASK, SendNow(0))
    # Then the task queue holds the task's message
    messages = sqs.receive_message(QueueUrl=queue_url)["Messages"]
    assert created is True
    assert [json.loads(m["Body"]) for m in messages] == [{"task_id": TASK.task_id}]


def test_send_now_passes_the_delay_to_sqs(sqs: Any, scheduler: Any, queue_url: str) -> None:
    # Given a send delayed by the longest delay SQS allows
    calls = CallRecorder(sqs, "sqs")
    # When ensured
    triggers(sqs, scheduler, queue_url).ensure(TASK, SendNow(900))
    # Then SendMessage carried it, and the message is not yet visible
    assert [p["DelaySeconds"] for p in calls.params_of("SendMessage")] == [900]
    assert "Messages" not in sqs.receive_message(QueueUrl=queue_url)


def test_schedule_is_created_with_exactly_these_arguments(
    sqs: Any, scheduler: Any, queue_url: str
) -> None:
    # Given a task due a day after landing
    calls = CallRecorder(scheduler, "scheduler")
    # When its schedule is ensured
    created = triggers(sqs, scheduler, queue_url).ensure(
        TASK, ScheduleAt("at(2026-12-08T09:30:00)")
    )
    # Then CreateSchedule got exactly the contract's arguments
    assert created is True
    assert calls.params_of("CreateSchedule") == [
        {
            "Name": TASK.task_id,
            "GroupName": GROUP,
            "ScheduleExpression": "at(2026-12-08T09:30:00)",
            "ScheduleExpressionTimezone": "UTC",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "ActionAfterCompletion": "DELETE",
            "Description": f"purge-file-contents: s3://{BUCKET}/{KEY}",
            "Target": {
                "Arn": TARGET.queue_arn,
                "RoleArn": TARGET.role_arn,
                "Input": json.dumps({"task_id": TASK.task_id}, separators=(",", ":")),
                "RetryPolicy": {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185},
                "DeadLetterConfig": {"Arn": TARGET.dlq_arn},
            },
        }
    ]


def test_created_schedule_is_stored_as_asked(sqs: Any, scheduler: Any, queue_url: str) -> None:
    # Given a schedule ensured
    triggers(sqs, scheduler, queue_url).ensure(TASK, ScheduleAt("at(2026-12-08T09:30:00)"))
    # When read back from Scheduler
    stored = scheduler.get_schedule(GroupName=GROUP, Name=TASK.task_id)
    # Then it is a one-time UTC schedule deleted after it ran, targeting the task queue
    assert (
        stored["ScheduleExpression"],
        stored["ActionAfterCompletion"],
        stored["Target"]["Arn"],
        json.loads(stored["Target"]["Input"]),
    ) == ("at(2026-12-08T09:30:00)", "DELETE", TARGET.queue_arn, {"task_id": TASK.task_id})


def test_schedule_that_already_exists_is_a_success(
    sqs: Any, scheduler: Any, queue_url: str
) -> None:
    # Given the task's schedule already created (an earlier delivery)
    adapter = triggers(sqs, scheduler, queue_url)
    adapter.ensure(TASK, ScheduleAt("at(2026-12-08T09:30:00)"))
    # When ensured again / Then Scheduler's conflict means it exists: no error, one schedule
    assert adapter.ensure(TASK, ScheduleAt("at(2026-12-08T09:30:00)")) is False
    names = [s["Name"] for s in scheduler.list_schedules(GroupName=GROUP)["Schedules"]]
    assert names == [TASK.task_id]


def test_other_scheduler_errors_raise(sqs: Any, scheduler: Any, queue_url: str) -> None:
    # Given Scheduler refusing the request (throttled)
    stubber = Stubber(scheduler)
    stubber.add_client_error("create_schedule", "ThrottlingException", http_status_code=429)
    # When ensured / Then the error propagates, so the record fails and is redelivered
    with stubber, pytest.raises(ClientError, match="ThrottlingException"):
        triggers(sqs, scheduler, queue_url).ensure(TASK, ScheduleAt("at(2026-12-08T09:30:00)"))
