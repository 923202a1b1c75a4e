"""`make test-alert` against the local runtime: tools.test_alert publishes a synthetic failure
to the deployed monitor topic and reports, from the stack's own stores, whether pipeline_monitor
stored it and Slack (the local webhook sink) took it."""

import io

import pytest

from local_runtime import LocalRuntime
from local_runtime.slack_sink import SinkAnswer
from tools import test_alert

pytestmark = pytest.mark.dynamodb_incidental


def run_tool(runtime: LocalRuntime, *args: str) -> tuple[int, str, str]:
    """The tool on the runtime's clients; each poll lets the runtime deliver what is due."""
    out, err = io.StringIO(), io.StringIO()
    code = test_alert.main(
        ["--stack", runtime.stack.name, "--timeout", "20", *args],
        out=out,
        err=err,
        client=runtime.client,
        wait=lambda _seconds: runtime.settle(),
    )
    return code, out.getvalue(), err.getvalue()


def test_a_test_alert_is_stored_and_posted(runtime: LocalRuntime) -> None:
    # Given a deployed stack whose webhook secret holds a working Slack URL
    # When an operator fires a test alert
    code, out, _ = run_tool(runtime)
    # Then the tool reports it stored and posted, and exits 0
    assert code == 0
    assert "stored: yes" in out
    assert "posted: yes" in out
    # And Slack got one post naming the test job, stored where the tool looked
    [post] = runtime.slack_bridge.sink.bodies()
    assert post["blocks"][0]["text"]["text"].endswith(
        f"Glue job FAILED: {runtime.stack.name}-test-alert"
    )
    key = out.split(f"s3://{runtime.outputs['MonitoringBucketName']}/")[1].split(")")[0]
    runtime.s3.head_object(Bucket=runtime.outputs["MonitoringBucketName"], Key=key)


def test_each_run_is_a_new_alert(runtime: LocalRuntime) -> None:
    # Given a test alert already posted
    assert run_tool(runtime)[0] == 0
    # When the operator fires another
    code, _, _ = run_tool(runtime)
    # Then it is posted too (a fresh event id, not a redelivery)
    assert code == 0
    assert len(runtime.slack_bridge.sink.bodies()) == 2


def test_a_slack_outage_is_reported_as_stored_but_not_posted(runtime: LocalRuntime) -> None:
    # Given Slack failing every post
    runtime.slack_bridge.sink.script(*[SinkAnswer.server_error()] * 100)
    # When a test alert is fired
    code, out, _ = run_tool(runtime)
    # Then the tool says it was stored, not posted, and exits 1
    assert code == test_alert.EXIT_NOT_POSTED
    assert "stored: yes" in out
    assert "posted: no" in out


def test_an_unknown_stack_is_an_aws_error(runtime: LocalRuntime) -> None:
    # Given a stack name that is not deployed
    out, err = io.StringIO(), io.StringIO()
    # When the tool is pointed at it
    code = test_alert.main(
        ["--stack", "no-such-stack"], out=out, err=err, client=runtime.client, wait=lambda _: None
    )
    # Then it exits 3, saying why, and published nothing
    assert code == test_alert.EXIT_AWS
    assert "no-such-stack" in err.getvalue()
    assert runtime.slack_bridge.sink.bodies() == []
