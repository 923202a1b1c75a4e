"""Integration tests run template.yaml deployed into moto by the local runtime: events travel
S3 → EventBridge → SQS → Lambda → DynamoDB through the template's own wiring."""

from collections.abc import Iterator
from typing import Any

import pytest

from local_runtime import LocalRuntime


@pytest.fixture
def runtime() -> Iterator[LocalRuntime]:
    with LocalRuntime() as local:
        yield local


def tracker_items(runtime: LocalRuntime, source_table: str | None = None) -> list[dict[str, Any]]:
    """Every item of the file tracker table (optionally of one source table), as plain values."""
    table = runtime.outputs["FileTrackerTableName"]
    items: list[dict[str, Any]] = []
    for page in runtime.dynamodb.get_paginator("scan").paginate(TableName=table):
        items.extend(page["Items"])
    plain = [{name: next(iter(attr.values())) for name, attr in item.items()} for item in items]
    if source_table is None:
        return plain
    return [item for item in plain if item["source_table"] == source_table]


def queue_depth(runtime: LocalRuntime, output: str) -> int:
    attributes = runtime.sqs.get_queue_attributes(
        QueueUrl=runtime.outputs[output],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )
