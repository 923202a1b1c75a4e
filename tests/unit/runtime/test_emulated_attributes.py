"""Attributes of resources moto's CloudFormation skips (local_runtime.deploy, .emulated): moto is
given a placeholder in their place and the runtime resolves them once it has created those
resources. One the runtime cannot resolve fails the deploy, naming who reads what, instead of
leaving the placeholder in a function's environment or an output; a dashboard's body is resolved
again under its physical name, DashboardName given or not."""

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local_runtime.deploy import DeployedStack, DeployError, deploy
from local_runtime.emulated import build_emulated
from local_runtime.template import ARTIFACT_BUCKET, TranslatedTemplate

REGION = "us-east-1"
ACCOUNT = "123456789012"
STACK = "attributes"
# A schedule group: moto's CloudFormation skips it, the runtime creates it and knows its Arn.
GROUP: dict[str, Any] = {"Type": "AWS::Scheduler::ScheduleGroup", "Properties": {"Name": "jobs"}}
GROUP_ARN = f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule-group/jobs"
# A QuickSight data source under a condition that is false: never created.
NEVER_CREATED: dict[str, Any] = {
    "Type": "AWS::QuickSight::DataSource",
    "Condition": "Never",
    "Properties": {
        "AwsAccountId": ACCOUNT,
        "DataSourceId": "athena",
        "Name": "athena",
        "Type": "ATHENA",
        "DataSourceParameters": {"AthenaParameters": {"WorkGroup": "primary"}},
    },
}
ROLE: dict[str, Any] = {
    "Type": "AWS::IAM::Role",
    "Properties": {"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []}},
}


def function_reading(value: Any) -> dict[str, Any]:
    """A function whose environment variable READ holds ``value``."""
    return {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "Code": {"S3Bucket": ARTIFACT_BUCKET, "S3Key": "Reader.zip"},
            "Handler": "app.handler",
            "Runtime": "python3.13",
            "Role": {"Fn::GetAtt": ["Role", "Arn"]},
            "Environment": {"Variables": {"READ": value}},
        },
    }


def template(
    resources: dict[str, Any], outputs: dict[str, Any] | None = None
) -> TranslatedTemplate:
    cloudformation = {
        "Conditions": {"Never": {"Fn::Equals": ["yes", "no"]}},
        "Resources": {"Role": ROLE, **resources},
        "Outputs": outputs or {},
    }
    return TranslatedTemplate(cloudformation, placeholder_keys=("Reader.zip",))


@pytest.fixture
def session() -> Iterator[boto3.session.Session]:
    with mock_aws():
        yield boto3.session.Session(region_name=REGION)


def deployed(translated: TranslatedTemplate, session: boto3.session.Session) -> DeployedStack:
    """The template deployed into moto, then the resources moto skips created."""
    stack = deploy(translated, STACK, {}, session)
    build_emulated(translated, stack, {}, session)
    return stack


def test_an_attribute_the_runtime_cannot_resolve_is_refused_at_deploy(
    session: boto3.session.Session,
) -> None:
    # Given a function reading an attribute of a schedule group the runtime does not know
    translated = template(
        {"Group": GROUP, "Reader": function_reading({"Fn::GetAtt": ["Group", "CreationDate"]})}
    )
    # When it is deployed
    with pytest.raises(DeployError) as raised:
        deploy(translated, STACK, {}, session)
    # Then the deploy fails before moto sees it, naming the reader and the attribute
    assert "Reader reads Group.CreationDate" in str(raised.value)
    assert session.client("cloudformation").list_stacks()["StackSummaries"] == []


def test_a_function_variable_left_unresolved_fails_the_deploy(
    session: boto3.session.Session,
) -> None:
    # Given a function whose variable reads the Arn of a data source that is not created
    translated = template(
        {"Source": NEVER_CREATED, "Reader": function_reading({"Fn::GetAtt": ["Source", "Arn"]})}
    )
    # When it is deployed and the skipped resources are created
    with pytest.raises(DeployError) as raised:
        deployed(translated, session)
    # Then the deploy fails, naming the function, the variable and the attribute
    message = str(raised.value)
    assert "function Reader: environment variable READ" in message
    assert "Source.Arn" in message


def test_an_output_left_unresolved_fails_the_deploy(session: boto3.session.Session) -> None:
    # Given an output reading the Arn of a data source that is not created
    translated = template(
        {"Source": NEVER_CREATED},
        outputs={"SourceArn": {"Value": {"Fn::GetAtt": ["Source", "Arn"]}}},
    )
    # When it is deployed and the skipped resources are created
    with pytest.raises(DeployError) as raised:
        deployed(translated, session)
    # Then the deploy fails, naming the output and the attribute
    assert "output SourceArn" in str(raised.value)
    assert "Source.Arn" in str(raised.value)


def test_attributes_the_runtime_resolves_reach_functions_and_outputs(
    session: boto3.session.Session,
) -> None:
    # Given a function and an output reading the Arn of a schedule group moto skips
    translated = template(
        {"Group": GROUP, "Reader": function_reading({"Fn::Sub": "group ${Group.Arn}"})},
        outputs={"GroupArn": {"Value": {"Fn::GetAtt": ["Group", "Arn"]}}},
    )
    # When it is deployed and the skipped resources are created
    stack = deployed(translated, session)
    # Then both hold the group's ARN
    function = session.client("lambda").get_function_configuration(
        FunctionName=stack.resources["Reader"]
    )
    assert function["Environment"]["Variables"]["READ"] == f"group {GROUP_ARN}"
    assert stack.outputs["GroupArn"] == GROUP_ARN


def test_a_dashboard_without_a_name_gets_its_body_resolved(
    session: boto3.session.Session,
) -> None:
    # Given a dashboard with no DashboardName whose body names a schedule group moto skips
    widget = {"type": "text", "properties": {"markdown": "${Group.Arn}"}}
    dashboard = {
        "Type": "AWS::CloudWatch::Dashboard",
        "Properties": {"DashboardBody": {"Fn::Sub": json.dumps({"widgets": [widget]})}},
    }
    translated = template({"Group": GROUP, "Dashboard": dashboard})
    # When it is deployed and the skipped resources are created
    stack = deployed(translated, session)
    # Then the dashboard CloudFormation named holds the group's ARN
    cloudwatch = session.client("cloudwatch")
    body = cloudwatch.get_dashboard(DashboardName=stack.resources["Dashboard"])["DashboardBody"]
    assert json.loads(body)["widgets"][0]["properties"]["markdown"] == GROUP_ARN
    assert len(cloudwatch.list_dashboards()["DashboardEntries"]) == 1
