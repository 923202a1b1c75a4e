"""`make destroy` (tools.destroy) on template.yaml deployed into moto's CloudFormation: the
stack goes, the buckets it deletes are emptied first, and what DeletionPolicy Retain keeps is
still there and listed by physical name with the commands that remove it.

The stack is deployed as the local runtime deploys it (local_runtime.deploy), without the
runtime's bridges: deletion needs only CloudFormation, S3 and DynamoDB."""

import io
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from samcli.yamlhelper import yaml_parse

from local_runtime.deploy import deploy
from local_runtime.template import TranslatedTemplate, translate
from tools.destroy import EXIT_NOT_CONFIRMED, DeletionPlan, destroy, main

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
STACK = "datalake-events-destroy"
PARAMETERS = {"Stage": "local"}
INSTANT: Any = {"Delay": 1, "MaxAttempts": 5}


@cache
def _translated() -> TranslatedTemplate:
    return translate(ROOT / "template.yaml", PARAMETERS)


@dataclass
class Deployed:
    session: boto3.session.Session
    outputs: dict[str, str]

    def client(self, service: str) -> Any:
        return self.session.client(service)  # type: ignore[call-overload]


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployed]:
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws(config={"lambda": {"use_docker": False}}):
        session = boto3.session.Session(region_name=REGION)
        deployed = deploy(_translated(), STACK, PARAMETERS, session)
        yield Deployed(session, deployed.outputs)


def _retained_logical_ids() -> set[str]:
    template: dict[str, Any] = yaml_parse((ROOT / "template.yaml").read_text())
    return {
        logical
        for logical, resource in template["Resources"].items()
        if resource.get("DeletionPolicy") == "Retain"
    }


def _destroy(stack: Deployed, *, confirmed: bool = True) -> tuple[int, str]:
    out = io.StringIO()

    def confirm(_plan: DeletionPlan) -> bool:
        return confirmed

    code = destroy(STACK, REGION, stack.client, confirm=confirm, out=out, wait=INSTANT)
    return code, out.getvalue()


def _bucket_exists(stack: Deployed, bucket: str) -> bool:
    try:
        stack.client("s3").head_bucket(Bucket=bucket)
    except ClientError:
        return False
    return True


def _table_exists(stack: Deployed, table: str) -> bool:
    try:
        stack.client("dynamodb").describe_table(TableName=table)
    except ClientError:
        return False
    return True


def test_the_stack_is_deleted_after_the_buckets_it_deletes_are_emptied(
    stack: Deployed,
) -> None:
    # Given a query result in the Athena results bucket (DeletionPolicy Delete)
    results = stack.outputs["AthenaResultsBucketName"]
    stack.client("s3").put_object(Bucket=results, Key="results/q1.csv", Body=b"a\n1\n")

    # When the stack is destroyed
    code, _ = _destroy(stack)

    # Then the stack and that bucket are gone (CloudFormation cannot delete a non-empty bucket)
    assert code == 0
    with pytest.raises(ClientError):
        stack.client("cloudformation").describe_stacks(StackName=STACK)
    assert not _bucket_exists(stack, results)


def test_retained_stores_keep_their_data_and_the_others_go(stack: Deployed) -> None:
    # Given data in the lake bucket and the stack's tables
    lake = stack.outputs["LakeBucketName"]
    stack.client("s3").put_object(Bucket=lake, Key="warehouse/orders/data/1.parquet", Body=b"PAR1")
    tracker = stack.outputs["FileTrackerTableName"]
    leases = stack.outputs["ProcessingLeaseTableName"]

    # When the stack is destroyed
    code, _ = _destroy(stack)

    # Then the retained bucket and table are still there, the lease table (Delete) is not
    assert code == 0
    assert (
        stack.client("s3")
        .get_object(Bucket=lake, Key="warehouse/orders/data/1.parquet")["Body"]
        .read()
    )
    assert _table_exists(stack, tracker)
    assert not _table_exists(stack, leases)


