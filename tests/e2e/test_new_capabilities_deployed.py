"""The four later capabilities on a deployed stack: a DynamoDB change reaches the Iceberg table,
a workbook becomes CSVs, a CodePipeline-shaped event becomes a metrics CSV, and a failure event
on the monitor topic is stored for Athena. Resource names come from the stack's outputs."""

import io
import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3

TIMEOUT_S = 180


def eventually[T](probe: Callable[[], T | None], what: str) -> T:
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        found = probe()
        if found is not None:
            return found
        time.sleep(5)
    raise AssertionError(f"{what} did not happen within {TIMEOUT_S} s")


def athena_rows(outputs: dict[str, str], sql: str) -> list[list[str]]:
    athena = boto3.client("athena")
    query_id = athena.start_query_execution(
        QueryString=sql,
        WorkGroup=outputs["AthenaWorkGroupName"],
        QueryExecutionContext={"Database": outputs["LakeDatabaseName"]},
    )["QueryExecutionId"]

    def finished() -> str | None:
        state = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        status: str = state["Status"]["State"]
        return status if status in {"SUCCEEDED", "FAILED", "CANCELLED"} else None

    assert eventually(finished, f"query {query_id}") == "SUCCEEDED"
    rows = athena.get_query_results(QueryExecutionId=query_id)["ResultSet"]["Rows"]
    return [[cell.get("VarCharValue", "") for cell in row["Data"]] for row in rows[1:]]


def objects_under(bucket: str, prefix: str) -> list[str]:
    listed = boto3.client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix)
    return [obj["Key"] for obj in listed.get("Contents", [])]


def test_a_dynamodb_change_reaches_the_iceberg_table(stack_outputs: dict[str, str]) -> None:
    # Given a new order with a quote in a value
    order_id = f"e2e-{uuid.uuid4().hex[:12]}"
    table = stack_outputs["CdcSourceTableName"]
    dynamodb = boto3.client("dynamodb")
    dynamodb.put_item(
        TableName=table,
        Item={"order_id": {"S": order_id}, "status": {"S": "it's open"}, "amount": {"N": "1.5"}},
    )
    try:
        # Then the lake's orders table has it
        sql = f"SELECT status FROM orders WHERE order_id = '{order_id}'"  # noqa: S608 - test id

        def arrived() -> list[list[str]] | None:
            return athena_rows(stack_outputs, sql) or None

        assert eventually(arrived, "the MERGE") == [["it's open"]]
    finally:
        dynamodb.delete_item(TableName=table, Key={"order_id": {"S": order_id}})


def test_an_uploaded_workbook_becomes_csvs(stack_outputs: dict[str, str], stack: Any) -> None:
    from openpyxl import Workbook  # noqa: PLC0415 - dev dependency

    parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack["Parameters"]}
    prefix = parameters.get("WorkbookUploadPrefix", "incoming/")
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Region", "Units"])
    sheet.append(["Zürich", 12])
    buffer = io.BytesIO()
    book.save(buffer)
    name = f"e2e-{uuid.uuid4().hex[:12]}"
    boto3.client("s3").put_object(
        Bucket=stack_outputs["RawWorkbookBucketName"],
        Key=f"{prefix}{name}.xlsx",
        Body=buffer.getvalue(),
    )
    keys = eventually(
        lambda: objects_under(stack_outputs["CleanBucketName"], f"{prefix}{name}/") or None,
        "the clean CSV",
    )
    assert any(key.endswith(".csv") for key in keys)


def test_a_codepipeline_event_becomes_a_metrics_csv(stack_outputs: dict[str, str]) -> None:
    # Given a pipeline execution state change, sent as EventBridge would deliver it
    execution = str(uuid.uuid4())
    event = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "CodePipeline Pipeline Execution State Change",
        "source": "aws.codepipeline",
        "account": "000000000000",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "pipeline": "e2e",
            "execution-id": execution,
            "state": "SUCCEEDED",
            "version": 1,
        },
    }
    boto3.client("sqs").send_message(
        QueueUrl=stack_outputs["PipelineMetricsQueueUrl"], MessageBody=json.dumps(event)
    )
    day = event["time"][:10]
    bucket = stack_outputs["MetricsBucketName"]

    def written() -> bool | None:
        s3 = boto3.client("s3")
        for key in objects_under(bucket, f"pipeline-metrics/dt={day}/"):
            if execution in s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode():
                return True
        return None

    assert eventually(written, "the metrics CSV")


def test_a_failure_on_the_monitor_topic_is_stored(stack_outputs: dict[str, str]) -> None:
    # Given a Glue job failure event published to the monitor topic
    event_id = str(uuid.uuid4())
    event = {
        "version": "0",
        "id": event_id,
        "detail-type": "Glue Job State Change",
        "source": "aws.glue",
        "account": "000000000000",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "jobName": "e2e-job",
            "severity": "ERROR",
            "state": "FAILED",
            "jobRunId": "jr_e2e",
            "message": "e2e failure",
        },
    }
    boto3.client("sns").publish(
        TopicArn=stack_outputs["MonitorTopicArn"], Message=json.dumps(event)
    )
    bucket = stack_outputs["MonitoringBucketName"]
    day = event["time"][:10]
    keys = eventually(
        lambda: (
            [k for k in objects_under(bucket, f"monitoring-events/dt={day}/") if event_id in k]
            or None
        ),
        "the monitoring record",
    )
    assert len(keys) == 1
