"""The operations dashboard as the local stack deploys it: the dashboard the stack's output links
to exists, every ${...} of its body is resolved, and what it charts are the stack's own queues,
functions, state machines and Glue job, by the names they were given.

One runtime serves the module (the project's deploy is the cost); the tests only read."""

import json
from collections.abc import Iterator
from typing import Any

import pytest

from dev.runtime import PROJECT_TEMPLATE, project_runtime
from local_runtime import LocalRuntime
from local_runtime.emulated import resolver_for
from local_runtime.intrinsics import ACCOUNT_ID
from local_runtime.template import translate

pytestmark = pytest.mark.dynamodb_incidental


@pytest.fixture(scope="module")
def deployed() -> Iterator[LocalRuntime]:
    with project_runtime() as runtime:
        yield runtime


@pytest.fixture(scope="module")
def body(deployed: LocalRuntime) -> str:
    name = deployed.outputs["OperationsDashboardUrl"].rsplit("/", 1)[-1]
    text: str = deployed.client("cloudwatch").get_dashboard(DashboardName=name)["DashboardBody"]
    return text


def _charted(body: str, dimension: str) -> set[str]:
    """Every value the body's metric lines give ``dimension``."""
    values = set()
    for widget in json.loads(body)["widgets"]:
        for line in widget["properties"].get("metrics", []) if widget["type"] == "metric" else []:
            parts = [part for part in line if isinstance(part, str)][2:]
            values |= {v for k, v in zip(parts[::2], parts[1::2], strict=True) if k == dimension}
    return values


def _physical(deployed: LocalRuntime, kind: str) -> set[str]:
    return set(deployed.stack.physical_ids(kind).values())


def test_the_output_links_to_a_dashboard_whose_body_is_fully_resolved(body: str) -> None:
    # Given the dashboard the OperationsDashboardUrl output names (read by the fixture)
    document: dict[str, Any] = json.loads(body)
    # Then it has widgets, and no ${...} of the template is left in it
    assert len(document["widgets"]) > 20
    assert "${" not in body


def test_the_dashboard_charts_the_stacks_own_queues_and_functions(
    deployed: LocalRuntime, body: str
) -> None:
    # Given the queues and functions the stack created
    queues = {url.rsplit("/", 1)[-1] for url in _physical(deployed, "AWS::SQS::Queue")}
    functions = _physical(deployed, "AWS::Lambda::Function")
    # Then the dashboard charts exactly those, by their real names
    assert len(queues) >= 19
    assert _charted(body, "QueueName") == queues
    assert _charted(body, "FunctionName") == functions


def test_the_dashboard_charts_the_stacks_state_machines_and_glue_job(
    deployed: LocalRuntime, body: str
) -> None:
    # Given the state machines and the Glue job of the stack
    machines = _physical(deployed, "AWS::StepFunctions::StateMachine")
    jobs = set(deployed.client("glue").list_jobs()["JobNames"])
    # Then those are the dashboard's state machine ARNs and Glue job names
    assert len(machines) == 3
    assert _charted(body, "StateMachineArn") == machines
    assert _charted(body, "JobName") == jobs == {f"{deployed.stack.name}-cdc-merge"}


def _alarm_names(deployed: LocalRuntime, region: str) -> set[str]:
    """The AlarmName of every alarm the template creates, resolved for the deployed stack (moto
    creates no alarm: the template is the record)."""
    translated = translate(PROJECT_TEMPLATE, deployed.parameters)
    resolver = resolver_for(translated, deployed.stack, deployed.parameters, region)
    return {
        str(resolver.resolve(alarm["Properties"]["AlarmName"]))
        for alarm in translated.resources_of_type("AWS::CloudWatch::Alarm").values()
        if "Condition" not in alarm or resolver.conditions[alarm["Condition"]]
    }


def test_the_dashboard_shows_every_alarm_of_the_stack_and_no_other(
    deployed: LocalRuntime, body: str
) -> None:
    # Given the alarm status widgets' alarm ARNs
    alarms = {
        arn
        for widget in json.loads(body)["widgets"]
        if widget["type"] == "alarm"
        for arn in widget["properties"]["alarms"]
    }
    # Then they are the ARNs of the template's alarms, as named for this stack (decision 0022)
    region = deployed.client("sts").meta.region_name
    names = _alarm_names(deployed, region)
    assert len(names) >= 22
    assert alarms == {f"arn:aws:cloudwatch:{region}:{ACCOUNT_ID}:alarm:{name}" for name in names}
