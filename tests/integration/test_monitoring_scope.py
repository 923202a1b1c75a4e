"""Monitoring scope by configuration: the Monitored* parameters widen the monitoring rules to
resources the stack does not own (matched as EventBridge matches wildcard patterns), and any
function's OnFailure destination can be the monitor topic. Default parameters watch only the
stack's own resources, as before.

Events are the corpus's (events/pipeline_monitor/), renamed to resources of another team, and
put on the default bus as the services put them."""

import json
from collections.abc import Iterator
from typing import Any, Final

import pytest

from dev.demo.support import athena_rows
from dev.paths import ROOT
from dev.runtime import project_runtime
from local_runtime import LocalRuntime

pytestmark = pytest.mark.dynamodb_incidental

EVENTS: Final = ROOT / "events" / "pipeline_monitor"
ACCOUNT: Final = "123456789012"
REGION: Final = "us-east-1"
SCOPE: Final = {
    "MonitoredGlueJobs": "etl-*,billing-daily",
    "MonitoredGlueCrawlers": "raw-*",
    "MonitoredStateMachines": "etl-*",
    "MonitoredAlarms": "etl/*",
}


def corpus_event(name: str) -> dict[str, Any]:
    """The event inside an SNS record of the corpus (what a rule delivered to the topic)."""
    record = json.loads((EVENTS / f"{name}.json").read_text())
    message: dict[str, Any] = json.loads(record["Records"][0]["Sns"]["Message"])
    return message


def entry(name: str, resources: list[str] | None = None, /, **detail: Any) -> dict[str, Any]:
    """A PutEvents entry from a corpus event, with detail fields (and resources) replaced."""
    event = corpus_event(name)
    return {
        "Source": event["source"],
        "DetailType": event["detail-type"],
        "Resources": event["resources"] if resources is None else resources,
        "Detail": json.dumps({**event["detail"], **detail}),
    }


def glue_job_failed(job: str) -> dict[str, Any]:
    return entry("glue_job_failed", jobName=job, jobRunId=f"jr_{job}")


def put_and_settle(runtime: LocalRuntime, *entries: dict[str, Any]) -> None:
    answer = runtime.client("events").put_events(Entries=list(entries))
    assert answer["FailedEntryCount"] == 0
    runtime.settle()


def stored(runtime: LocalRuntime) -> list[list[str]]:
    """(service, resource, state) of every stored monitoring record."""
    _, rows = athena_rows(runtime, "SELECT service, resource, state FROM monitoring_events")
    return [list(row) for row in rows]


def slack_headers(runtime: LocalRuntime) -> list[str]:
    return [post["blocks"][0]["text"]["text"] for post in runtime.slack_bridge.sink.bodies()]


@pytest.fixture
def scoped() -> Iterator[LocalRuntime]:
    """The stack deployed with every Monitored* parameter set."""
    with project_runtime(parameters=SCOPE) as runtime:
        yield runtime


def test_an_external_glue_job_matched_by_a_pattern_is_stored_and_alerted(
    scoped: LocalRuntime,
) -> None:
    # Given MonitoredGlueJobs "etl-*,billing-daily"
    # When another team's job "etl-orders" fails
    put_and_settle(scoped, glue_job_failed("etl-orders"))
    # Then the failure is stored for Athena and posted to Slack
    assert ["glue-job", "etl-orders", "FAILED"] in stored(scoped)
    assert slack_headers(scoped) == [":rotating_light: Glue job FAILED: etl-orders"]


def test_an_exact_name_in_the_scope_matches_only_that_job(scoped: LocalRuntime) -> None:
    # Given "billing-daily" listed without a wildcard
    # When it fails, and so does "billing-daily-backfill"
    put_and_settle(
        scoped, glue_job_failed("billing-daily"), glue_job_failed("billing-daily-backfill")
    )
    # Then only the named job is alerted
    assert slack_headers(scoped) == [":rotating_light: Glue job FAILED: billing-daily"]


def test_a_glue_job_outside_the_patterns_is_not_watched(scoped: LocalRuntime) -> None:
    # Given the scope "etl-*,billing-daily"
    # When job "orders-etl" (the pattern's words in another order) fails
    put_and_settle(scoped, glue_job_failed("orders-etl"))
    # Then no rule routes it: nothing stored, nothing posted
    assert not any(r.via.endswith("GlueJobStateRule") for r in scoped.activity.routed)
    assert stored(scoped) == []
    assert slack_headers(scoped) == []


