"""The local runtime's own promises, on a small template of its own: EventBridge → Lambda with
Lambda's async retries, rule state and InputPath, the Invoke API, and a clean teardown.
(tests for the project's template are in test_file_tracking_flow.py)"""

import json
import os
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.events.models import Rule

from local_runtime import LocalRuntime
from tests.integration.small_projects import RECORD_FILE, recorded, write_project

RECORDER = textwrap.dedent(
    '''
    import json, os

    def lambda_handler(event, context):
        """Appends each event to RECORD_FILE; fails while fewer than FAIL_TIMES lines exist."""
        path = os.environ["RECORD_FILE"]
        with open(path, "a") as log:
            log.write(json.dumps(event) + "\\n")
        with open(path) as log:
            attempts = sum(1 for _ in log)
        if attempts <= int(os.environ["FAIL_TIMES"]):
            raise RuntimeError(f"attempt {attempts} fails on purpose")
        return {"seen": event}
    '''
)


def template(record_file: Path, fail_times: int) -> str:
    return textwrap.dedent(
        f"""
        Transform: AWS::Serverless-2016-10-31
        Resources:
          RecorderFunction:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: functions/recorder/
              Handler: app.lambda_handler
              Runtime: python3.13
              Environment:
                Variables:
                  RECORD_FILE: "{record_file}"
                  FAIL_TIMES: "{fail_times}"
              Events:
                Ping:
                  Type: EventBridgeRule
                  Properties:
                    Pattern:
                      source: [tests.ping]
                    InputPath: $.detail
                Ignored:
                  Type: EventBridgeRule
                  Properties:
                    State: DISABLED
                    Pattern:
                      source: [tests.disabled]
        """
    )


def make_project(root: Path, fail_times: int) -> Path:
    return write_project(root, "recorder", RECORDER, template(root / RECORD_FILE, fail_times))


def put(runtime: LocalRuntime, source: str, detail: dict[str, object]) -> None:
    runtime.client("events").put_events(
        Entries=[{"Source": source, "DetailType": "Ping", "Detail": json.dumps(detail)}]
    )


@pytest.fixture
def healthy(tmp_path: Path) -> Iterator[LocalRuntime]:
    with LocalRuntime(make_project(tmp_path, fail_times=0)) as runtime:
        yield runtime


def test_rule_delivers_its_input_path_to_the_lambda_target(
    healthy: LocalRuntime, tmp_path: Path
) -> None:
    # When a matching event is put and the runtime settles
    put(healthy, "tests.ping", {"n": 1})
    healthy.settle()

    # Then the function got the event's detail, as InputPath says
    assert recorded(tmp_path) == [{"n": 1}]
    [invocation] = healthy.invocations
    assert invocation.trigger == "rule RecorderFunctionPing"


def test_disabled_rule_delivers_nothing(healthy: LocalRuntime, tmp_path: Path) -> None:
    put(healthy, "tests.disabled", {"n": 1})
    healthy.settle()

    assert recorded(tmp_path) == []


def test_async_invocation_is_retried_twice_like_lambda(tmp_path: Path) -> None:
    # Given a function that fails its first two attempts
    with LocalRuntime(make_project(tmp_path, fail_times=2)) as runtime:
        # When an event reaches it through the rule
        put(runtime, "tests.ping", {"n": 1})
        runtime.settle()

        # Then the third attempt succeeds and nothing is reported as lost
        assert [i.ok for i in runtime.invocations] == [False, False, True]
        assert runtime.lambda_bridge.failed_async == []


def test_async_invocation_failing_every_attempt_is_put_on_record(tmp_path: Path) -> None:
    with LocalRuntime(make_project(tmp_path, fail_times=99)) as runtime:
        put(runtime, "tests.ping", {"n": 1})
        runtime.settle()

        assert len(runtime.invocations) == 3
        [failure] = runtime.lambda_bridge.failed_async
        assert "fails on purpose" in (failure.error or "")
        assert any("RecorderFunction failed 3 times" in note for note in runtime.activity.notes)


def test_invoke_api_runs_the_handler_and_returns_its_result(healthy: LocalRuntime) -> None:
    name = healthy.stack.resources["RecorderFunction"]

    response = healthy.client("lambda").invoke(FunctionName=name, Payload=b'{"n": 2}')

    assert json.loads(response["Payload"].read()) == {"seen": {"n": 2}}
    assert "FunctionError" not in response


def test_invoke_api_reports_a_handler_error_as_lambda_does(tmp_path: Path) -> None:
    with LocalRuntime(make_project(tmp_path, fail_times=1)) as runtime:
        name = runtime.stack.resources["RecorderFunction"]

        response = runtime.client("lambda").invoke(FunctionName=name, Payload=b"{}")

        assert response["FunctionError"] == "Unhandled"
        assert json.loads(response["Payload"].read())["errorType"] == "RuntimeError"


def test_event_invocation_waits_for_settle(healthy: LocalRuntime, tmp_path: Path) -> None:
    name = healthy.stack.resources["RecorderFunction"]

    healthy.client("lambda").invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")
    before = recorded(tmp_path)
    healthy.settle()

    assert before == []
    assert recorded(tmp_path) == [{}]


def test_stop_restores_moto_environment_and_the_process_lock(tmp_path: Path) -> None:
    # Given the process state before a runtime
    send_to_targets, invoke = Rule.send_to_targets, LambdaSimpleBackend.invoke
    os.environ["AWS_PROFILE"] = "someone-real"
    try:
        environment = dict(os.environ)
        runtime = LocalRuntime(make_project(tmp_path, fail_times=0))

        # When a runtime starts (a second one is refused meanwhile) and stops
        with runtime:
            assert "AWS_PROFILE" not in os.environ
            refused = LocalRuntime(runtime.template_path)
            with pytest.raises(RuntimeError, match="another LocalRuntime"):
                refused.start()
            refused.stop()  # must not free the running runtime's lock
            with pytest.raises(RuntimeError, match="another LocalRuntime"):
                LocalRuntime(runtime.template_path).start()

        # Then moto's code, the environment and the lock are as they were
        assert Rule.send_to_targets is send_to_targets
        assert LambdaSimpleBackend.invoke is invoke
        assert dict(os.environ) == environment
        with LocalRuntime(runtime.template_path):
            pass
    finally:
        del os.environ["AWS_PROFILE"]
