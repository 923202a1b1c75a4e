"""A file landed in the deployed staging bucket shows up in the deployed file tracker."""

import time
import uuid
from typing import Any

import boto3

from tests.e2e.conftest import plain

TIMEOUT_S = 90


def wait_for_item(table: str, source_table: str, key: str) -> dict[str, Any] | None:
    dynamodb = boto3.client("dynamodb")
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        response = dynamodb.query(
            TableName=table,
            KeyConditionExpression="source_table = :t",
            FilterExpression="#k = :k",
            ExpressionAttributeNames={"#k": "key"},
            ExpressionAttributeValues={":t": {"S": source_table}, ":k": {"S": key}},
            ConsistentRead=True,
        )
        if response["Items"]:
            return plain(response["Items"][0])
        time.sleep(3)
    return None


def test_landed_cdc_file_is_tracked_once(
    stack_outputs: dict[str, str], staging_prefix: str, landed_keys: list[str]
) -> None:
    # Given a unique table name so parallel runs never meet
    table_name = f"e2e_{uuid.uuid4().hex[:10]}"
    key = f"{staging_prefix}e2e/{table_name}/2026/11/23/20261123-101500123.csv"
    landed_keys.append(key)

    # When a CDC file lands in the deployed staging bucket
    boto3.client("s3").put_object(
        Bucket=stack_outputs["StagingBucketName"], Key=key, Body=b"I,1,2026-11-23\n"
    )

    # Then the file tracker records it as a pending CDC file
    item = wait_for_item(stack_outputs["FileTrackerTableName"], f"e2e.{table_name}", key)
    assert item is not None, f"{key} was not tracked within {TIMEOUT_S} s"
    assert item["load_type"] == "cdc"
    assert item["status"] == "raw_file_landed"
    boto3.client("dynamodb").delete_item(
        TableName=stack_outputs["FileTrackerTableName"],
        Key={"source_table": {"S": item["source_table"]}, "file_id": {"S": item["file_id"]}},
    )
