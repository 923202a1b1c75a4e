"""The handler as Lambda runs it (default wiring from the environment) against moto."""

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from lambda_support import FakeLambdaContext, create_template_table
from moto import mock_aws
from object_task_samples import PURGE
from object_task_scheduler_fakes import BUCKET, KEY, SOON, app, object_created, sqs_event
from settings_support import clean_settings, set_variables, variables_read

from datalake_shared.object_tasks import ORIGIN_METADATA, task_id
from object_task_scheduler.handler import default_scheduler
from object_task_scheduler.settings import ObjectTaskSchedulerSettings, get_settings

REGION = "us-east-1"
TABLE = "datalake-events-ObjectTaskTable"
GROUP = "datalake-events-object-tasks"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, sam_template: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """moto holding the versioned dataset bucket, the table, the task queue and the group; the
    function's environment naming them."""
    names = variables_read(ObjectTaskSchedulerSettings)
    with clean_settings(monkeypatch, names, get_settings, default_scheduler), mock_aws():
        monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        dynamodb = boto3.client("dynamodb")
        create_template_table(dynamodb, sam_template, "ObjectTaskTable", TABLE)
        sqs = boto3.client("sqs")
        queue_url = sqs.create_queue(QueueName="ObjectTaskQueue")["QueueUrl"]
        scheduler = boto3.client("scheduler")
        scheduler.create_schedule_group(Name=GROUP)
        rules = [PURGE.model_dump(mode="json"), SOON.model_dump(mode="json")]
        set_variables(
            monkeypatch,
            {
                "OBJECT_TASK_TABLE": TABLE,
                "OBJECT_TASK_RULES": json.dumps(rules),
                "TASK_QUEUE_ARN": "arn:aws:sqs:us-east-1:123456789012:ObjectTaskQueue",
                "TASK_QUEUE_URL": queue_url,
                "SCHEDULE_GROUP": GROUP,
                "SCHEDULER_ROLE_ARN": "arn:aws:iam::123456789012:role/ObjectTaskScheduler",
                "SCHEDULE_DLQ_ARN": "arn:aws:sqs:us-east-1:123456789012:ObjectTaskScheduleDLQ",
            },
        )
        yield {"s3": s3, "dynamodb": dynamodb, "sqs": sqs, "scheduler": scheduler, "url": queue_url}


def upload(aws: dict[str, Any], metadata: dict[str, str] | None = None) -> dict[str, Any]:
    """Puts the object in moto; its "Object Created" event (time: now, so SOON is not overdue)."""
    put = aws["s3"].put_object(
        Bucket=BUCKET, Key=KEY, Body=b'{"file_contents":"x"}\n', Metadata=metadata or {}
    )
    time = aws["s3"].head_object(Bucket=BUCKET, Key=KEY)["LastModified"].isoformat()
    return object_created(version_id=put["VersionId"], etag=put["ETag"].strip('"'), time=time)


def test_upload_gets_an_item_and_trigger_per_rule(
    aws: dict[str, Any], lambda_context: FakeLambdaContext
) -> None:
    # Given an uploaded object matched by PURGE (a day) and SOON (ten minutes)
    body = upload(aws)
    version = body["detail"]["object"]["version-id"]
    # When the handler runs on its event with its default wiring
    response = app.lambda_handler(sqs_event(body), lambda_context)
    # Then both items are scheduled, PURGE has a schedule and SOON's message waits in the queue
    purge_id, soon_id = (task_id(BUCKET, KEY, version, rule.name) for rule in (PURGE, SOON))
    items = aws["dynamodb"].scan(TableName=TABLE)["Items"]
    schedules = aws["scheduler"].list_schedules(GroupName=GROUP)["Schedules"]
    attributes = aws["sqs"].get_queue_attributes(
        QueueUrl=aws["url"], AttributeNames=["ApproximateNumberOfMessagesDelayed"]
    )["Attributes"]
    assert response == {"batchItemFailures": []}
    assert sorted((i["task_id"]["S"], i["status"]["S"]) for i in items) == sorted(
        [(purge_id, "scheduled"), (soon_id, "scheduled")]
    )
    assert [s["Name"] for s in schedules] == [purge_id]
    assert attributes["ApproximateNumberOfMessagesDelayed"] == "1"


def test_rewritten_object_gets_nothing(
    aws: dict[str, Any], lambda_context: FakeLambdaContext
) -> None:
    # Given an object object_rewriter wrote (it carries the origin mark)
    body = upload(aws, metadata={ORIGIN_METADATA: "Kp7Qw2Ex9Rt4Yu1Io3Pa6Sd8Fg0Hj5Lz"})
    # When the handler runs on its event
    response = app.lambda_handler(sqs_event(body), lambda_context)
    # Then no item and no schedule
    assert response == {"batchItemFailures": []}
    assert aws["dynamodb"].scan(TableName=TABLE)["Items"] == []
    assert aws["scheduler"].list_schedules(GroupName=GROUP)["Schedules"] == []
