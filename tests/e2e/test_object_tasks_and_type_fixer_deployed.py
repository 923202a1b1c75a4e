"""The last two capabilities on a deployed stack: an upload under the default rule's prefix gets
its task and one-time schedule, and its task (sent now instead of in 30 days) rewrites the
object in place; a table written with set<T> columns into the crawled database is fixed to
array<T>. Resource names come from the stack's outputs; everything made is removed after."""

import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tests.e2e.conftest import plain
from tests.e2e.test_new_capabilities_deployed import eventually

ROWS = [{"id": 1, "name": "e2e", "file_contents": "c2VjcmV0"}]


@pytest.fixture
def dataset_key(stack_outputs: dict[str, str]) -> Iterator[str]:
    """A key under the default rule's prefix; every version and its schedules removed after."""
    key = f"dataset/e2e/{uuid.uuid4().hex}.json"
    yield key
    s3 = boto3.client("s3")
    bucket = stack_outputs["DatasetBucketName"]
    for version in s3.list_object_versions(Bucket=bucket, Prefix=key).get("Versions", []):
        s3.delete_object(Bucket=bucket, Key=key, VersionId=version["VersionId"])
    scheduler = boto3.client("scheduler")
    group = stack_outputs["ObjectTaskScheduleGroupName"]
    for schedule in scheduler.list_schedules(GroupName=group)["Schedules"]:
        detail = scheduler.get_schedule(GroupName=group, Name=schedule["Name"])
        if key in detail.get("Description", ""):
            scheduler.delete_schedule(GroupName=group, Name=schedule["Name"])


def _task_item(outputs: dict[str, str], key: str) -> dict[str, Any] | None:
    table = outputs["ObjectTaskTableName"]
    found = boto3.client("dynamodb").scan(
        TableName=table,
        ConsistentRead=True,
        FilterExpression="#key = :key",
        ExpressionAttributeNames={"#key": "key"},
        ExpressionAttributeValues={":key": {"S": key}},
    )["Items"]
    return plain(found[0]) if found else None


def test_an_upload_is_scheduled_and_its_task_rewrites_it_in_place(
    stack_outputs: dict[str, str], dataset_key: str
) -> None:
    # Given an upload under the default rule's prefix
    s3 = boto3.client("s3")
    bucket = stack_outputs["DatasetBucketName"]
    body = "".join(json.dumps(row) + "\n" for row in ROWS).encode()
    s3.put_object(Bucket=bucket, Key=dataset_key, Body=body)

    # When its task is recorded and scheduled
    item = eventually(lambda: _task_item(stack_outputs, dataset_key), "the task's item")
    assert item["status"] == "scheduled"
    group = stack_outputs["ObjectTaskScheduleGroupName"]
    schedule = boto3.client("scheduler").get_schedule(GroupName=group, Name=item["task_id"])
    assert schedule["ScheduleExpression"].startswith("at(")
    # And its message is sent now rather than in 30 days
    boto3.client("sqs").send_message(
        QueueUrl=stack_outputs["ObjectTaskQueueUrl"],
        MessageBody=json.dumps({"task_id": item["task_id"]}),
    )

    # Then the object loses the field in place, and the task is done
    def rewritten() -> list[dict[str, Any]] | None:
        text = s3.get_object(Bucket=bucket, Key=dataset_key)["Body"].read().decode()
        rows = [json.loads(line) for line in text.splitlines() if line]
        return rows if all("file_contents" not in row for row in rows) else None

    assert eventually(rewritten, "the rewrite") == [{"id": 1, "name": "e2e"}]

    def finished() -> dict[str, Any] | None:
        item = _task_item(stack_outputs, dataset_key)
        return item if item is not None and item["status"] == "done" else None

    done = eventually(finished, "the task's outcome")
    assert done["outcome"] == "applied"
    # And the version holding the removed value is gone
    versions = s3.list_object_versions(Bucket=bucket, Prefix=dataset_key).get("Versions", [])
    assert len([v for v in versions if v["Key"] == dataset_key]) == 1


def test_a_crawled_tables_set_columns_become_arrays(stack_outputs: dict[str, str]) -> None:
    # Given a table written as a crawler over DynamoDB writes it, in the crawled database
    glue = boto3.client("glue")
    database = stack_outputs["CrawledDatabaseName"]
    name = f"e2e_{uuid.uuid4().hex[:12]}"
    glue.create_table(
        DatabaseName=database,
        TableInput={
            "Name": name,
            "TableType": "EXTERNAL_TABLE",
            "Parameters": {"classification": "dynamodb"},
            "StorageDescriptor": {
                "Columns": [
                    {"Name": "id", "Type": "string"},
                    {"Name": "tags", "Type": "set<string>"},
                ],
                "Location": f"arn:aws:dynamodb:us-east-1:123456789012:table/{name}",
            },
        },
    )
    try:
        # When Glue's CreateTable event reaches the fixer
        def fixed() -> list[str] | None:
            table = glue.get_table(DatabaseName=database, Name=name)["Table"]
            types = [c["Type"] for c in table["StorageDescriptor"]["Columns"]]
            return types if "set<string>" not in types else None

        # Then the set column is an array, the other untouched
        assert eventually(fixed, "the type fix") == ["string", "array<string>"]
    finally:
        glue.delete_table(DatabaseName=database, Name=name)
