"""The deployed batch-dispatch state machine answers a tick end to end (no data touched)."""

import json
import time
import uuid

import boto3

TIMEOUT_S = 120


def test_tick_of_an_unconfigured_cadence_fails_in_the_planner(
    stack_outputs: dict[str, str],
) -> None:
    # Given a cadence no config defines (so nothing real is planned or merged)
    cadence = f"e2e-{uuid.uuid4().hex[:8]}"
    client = boto3.client("stepfunctions")

    # When the state machine is started as its schedule would start it
    arn = client.start_execution(
        stateMachineArn=stack_outputs["BatchDispatchStateMachineArn"],
        name=f"e2e-{uuid.uuid4().hex}",
        input=json.dumps({"cadence": cadence}),
    )["executionArn"]
    deadline = time.monotonic() + TIMEOUT_S
    status = "RUNNING"
    while status == "RUNNING" and time.monotonic() < deadline:
        time.sleep(3)
        status = client.describe_execution(executionArn=arn)["status"]

    # Then the planner (invoked, permitted, configured) refused it by name, and no Glue run began
    assert status == "FAILED"
    history = client.get_execution_history(executionArn=arn, reverseOrder=True)["events"]
    failure = next(e for e in history if e["type"] == "ExecutionFailed")
    assert "UnknownCadenceError" in json.dumps(failure["executionFailedEventDetails"])