def test_external_crawlers_state_machines_and_alarms_matched_are_alerted(
    scoped: LocalRuntime,
) -> None:
    # Given the scope "raw-*" crawlers, "etl-*" state machines and "etl/*" alarms
    machine = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:etl-orders-load"
    execution = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:etl-orders-load:run-1"
    alarm = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:etl/orders-lag"
    # When one of each fails
    put_and_settle(
        scoped,
        entry("glue_crawler_failed", crawlerName="raw-sales"),
        entry(
            "stepfunctions_execution_failed",
            [execution],
            stateMachineArn=machine,
            executionArn=execution,
            name="run-1",
        ),
        entry("cloudwatch_alarm", [alarm], alarmName="etl/orders-lag"),
    )
    # Then each is stored and posted
    assert sorted(slack_headers(scoped)) == [
        ":rotating_light: CloudWatch alarm ALARM: etl/orders-lag",
        ":rotating_light: Glue crawler FAILED: raw-sales",
        ":rotating_light: Step Functions execution FAILED: etl-orders-load",
    ]


def test_crawlers_state_machines_and_alarms_outside_the_patterns_are_not_watched(
    scoped: LocalRuntime,
) -> None:
    # Given the same scope
    machine = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:billing-load"
    execution = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:billing-load:run-1"
    alarm = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:billing/lag"
    # When a crawler, a state machine and an alarm outside it fail
    put_and_settle(
        scoped,
        entry("glue_crawler_failed", crawlerName="curated-sales"),
        entry(
            "stepfunctions_execution_failed",
            [execution],
            stateMachineArn=machine,
            executionArn=execution,
        ),
        entry("cloudwatch_alarm", [alarm], alarmName="billing/lag"),
    )
    # Then nothing reaches the monitor
    assert stored(scoped) == []
    assert slack_headers(scoped) == []


def test_an_external_functions_failure_record_is_alerted_and_kept(scoped: LocalRuntime) -> None:
    # Given another team's function "orders-export" whose OnFailure destination is the monitor
    # topic: Lambda publishes its destination record there after the retries
    record = json.loads(
        json.loads((EVENTS / "lambda_destination_failure.json").read_text())["Records"][0]["Sns"][
            "Message"
        ]
    )
    record["requestContext"]["functionArn"] = (
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders-export:$LATEST"
    )
    topic = scoped.outputs["MonitorTopicArn"]
    # When the record arrives
    scoped.client("sns").publish(TopicArn=topic, Message=json.dumps(record))
    scoped.settle()
    # Then it is stored and posted under the function's name
    assert ["lambda", "orders-export", "RetriesExhausted"] in stored(scoped)
    assert slack_headers(scoped) == [
        ":rotating_light: Lambda function RetriesExhausted: orders-export"
    ]
    # And the whole record, original event included, waits in the failed invocations queue
    url = scoped.outputs["FailedInvocationsQueueUrl"]
    [message] = scoped.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert json.loads(message["Body"]) == record


def test_default_parameters_watch_only_the_stacks_own_resources(runtime: LocalRuntime) -> None:
    # Given the stack deployed with default parameters
    own_job = f"{runtime.stack.name}-cdc-merge"
    # When the stack's job and another team's job fail
    put_and_settle(runtime, glue_job_failed(own_job), glue_job_failed("etl-orders"))
    # Then only the stack's job is stored and alerted
    assert [row[1] for row in stored(runtime)] == [own_job]
    assert slack_headers(runtime) == [f":rotating_light: Glue job FAILED: {own_job}"]


def test_the_stack_outputs_how_to_route_a_function_here(scoped: LocalRuntime) -> None:
    # Given the deployed stack
    outputs = scoped.outputs
    # When a team reads its outputs
    policy_arn = outputs["MonitorPublishPolicyArn"]
    # Then the managed policy to attach lets its role publish to the monitor topic
    iam = scoped.client("iam")
    version = iam.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=policy_arn, VersionId=version)["PolicyVersion"]
    statements = document["Document"]["Statement"]
    publish = next(s for s in statements if s["Action"] == "sns:Publish")
    assert publish["Resource"] == outputs["MonitorTopicArn"]