def test_the_report_lists_each_kept_resource_with_its_removal_commands(
    stack: Deployed,
) -> None:
    # Given the physical names CloudFormation gave the retained resources it created
    retained = _retained_logical_ids()
    pages = stack.client("cloudformation").get_paginator("list_stack_resources")
    kept = {
        summary["LogicalResourceId"]: summary["PhysicalResourceId"]
        for page in pages.paginate(StackName=STACK)
        for summary in page["StackResourceSummaries"]
        if summary["LogicalResourceId"] in retained
    }
    assert "LakeBucket" in kept
    assert "FileTrackerTable" in kept

    # When the stack is destroyed
    code, output = _destroy(stack)

    # Then the report after the deletion names each of them, followed by its removal commands
    assert code == 0
    report = output.split("Deleted stack", 1)[1]
    for logical, physical in kept.items():
        assert f"{logical}: {physical}" in report
    assert f"aws s3api delete-bucket --bucket {kept['LakeBucket']} --region {REGION}" in report
    tracker = kept["FileTrackerTable"]
    assert f"aws dynamodb delete-table --table-name {tracker} --region {REGION}" in report


def test_the_printed_bucket_commands_remove_a_versioned_kept_bucket(stack: Deployed) -> None:
    # Given the retained, versioned staging bucket with two versions and a delete marker
    staging = stack.outputs["StagingBucketName"]
    for body in (b"v1", b"v2"):
        stack.client("s3").put_object(Bucket=staging, Key="sales/orders/f.csv", Body=body)
    stack.client("s3").delete_object(Bucket=staging, Key="sales/orders/f.csv")
    assert _destroy(stack)[0] == 0

    # When the report's commands for it run (the tool's --empty-bucket, then DeleteBucket)
    emptied = main(["--empty-bucket", staging, "--region", REGION], out=io.StringIO())
    stack.client("s3").delete_bucket(Bucket=staging)

    # Then the bucket is gone
    assert emptied == 0
    assert not _bucket_exists(stack, staging)


def test_nothing_is_deleted_without_confirmation(stack: Deployed) -> None:
    # Given a query result in the bucket the stack would delete
    results = stack.outputs["AthenaResultsBucketName"]
    stack.client("s3").put_object(Bucket=results, Key="results/q1.csv", Body=b"a\n1\n")

    # When the confirmation is refused
    code, output = _destroy(stack, confirmed=False)

    # Then the stack and the result are untouched
    assert code == EXIT_NOT_CONFIRMED
    assert "nothing was deleted" in output
    stacks = stack.client("cloudformation").describe_stacks(StackName=STACK)
    assert stacks["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    assert stack.client("s3").get_object(Bucket=results, Key="results/q1.csv")["Body"].read()


def _physical(stack: Deployed, logical: str) -> str:
    pages = stack.client("cloudformation").get_paginator("list_stack_resources")
    [physical] = [
        summary["PhysicalResourceId"]
        for page in pages.paginate(StackName=STACK)
        for summary in page["StackResourceSummaries"]
        if summary["LogicalResourceId"] == logical
    ]
    return str(physical)


def _stream_of_new_table(stack: Deployed, name: str) -> str:
    table = stack.client("dynamodb").create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    return str(table["TableDescription"]["LatestStreamArn"])


def test_what_the_config_loader_made_is_removed_before_the_stack(stack: Deployed) -> None:
    # Given a stream mapping the config loader made for a CDC table, beside the template's
    function = _physical(stack, "IcebergCdcFunction")
    template_mapping = _physical(stack, "IcebergCdcSourceChanges")
    lambda_client = stack.client("lambda")
    made = lambda_client.create_event_source_mapping(
        FunctionName=function,
        EventSourceArn=_stream_of_new_table(stack, "cdc-customers"),
        StartingPosition="TRIM_HORIZON",
    )["UUID"]
    # and the stack's subscription filter on a Redshift log group, beside another team's
    logs = stack.client("logs")
    group = "/aws/redshift/cluster/analytics/useractivitylog"
    logs.create_log_group(logGroupName=group)
    audit = _physical(stack, "RedshiftAuditFunction")
    audit_arn = lambda_client.get_function(FunctionName=audit)["Configuration"]["FunctionArn"]
    for name in (f"{STACK}-redshift-audit", "other-team"):
        logs.put_subscription_filter(
            logGroupName=group, filterName=name, filterPattern="", destinationArn=audit_arn
        )

    # When the stack is destroyed
    code, output = _destroy(stack)

    # Then the loader's mapping and filter were removed first, and named in the plan
    assert code == 0
    assert f"removed first (made by the config loader): stream mapping {made}" in output
    with pytest.raises(ClientError):
        lambda_client.get_event_source_mapping(UUID=made)
    filters = logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"]
    assert [f["filterName"] for f in filters] == ["other-team"]
    # and the template's own mapping was left to CloudFormation, not listed as the loader's
    assert template_mapping not in output.split("will be deleted.", 1)[1].split("kept", 1)[0]
