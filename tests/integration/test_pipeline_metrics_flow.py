"""CodePipeline state changes through the template: EventBridge rule → SQS → pipeline_metrics →
CSV objects per day → the template's named queries on the local Athena."""

import json
from datetime import UTC, datetime
from typing import Any

from dev.demo.pipeline_metrics import codepipeline_events
from dev.demo.support import athena_rows, named_query
from local_runtime import LocalRuntime
from tests.integration.conftest import queue_depth


def put(runtime: LocalRuntime, entries: list[dict[str, Any]]) -> None:
    events = runtime.client("events")
    for start in range(0, len(entries), 10):
        response = events.put_events(Entries=entries[start : start + 10])
        assert response["FailedEntryCount"] == 0


def csv_keys(runtime: LocalRuntime) -> list[str]:
    listed = runtime.s3.list_objects_v2(Bucket=runtime.outputs["MetricsBucketName"])
    return sorted(obj["Key"] for obj in listed.get("Contents", []))


def test_state_changes_become_one_csv_object_per_batch_and_day(runtime: LocalRuntime) -> None:
    # Given six executions' state changes over two days
    entries = codepipeline_events(datetime.now(UTC))
    # When they are put on the default bus and the event graph settles
    put(runtime, entries)
    runtime.settle()
    # Then each day got its partition, every message was consumed, nothing dead-lettered
    keys = csv_keys(runtime)
    days = {key.split("/")[1] for key in keys}
    assert len(days) == 2
    assert all(key.startswith("pipeline-metrics/dt=") and key.endswith(".csv") for key in keys)
    assert len(keys) < len(entries) / 10
    assert queue_depth(runtime, "PipelineMetricsQueueUrl") == 0
    assert queue_depth(runtime, "PipelineMetricsDLQUrl") == 0


def test_named_queries_count_each_execution_once_even_after_redelivery(
    runtime: LocalRuntime,
) -> None:
    # Given the same state changes delivered twice (EventBridge is at-least-once), with the
    # event ids a redelivery keeps
    entries = codepipeline_events(datetime.now(UTC))
    put(runtime, entries)
    runtime.settle()
    bucket = runtime.outputs["MetricsBucketName"]
    for key in csv_keys(runtime):  # the same events again, as a second batch would carry them
        body = runtime.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        runtime.s3.put_object(Bucket=bucket, Key=key.replace(".csv", "-copy.csv"), Body=body)
    # When the template's "executions and success rate" named query runs
    query = named_query(runtime, "pipeline metrics - executions and success rate")
    headers, rows = athena_rows(runtime, query["QueryString"], query["Database"])
    # Then every execution counts once: web-app 2 of 3 succeeded, data-etl 1 succeeded and 1
    # superseded, infra 1 canceled
    by_pipeline: dict[str, list[int]] = {}
    for row in rows:
        record = dict(zip(headers, row, strict=True))
        totals = by_pipeline.setdefault(record["pipeline"], [0, 0, 0])
        totals[0] += int(record["executions"])
        totals[1] += int(record["succeeded"])
        totals[2] += int(record["failed"])
    assert by_pipeline == {"web-app": [3, 2, 1], "data-etl": [2, 1, 0], "infra": [1, 0, 0]}


def test_a_malformed_codepipeline_event_is_dead_lettered_not_dropped(
    runtime: LocalRuntime,
) -> None:
    # Given a CodePipeline event without the fields every shape has
    entry = {
        "Source": "aws.codepipeline",
        "DetailType": "CodePipeline Action Execution State Change",
        "Detail": json.dumps({"pipeline": "web-app", "state": "FAILED"}),
    }
    # When it is delivered again and again
    put(runtime, [entry])
    for _ in range(6):
        runtime.settle()
        runtime.sqs.set_queue_attributes(
            QueueUrl=runtime.outputs["PipelineMetricsQueueUrl"],
            Attributes={"VisibilityTimeout": "0"},
        )
    runtime.settle()
    # Then no CSV holds it and it waits in the DLQ (maxReceiveCount 5)
    assert csv_keys(runtime) == []
    assert queue_depth(runtime, "PipelineMetricsDLQUrl") == 1
