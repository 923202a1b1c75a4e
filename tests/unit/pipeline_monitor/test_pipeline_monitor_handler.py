"""The handler end to end: SNS event in, S3 record + Slack POST (a real local HTTP server) out,
with the production poster (secret through Powertools, idempotency on a moto table)."""

import copy
import json
from typing import Any

import pytest
from alert_fakes import WEBHOOK_SECRET, AlertAws, Sleeps
from eventbridge_fake import FakeEventsClient
from hypothesis import given
from lambda_support import CapturedLogs, FakeLambdaContext, MetricsReader
from pipeline_monitor_fakes import (
    BUCKET,
    app,
    eventbridge_message,
    load_event,
    monitor_with,
    slack_poster,
    sns_event_of,
)
from s3_key_strategies import ids, prefixes

from datalake_shared.settings import folder_prefix
from datalake_shared.slack import RetryPolicy
from local_runtime.slack_sink import SinkAnswer, SlackSink
from pipeline_monitor.records import MonitorRecord, Service, Severity, safe_event_id
from pipeline_monitor.store import record_key

FAILURE_SAMPLES = [
    "glue_job_failed.json",
    "glue_job_timeout.json",
    "glue_crawler_failed.json",
    "stepfunctions_execution_failed.json",
    "cloudwatch_alarm.json",
    "cloudwatch_alarm_notification.json",
    "lambda_destination_failure.json",
]
QUIET_SAMPLES = [
    "glue_job_succeeded.json",
    "stepfunctions_execution_succeeded.json",
    "unknown_event.json",
]


