"""Monitoring through the template: service state changes → EventBridge rules → monitor topic
(SNS) → pipeline_monitor → stored for Athena and posted to Slack (the local webhook sink)."""

import json
from typing import Any

from dev.demo.monitoring import REDSHIFT_EVENT, break_a_batch
from dev.demo.run import EXAMPLE_CONFIG
from dev.demo.support import athena_rows
from local_runtime import LocalRuntime
from local_runtime.slack_sink import SinkAnswer
from tests.integration.conftest import queue_depth


def failed_glue_event(run_id: str = "jr_0123456789abcdef") -> dict[str, Any]:
    return {
        "Source": "aws.glue",
        "DetailType": "Glue Job State Change",
        "Detail": json.dumps(
            {
                "jobName": "datalake-events-local-cdc-merge",
                "severity": "ERROR",
                "state": "FAILED",
                "jobRunId": run_id,
                "message": "AnalysisException: table not found",
            }
        ),
    }


def monitor_invocations(runtime: LocalRuntime) -> list[Any]:
    return [i for i in runtime.invocations if "PipelineMonitor" in i.function]


def test_a_failed_batch_run_is_stored_and_posted_once_per_failure(runtime: LocalRuntime) -> None:
    # Given the example pipeline config, and a batch run whose Glue job fails on a broken file
    runtime.s3.put_object(
        Bucket=runtime.outputs["ConfigBucketName"],
        Key=f"config/{EXAMPLE_CONFIG.name}",
        Body=EXAMPLE_CONFIG.read_bytes(),
    )
    runtime.settle()
    execution = break_a_batch(runtime)
    # Then the run failed, and both failures reached Slack, one post each
    assert execution["status"] == "FAILED"
    posts = runtime.slack_bridge.sink.bodies()
    headers = [p["blocks"][0]["text"]["text"] for p in posts]
    assert sum("Glue job FAILED" in h for h in headers) == 1
    assert sum("Step Functions execution FAILED" in h for h in headers) == 1
    # And every state change is stored for Athena, successes included
    _, rows = athena_rows(runtime, "SELECT service, state FROM monitoring_events")
    assert ["glue-job", "FAILED"] in rows
    assert ["stepfunctions", "FAILED"] in rows


def test_a_redelivered_event_is_not_posted_twice(runtime: LocalRuntime) -> None:
    # Given one failed Glue run event, delivered twice (the same EventBridge id)
    topic = runtime.outputs["MonitorTopicArn"]
    events = runtime.client("events")
    events.put_events(Entries=[failed_glue_event()])
    runtime.settle()
    delivered = [r.event for r in runtime.activity.routed if r.via.endswith("GlueJobStateRule")]
    runtime.client("sns").publish(TopicArn=topic, Message=json.dumps(delivered[0]))
    runtime.settle()
    # Then pipeline_monitor ran twice but Slack got one post
    assert len(monitor_invocations(runtime)) == 2
    assert len(runtime.slack_bridge.sink.bodies()) == 1


def test_slack_rate_limiting_is_retried_after_the_time_slack_asks(runtime: LocalRuntime) -> None:
    # Given Slack answers 429 with Retry-After once
    runtime.slack_bridge.sink.script(SinkAnswer.rate_limited(retry_after=1))
    # When a failure event arrives
    runtime.client("events").put_events(Entries=[failed_glue_event()])
    runtime.settle()
    # Then the post was retried and delivered, in one invocation
    received = runtime.slack_bridge.sink.received
    assert [post.answered for post in received] == [429, 200]
    assert len(monitor_invocations(runtime)) == 1


def test_a_slack_outage_keeps_the_record_and_dead_letters_the_event(
    runtime: LocalRuntime,
) -> None:
    # Given Slack is down for every attempt of every retry
    runtime.slack_bridge.sink.script(*[SinkAnswer.server_error()] * 100)
    # When a failure event arrives
    runtime.client("events").put_events(Entries=[failed_glue_event("jr_outage")])
    runtime.settle()
    # Then the record is stored, the event is in the monitor DLQ after Lambda's retries
    _, rows = athena_rows(runtime, "SELECT run_id FROM monitoring_events")
    assert ["jr_outage"] in rows
    assert queue_depth(runtime, "PipelineMonitorDLQUrl") == 1
    assert len(monitor_invocations(runtime)) == 3  # the first try and Lambda's two retries
    # And the webhook URL never appears in any log line
    url = runtime.slack_bridge.sink.url
    assert all(url not in invocation.logs for invocation in runtime.invocations)
    assert all("/services/" not in invocation.logs for invocation in monitor_invocations(runtime))


def test_a_failed_async_invocation_is_kept_whole_for_replay(runtime: LocalRuntime) -> None:
    # Given Slack is down, so redshift_audit fails every attempt on a sensitive statement
    runtime.slack_bridge.sink.script(*[SinkAnswer.server_error()] * 200)
    event = json.loads(REDSHIFT_EVENT.read_text())
    # When the log subscription delivers a batch (asynchronously, as CloudWatch Logs does)
    runtime.lambda_bridge.submit("RedshiftAuditFunction", event, trigger="log subscription")
    runtime.settle()
    # Then after Lambda's retries the destination record, original event included, waits in
    # the failed invocations queue (and went to pipeline_monitor through the monitor topic)
    url = runtime.outputs["FailedInvocationsQueueUrl"]
    messages = runtime.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    [record] = [json.loads(m["Body"]) for m in messages]
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestPayload"] == event
    _, rows = athena_rows(runtime, "SELECT service FROM monitoring_events")
    assert ["lambda"] in rows
