"""Integration tests run template.yaml deployed into moto by the local runtime: events travel
S3 → EventBridge → SQS → Lambda → DynamoDB through the template's own wiring.

With LOCAL_DYNAMODB=dynamodb-local, AWS's DynamoDB Local serves DynamoDB (tables and streams)
to every runtime of the session instead of moto (CI runs the tier both ways)."""

import os
from collections.abc import Iterator
from typing import Any

import pytest

from dev.runtime import project_runtime
from local_runtime import LocalRuntime
from local_runtime.bridges.dynamodb_backend import DYNAMODB_LOCAL, backend_name
from local_runtime.bridges.dynamodb_local import SHARED_ENDPOINT_VARIABLE
from local_runtime.real_engines import DynamoDbLocal


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """On DynamoDB Local, the tier repeats what DynamoDB's semantics can change: tests marked
    ``dynamodb_incidental`` (event patterns, log subscriptions, schedules, the alert probe) use
    DynamoDB through code other tests already run there, and are not repeated (the tier's time)."""
    if backend_name() != DYNAMODB_LOCAL:
        return
    skip = pytest.mark.skip(reason="DynamoDB is incidental here; run on moto")
    for item in items:
        if item.get_closest_marker("dynamodb_incidental"):
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def _one_dynamodb_local_per_session() -> Iterator[None]:
    """With the switch on, the session's runtimes (and the demo's subprocess) share one
    DynamoDB Local, each dropping its own tables on stop: its JVM takes seconds to start, and
    once per runtime would multiply the tier's time."""
    if backend_name() != DYNAMODB_LOCAL or os.environ.get(SHARED_ENDPOINT_VARIABLE):
        yield
        return
    with DynamoDbLocal() as server:
        os.environ[SHARED_ENDPOINT_VARIABLE] = server.endpoint_url
        try:
            yield
        finally:
            del os.environ[SHARED_ENDPOINT_VARIABLE]


@pytest.fixture
def runtime() -> Iterator[LocalRuntime]:
    with project_runtime() as local:
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