def invoke(monitor: Any, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    response: dict[str, Any] = app.lambda_handler(
        copy.deepcopy(event), context or FakeLambdaContext(), monitor=monitor
    )
    return response


class DownStore:
    def put(self, record: MonitorRecord) -> str:
        raise ConnectionError("S3 unreachable")


@pytest.mark.parametrize("name", FAILURE_SAMPLES)
def test_failure_is_stored_and_posted_once_as_block_kit(
    name: str, aws: AlertAws, sink: SlackSink, events: FakeEventsClient, sleeps: Sleeps
) -> None:
    # Given a failure event delivered by SNS
    monitor = monitor_with(aws, slack_poster(aws, sleeps), events)
    # When the handler runs
    response = invoke(monitor, load_event(name))
    # Then one record is stored and one Block Kit message reached Slack
    assert len(aws.stored_records()) == 1
    [payload] = sink.bodies()
    assert [block["type"] for block in payload["blocks"]][:2] == ["header", "section"]
    assert payload["text"].startswith("ERROR: ")
    assert response["alerts"] == {"posted": 1}


@pytest.mark.parametrize("name", QUIET_SAMPLES)
def test_success_and_unknown_events_are_stored_without_posting(
    name: str, aws: AlertAws, sink: SlackSink, events: FakeEventsClient, sleeps: Sleeps
) -> None:
    # Given an event below the alert severity (ALERT_ON=error)
    monitor = monitor_with(aws, slack_poster(aws, sleeps), events)
    # When handled
    invoke(monitor, load_event(name))
    # Then it is stored, nothing is posted and the secret is never read
    assert len(aws.stored_records()) == 1
    assert sink.received == []


def test_slack_message_carries_the_normalized_facts(
    aws: AlertAws, sink: SlackSink, events: FakeEventsClient, sleeps: Sleeps
) -> None:
    # Given the failed Glue job sample
    monitor = monitor_with(aws, slack_poster(aws, sleeps), events)
    # When handled
    invoke(monitor, load_event("glue_job_failed.json"))
    # Then the message names the job, run, state and error, and links to the run in the console
    [payload] = sink.bodies()
    header, facts, error, actions, context = payload["blocks"]
    assert header["text"]["text"] == (
        ":rotating_light: Glue job FAILED: datalake-events-dev-cdc-merge"
    )
    assert {field["text"].split("\n")[0] for field in facts["fields"]} == {
        "*Service*",
        "*Resource*",
        "*State*",
        "*Run id*",
        "*Time (UTC)*",
        "*Account / region*",
    }
    assert "*Run id*\njr_4f2d6c8a" in json.dumps(facts["fields"]).replace("\\n", "\n")
    assert error["text"]["text"].startswith("*Error*\n```An error occurred while calling o118.sql")
    assert actions["elements"][0]["url"].startswith(
        "https://us-east-1.console.aws.amazon.com/gluestudio/home?region=us-east-1#/job/"
    )
    assert "6d9f4a2c-1b7e-4c3a-8f5d-2e9b0a7c4d18" in context["elements"][0]["text"]


def test_record_is_stored_under_its_date_and_event_id(
    aws: AlertAws, events: FakeEventsClient, sleeps: Sleeps
) -> None:
    # Given the failed Step Functions execution sample
    monitor = monitor_with(aws, slack_poster(aws, sleeps), events)
    # When handled
    invoke(monitor, load_event("stepfunctions_execution_failed.json"))
    # Then the record sits in its dt= partition under the EventBridge event id
    assert aws.stored_keys() == [
        "monitoring-events/dt=2026-11-20/315c1398-40ff-a850-213b-158f73e60175.json"
    ]
    [record] = aws.stored_records()
    assert record["service"] == "stepfunctions"
    assert record["run_id"] == "hourly-20261120T1000Z"
    assert record["error_message"].startswith("Glue.AWSGlueException: ")


def test_redelivered_event_is_posted_once_and_stored_once(
    aws: AlertAws, sink: SlackSink, events: FakeEventsClient, sleeps: Sleeps
) -> None:
    # Given a failure already handled
    monitor = monitor_with(aws, slack_poster(aws, sleeps), events)
    event = load_event("glue_job_failed.json")
    invoke(monitor, event)
    # When SNS delivers the same message again (a new process too: a fresh poster, same table)
    again = monitor_with(aws, slack_poster(aws, Sleeps()), events)
    response = invoke(again, event)
    # Then Slack got exactly one POST, the S3 object was rewritten in place
    assert len(sink.received) == 1
    assert len(aws.stored_keys()) == 1
    assert response["alerts"] == {"duplicate": 1}


def test_same_event_through_two_sns_messages_is_posted_once(
    aws: AlertAws, sink: SlackSink, events: FakeEventsClient, sleeps: Sleeps
) -> None:
    # Given EventBridge delivering one event twice (at-least-once): two SNS messages, one event id
    message = load_event("glue_job_failed.json")["Records"][0]["Sns"]["Message"]
    monitor = monitor_with(aws, slack_poster(aws, sleeps), events)
    # When both are handled
    invoke(monitor, sns_event_of(message, "first"))
    invoke(monitor, sns_event_of(message, "second"))
    # Then one POST
    assert len(sink.received) == 1


def test_rate_limited_post_waits_retry_after_then_succeeds(
    aws: AlertAws, sink: SlackSink, events: FakeEventsClient, sleeps: Sleeps
) -> None:
    # Given Slack answering 429 with Retry-After: 7 once
    sink.script(SinkAnswer.rate_limited(retry_after=7))
    monitor = monitor_with(aws, slack_poster(aws, sleeps), events)
    # When a failure is handled
    response = invoke(monitor, load_event("glue_job_failed.json"))
    # Then the client waited exactly the 7 s Slack asked for, and the second POST got through
    assert sleeps.waits == [7.0]
    assert [post.answered for post in sink.received] == [429, 200]
    assert response["alerts"] == {"posted": 1}


def test_server_error_is_retried_with_backoff(
    aws: AlertAws, sink: SlackSink, events: FakeEventsClient, sleeps: Sleeps
) -> None:
    # Given Slack failing twice with 500 and 503
    sink.script(SinkAnswer.server_error(500), SinkAnswer.server_error(503))
    monitor = monitor_with(aws, slack_poster(aws, sleeps), events)
    # When a failure is handled
    invoke(monitor, load_event("cloudwatch_alarm.json"))
    # Then it backed off 0.5 s then 1 s (jitter pinned to its ceiling) and the third POST landed
    assert sleeps.waits == [0.5, 1.0]
    assert [post.answered for post in sink.received] == [500, 503, 200]


def test_slack_outage_keeps_the_record_raises_and_counts(
    aws: AlertAws,
    sink: SlackSink,
    events: FakeEventsClient,
    sleeps: Sleeps,
    emitted_metrics: MetricsReader,
) -> None:
    # Given Slack answering 500 to every attempt (3 allowed)
    sink.script(*[SinkAnswer.server_error()] * 3)
    monitor = monitor_with(aws, slack_poster(aws, sleeps), events)
    # When a failure is handled
    with pytest.raises(app.MonitorFailedError, match="1 alert"):
        invoke(monitor, load_event("glue_job_failed.json"))
    # Then the record is stored, the failure counted, and no idempotency record is left behind
    assert len(aws.stored_records()) == 1
    assert emitted_metrics.totals()["SlackPostFailed"] == 1
    assert aws.idempotency_items() == []


def test_retry_after_an_outage_posts_the_alert(
    aws: AlertAws, sink: SlackSink, events: FakeEventsClient, sleeps: Sleeps
) -> None:
    # Given an invocation that failed because Slack was down
    sink.script(*[SinkAnswer.server_error()] * 3)
    monitor = monitor_with(aws, slack_poster(aws, sleeps), events)
    event = load_event("glue_job_failed.json")
    with pytest.raises(app.MonitorFailedError):
        invoke(monitor, event)
    # When Lambda retries the invocation and Slack is back
    invoke(monitor, event)
    # Then the alert is delivered exactly once
    assert len(sink.delivered()) == 1


def test_webhook_url_never_appears_in_logs_or_errors(
    aws: AlertAws,
    sink: SlackSink,
    sleeps: Sleeps,
    logs: CapturedLogs,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given Slack rate limiting then failing, so every retry and failure path logs
    sink.script(SinkAnswer.rate_limited(1), *[SinkAnswer.server_error()] * 2)
    monitor = monitor_with(aws, slack_poster(aws, sleeps), FakeEventsClient())
    # When a failure is handled (and fails)
    with pytest.raises(app.MonitorFailedError) as raised:
        invoke(monitor, load_event("glue_job_failed.json"))
    # Then the logs say what happened, by host, and nowhere is the URL or its path
    printed = json.dumps(logs.records()) + capsys.readouterr().out + str(raised.value)
    assert "Slack webhook did not accept the message; retrying" in printed
    assert "127.0.0.1" in printed
    assert sink.url not in printed
    assert "/services/" not in printed


def test_unknown_event_is_logged_and_counted(
    aws: AlertAws,
    events: FakeEventsClient,
    sleeps: Sleeps,
    logs: CapturedLogs,
    emitted_metrics: MetricsReader,
) -> None:
    # Given an EventBridge event the monitor has no normalizer for
    monitor = monitor_with(aws, slack_poster(aws, sleeps), events)
    # When handled
    invoke(monitor, load_event("unknown_event.json"))
    # Then it is stored as "unknown", logged as a warning and counted
    [record] = aws.stored_records()
    assert (record["service"], record["severity"]) == ("unknown", "warning")
    warnings = [r for r in logs.records() if r["level"] == "WARNING"]
    assert [w["message"] for w in warnings] == ["Unrecognised event stored as 'unknown'"]
    # (the monitored service has its own key: Powertools' "service" names this function)
    assert warnings[0]["monitored_service"] == "unknown"
    assert warnings[0]["service"] != "unknown"
    assert emitted_metrics.totals()["UnknownEvents"] == 1


def test_alert_on_warning_posts_unknown_events_too(
    aws: AlertAws, sink: SlackSink, events: FakeEventsClient, sleeps: Sleeps
) -> None:
    # Given ALERT_ON=error,warning
    monitor = monitor_with(
        aws, slack_poster(aws, sleeps), events, alert_on=(Severity.ERROR, Severity.WARNING)
    )
    # When an unknown event is handled
    invoke(monitor, load_event("unknown_event.json"))
    # Then it is posted with the warning emoji
    [payload] = sink.bodies()
    assert payload["blocks"][0]["text"]["text"].startswith(":warning: Unrecognised event")


def test_not_json_message_is_stored_not_dropped(
    aws: AlertAws, events: FakeEventsClient, sleeps: Sleeps
) -> None:
    # Given an SNS message someone published by hand
    monitor = monitor_with(aws, slack_poster(aws, sleeps), events)
    # When handled
    invoke(monitor, sns_event_of("deploy finished, all good", "hand-1"))
    # Then an unknown record keyed by the SNS message id keeps the text
    [record] = aws.stored_records()
    assert record["event_id"] == "sns-hand-1"
    assert "deploy finished, all good" in record["error_message"]


def test_store_outage_raises_and_posts_nothing(
    aws: AlertAws, sink: SlackSink, events: FakeEventsClient, sleeps: Sleeps
) -> None:
    # Given S3 unreachable
    monitor = monitor_with(aws, slack_poster(aws, sleeps), events, store=DownStore())
    # When a failure is handled
    with pytest.raises(app.MonitorFailedError, match="1 event"):
        invoke(monitor, load_event("glue_job_failed.json"))
    # Then nothing reached Slack: the record comes first
    assert sink.received == []


def test_failure_of_the_monitor_itself_is_stored_but_not_posted(
    aws: AlertAws, sink: SlackSink, events: FakeEventsClient, sleeps: Sleeps
) -> None:
    # Given a destination record of the function that is handling it
    event = load_event("lambda_destination_failure.json")
    own = "datalake-events-dev-ConfigLoaderFunction-Xy7Pq2Rs9TuV"
    monitor = monitor_with(aws, slack_poster(aws, sleeps), events)
    # When handled by that function
    response = invoke(monitor, event, FakeLambdaContext(function_name=own))
    # Then it is stored and suppressed (no alert loop)
    assert response["alerts"] == {"suppressed": 1}
    assert len(aws.stored_records()) == 1
    assert sink.received == []


def test_every_recorded_event_is_announced_on_eventbridge(
    aws: AlertAws, events: FakeEventsClient, sleeps: Sleeps
) -> None:
    # Given a success event
    monitor = monitor_with(aws, slack_poster(aws, sleeps), events)
    # When handled
    invoke(monitor, load_event("glue_job_succeeded.json"))
    # Then "Pipeline Event Recorded" carries the record, where it is and the alert outcome
    [entry] = events.entries
    assert (entry["Source"], entry["DetailType"]) == (
        "datalake-events.pipeline-monitor",
        "Pipeline Event Recorded",
    )
    detail = json.loads(entry["Detail"])
    assert (detail["service"], detail["state"], detail["alert"]) == (
        "glue-job",
        "SUCCEEDED",
        "not_needed",
    )
    assert detail["bucket"] == BUCKET


def test_eventbridge_outage_does_not_fail_the_event(
    aws: AlertAws, sink: SlackSink, sleeps: Sleeps, emitted_metrics: MetricsReader
) -> None:
    # Given EventBridge unavailable
    events = FakeEventsClient(fail_all=True)
    monitor = monitor_with(aws, slack_poster(aws, sleeps), events)
    # When a failure is handled
    response = invoke(monitor, load_event("glue_job_failed.json"))
    # Then the record and the alert are done, and the missed announcement is counted
    assert response["alerts"] == {"posted": 1}
    assert len(sink.delivered()) == 1
    assert emitted_metrics.totals()["EventPublishFailed"] == 1


def test_eventbridge_event_sent_straight_to_the_function_is_handled(
    aws: AlertAws, sink: SlackSink, events: FakeEventsClient, sleeps: Sleeps
) -> None:
    # Given a rule targeting the function directly (no SNS envelope)
    event = json.loads(load_event("glue_crawler_failed.json")["Records"][0]["Sns"]["Message"])
    monitor = monitor_with(aws, slack_poster(aws, sleeps), events)
    # When handled
    invoke(monitor, event)
    # Then it is read as the crawler failure it is
    [record] = aws.stored_records()
    assert (record["service"], record["state"]) == ("glue-crawler", "FAILED")
    assert len(sink.delivered()) == 1


def test_non_retryable_slack_answer_fails_without_retrying(
    aws: AlertAws, sink: SlackSink, events: FakeEventsClient, sleeps: Sleeps
) -> None:
    # Given a revoked webhook (404 no_service)
    sink.script(SinkAnswer(404, "no_service"))
    monitor = monitor_with(aws, slack_poster(aws, sleeps), events)
    # When a failure is handled
    with pytest.raises(app.MonitorFailedError):
        invoke(monitor, load_event("glue_job_failed.json"))
    # Then one POST only: repeating it cannot help
    assert len(sink.received) == 1
    assert sleeps.waits == []


def test_long_retry_after_ends_the_retries_for_the_async_retry(
    aws: AlertAws, sink: SlackSink, events: FakeEventsClient, sleeps: Sleeps
) -> None:
    # Given Slack asking to wait 120 s, longer than the retry policy honours (30 s)
    sink.script(SinkAnswer.rate_limited(retry_after=120))
    monitor = monitor_with(
        aws, slack_poster(aws, sleeps, policy=RetryPolicy(max_retry_after_s=30)), events
    )
    # When a failure is handled
    with pytest.raises(app.MonitorFailedError):
        invoke(monitor, load_event("glue_job_failed.json"))
    # Then it did not sleep less than asked: it gave up, for Lambda's retry to try later
    assert sleeps.waits == []
    assert len(sink.received) == 1


def test_unset_webhook_stores_and_counts_without_retrying(
    aws: AlertAws,
    sink: SlackSink,
    events: FakeEventsClient,
    sleeps: Sleeps,
    emitted_metrics: MetricsReader,
) -> None:
    # Given the secret as the stack creates it, before anyone sets the URL
    aws.secrets.put_secret_value(SecretId=WEBHOOK_SECRET, SecretString='{"webhook_url": ""}')
    monitor = monitor_with(aws, slack_poster(aws, sleeps), events)
    # When a failure is handled
    response = invoke(monitor, load_event("glue_job_failed.json"))
    # Then it is stored and counted, and the invocation succeeds (no retry, no DLQ)
    assert response["alerts"] == {"not_configured": 1}
    assert len(aws.stored_records()) == 1
    assert emitted_metrics.totals()["SlackNotConfigured"] == 1
    assert sink.received == []


def test_announcement_too_large_for_eventbridge_fails_the_invocation_after_the_alert(
    aws: AlertAws,
    sink: SlackSink,
    sleeps: Sleeps,
    logs: CapturedLogs,
    emitted_metrics: MetricsReader,
) -> None:
    # Given a Glue failure whose job name (135,000 characters, twice in the record with its
    # console link) makes "Pipeline Event Recorded" larger than EventBridge takes
    message = eventbridge_message("glue_job_failed.json")
    message["detail"]["jobName"] = "j" * 135_000
    events = FakeEventsClient()
    monitor = monitor_with(aws, slack_poster(aws, sleeps), events)
    # When handled / Then the invocation fails, so that Lambda retries it and OnFailure keeps it
    with pytest.raises(app.MonitorFailedError, match="1 announcement"):
        invoke(monitor, sns_event_of(message))
    # ...after the record was stored and the alert posted, with nothing sent to EventBridge
    assert (len(aws.stored_keys()), len(sink.delivered()), events.entries) == (1, 1, [])
    errors = [r["message"] for r in logs.records() if r["level"] == "ERROR"]
    assert any("too large for EventBridge" in error for error in errors)
    assert emitted_metrics.totals()["EventsTooLarge"] == 1


@given(prefixes, ids)
def test_record_keys_fit_s3_for_any_prefix_settings_accept(prefix: str, raw_id: str) -> None:
    # Given any prefix the settings accept and any event id
    try:
        folder = folder_prefix(prefix)
    except ValueError:
        return  # refused at start-up: no key is ever made under it
    record = MonitorRecord(
        event_id=safe_event_id(raw_id),
        service=Service.GLUE_JOB,
        resource="job",
        run_id=None,
        state="FAILED",
        severity=Severity.ERROR,
        error_message=None,
        event_time="2026-11-20T10:15:30Z",
        console_url=None,
        account=None,
        region=None,
        detail_type="Glue Job State Change",
        source="aws.glue",
    )
    # When its key is made / Then S3 takes it
    assert len(record_key(folder, record).encode()) <= 1024
