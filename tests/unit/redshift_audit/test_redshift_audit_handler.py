"""The handler end to end: subscription payload in, audit lines in S3 and one Block Kit message
per batch on a real local HTTP server out, with idempotency on a moto table."""

import copy
import json
from typing import Any

import pytest
from alert_fakes import WEBHOOK_SECRET, AlertAws, Sleeps
from eventbridge_fake import FakeEventsClient
from hypothesis import given
from lambda_support import CapturedLogs, FakeLambdaContext, MetricsReader
from redshift_audit_fakes import BUCKET, app, auditor_with, load_event
from redshift_audit_payloads import (
    CLUSTER,
    activity_line,
    awslogs_event,
    data_message,
    decoded,
    event_with,
)
from s3_key_strategies import ids, prefixes

from datalake_shared.settings import folder_prefix
from local_runtime.slack_sink import SinkAnswer, SlackSink
from redshift_audit.alerts import MAX_LISTED_STATEMENTS
from redshift_audit.models import InvalidPayloadError
from redshift_audit.service import AuditRecord
from redshift_audit.store import audit_key

MIGRATION = [f"drop table sales.t{number:02d};" for number in range(30)]


def invoke(
    auditor: Any, event: dict[str, Any], context: FakeLambdaContext | None = None
) -> dict[str, Any]:
    response: dict[str, Any] = app.lambda_handler(
        copy.deepcopy(event), context or FakeLambdaContext(), auditor=auditor
    )
    return response


def statement_texts(body: dict[str, Any]) -> list[str]:
    """The listed statements' section texts (numbered "*1. ...")."""
    return [
        block["text"]["text"]
        for block in body["blocks"]
        if block["type"] == "section"
        and block.get("text", {}).get("text", "")[:1] == "*"
        and block["text"]["text"][1:2].isdigit()
    ]


class DownStore:
    def put(self, log_event_id: str, date: str, records: list[AuditRecord]) -> str:
        raise ConnectionError("S3 unreachable")


class FailsOnceStore:
    """The real store, except that the first put of ``log_event_id`` fails."""

    def __init__(self, store: Any, log_event_id: str) -> None:
        self.store = store
        self.failing = {log_event_id}

    def put(self, log_event_id: str, date: str, records: list[AuditRecord]) -> str:
        if log_event_id in self.failing:
            self.failing.discard(log_event_id)
            raise ConnectionError("S3 unreachable")
        key: str = self.store.put(log_event_id, date, records)
        return key


def test_sample_posts_one_message_for_the_batch(
    aws: AlertAws, sink: SlackSink, sleeps: Sleeps
) -> None:
    # Given the sample: ALTER TABLE, CREATE USER, a SELECT of a 'GRANT' literal, a DROP + GRANT
    # line, and an rdsdb statement
    # When the handler runs
    response = invoke(auditor_with(aws, sleeps), load_event("user_activity_ddl.json"))
    # Then one message went out, counting the four statements and listing them in log order
    [body] = sink.bodies()
    assert body["blocks"][0]["text"]["text"] == (
        f":closed_lock_with_key: 4 sensitive statements on {CLUSTER}"
    )
    listed = [text.split("*")[1] for text in statement_texts(body)]
    assert listed == ["1. ALTER TABLE", "2. CREATE USER", "3. DROP TABLE", "4. GRANT"]
    assert "more" not in json.dumps(body)
    assert (response["sensitive_statements"], response["alerts_posted"]) == (4, 1)


def test_audit_records_are_stored_per_log_event_with_each_statement(
    aws: AlertAws, sleeps: Sleeps
) -> None:
    # Given the sample / When handled
    invoke(auditor_with(aws, sleeps), load_event("user_activity_ddl.json"))
    # Then one object per log event with sensitive SQL, one line per statement
    stored = aws.stored()
    assert len(stored) == 3
    assert all(key.startswith("redshift-audit/dt=2026-11-20/") for key in stored)
    lines = sorted(
        (r["statement_type"], r["user"], r["category"], r["object_name"])
        for records in stored.values()
        for r in records
    )
    assert lines == [
        ("ALTER TABLE", "awsuser", "DDL", "my_table"),
        ("CREATE USER", "awsuser", "DCL", "rs_user"),
        ("DROP TABLE", "etl_admin", "DDL", "dev.public.demo_test_table_1"),
        ("GRANT", "etl_admin", "DCL", "sales.orders"),
    ]


def test_message_shows_who_where_and_the_sql(
    aws: AlertAws, sink: SlackSink, sleeps: Sleeps
) -> None:
    # Given one DROP by alice
    event = event_with("drop table sales.orders;", user="alice", db="prod")
    # When handled
    invoke(auditor_with(aws, sleeps), event)
    # Then the summary fields, the listed statement and its SQL code block say it
    [body] = sink.bodies()
    header, facts, statement, context = body["blocks"]
    assert header["text"]["text"] == f":warning: 1 sensitive statement on {CLUSTER}"
    texts = [field["text"] for field in facts["fields"]]
    assert "*Users*\nalice" in texts
    assert "*Databases*\nprod" in texts
    assert "*Categories*\nDDL 1" in texts
    assert statement["text"]["text"] == (
        "*1. DROP TABLE* on sales.orders · DDL\n"
        "user alice · db prod · 2026-11-20T10:15:30Z\n"
        "```drop table sales.orders```"
    )
    assert (
        "/aws/redshift/cluster/demo-cluster-ou1/useractivitylog" in context["elements"][0]["text"]
    )


def test_redelivered_payload_posts_nothing_new(
    aws: AlertAws, sink: SlackSink, sleeps: Sleeps
) -> None:
    # Given the sample already handled
    event = load_event("user_activity_ddl.json")
    invoke(auditor_with(aws, sleeps), event)
    # When CloudWatch Logs' invocation is retried (a fresh process: new auditor, same table)
    response = invoke(auditor_with(aws, Sleeps()), event)
    # Then still one POST and three objects
    assert len(sink.received) == 1
    assert len(aws.stored()) == 3
    assert response["alert"] == "duplicate"


def test_migration_burst_is_one_message_listing_the_first_statements(
    aws: AlertAws, sink: SlackSink, sleeps: Sleeps
) -> None:
    # Given a migration: 30 DROPs, one log event each, in one subscription batch
    # When handled
    response = invoke(auditor_with(aws, sleeps), event_with(*MIGRATION))
    # Then exactly one POST: the count, the first N statements in order, and "and K more"
    assert len(sink.received) == 1
    [body] = sink.bodies()
    assert body["blocks"][0]["text"]["text"] == f":warning: 30 sensitive statements on {CLUSTER}"
    listed = statement_texts(body)
    assert len(listed) == MAX_LISTED_STATEMENTS
    assert [text.split("\n")[0] for text in listed] == [
        f"*{n + 1}. DROP TABLE* on sales.t{n:02d} · DDL" for n in range(MAX_LISTED_STATEMENTS)
    ]
    more = 30 - MAX_LISTED_STATEMENTS
    assert f"…and {more} more — see the `redshift_audit` table in Athena" in json.dumps(
        body, ensure_ascii=False
    )
    # And every statement is in the audit table, one object per log event
    assert len(aws.stored()) == 30
    assert (response["sensitive_statements"], response["alerts_posted"]) == (30, 1)


def test_redelivered_migration_burst_posts_no_second_message(
    aws: AlertAws, sink: SlackSink, sleeps: Sleeps
) -> None:
    # Given the 30-DROP batch already posted
    event = event_with(*MIGRATION)
    invoke(auditor_with(aws, sleeps), event)
    # When Lambda delivers the same batch again, its log events in another order
    payload = decoded(event)
    payload["logEvents"].reverse()
    invoke(auditor_with(aws, Sleeps()), awslogs_event(payload))
    # Then there is no second POST
    assert len(sink.received) == 1


def test_another_batch_posts_its_own_message(
    aws: AlertAws, sink: SlackSink, sleeps: Sleeps
) -> None:
    # Given a batch already posted / When a batch with other log events arrives
    invoke(auditor_with(aws, sleeps), event_with("drop table a;"))
    payload = data_message(activity_line("drop table b;"))
    payload["logEvents"][0]["id"] = "37894412567021963355402107339610498123745962301254516999"
    invoke(auditor_with(aws, sleeps), awslogs_event(payload))
    # Then it has its own message
    assert len(sink.delivered()) == 2


def test_too_little_time_left_stores_records_and_raises_without_posting(
    aws: AlertAws, sink: SlackSink, sleeps: Sleeps, emitted_metrics: MetricsReader
) -> None:
    # Given an invocation with less time left than a post's retry budget plus the margin
    late = FakeLambdaContext(remaining_ms=int(app.POST_MARGIN_S * 1000))
    # When a batch with two DROPs is handled
    with pytest.raises(app.AlertDeferredError, match="not started") as raised:
        invoke(auditor_with(aws, sleeps), event_with("drop table a;", "drop table b;"), late)
    # Then nothing was posted, the audit records are stored, and the deferral is counted
    assert sink.received == []
    assert len(aws.stored()) == 2
    assert "2 sensitive statement(s)" in str(raised.value)
    assert emitted_metrics.totals()["SlackPostDeferred"] == 1


def test_deferred_alert_is_posted_by_the_retry(
    aws: AlertAws, sink: SlackSink, sleeps: Sleeps
) -> None:
    # Given a batch whose post was not started for lack of time
    event = event_with("drop table a;", "drop table b;")
    with pytest.raises(app.AlertDeferredError):
        invoke(auditor_with(aws, sleeps), event, FakeLambdaContext(remaining_ms=1_000))
    # When Lambda retries it with a fresh invocation's time
    invoke(auditor_with(aws, sleeps), event)
    # Then the summary of both statements is delivered once
    [body] = sink.delivered()
    assert len(statement_texts(body)) == 2


def test_control_message_is_acknowledged_and_ignored(aws: AlertAws, sink: SlackSink) -> None:
    # Given CloudWatch's health check / When handled / Then nothing is stored or posted
    response = invoke(None, load_event("control_message.json"))
    assert response == {"message_type": "CONTROL_MESSAGE", "log_events": 0}
    assert aws.stored() == {}
    assert sink.received == []


def test_select_only_payload_posts_nothing(aws: AlertAws, sink: SlackSink, sleeps: Sleeps) -> None:
    # Given only queries and a comment naming DROP
    event = event_with("select * from sales.orders;", "/* DROP TABLE x */ select 1;")
    # When handled / Then nothing is stored or posted
    response = invoke(auditor_with(aws, sleeps), event)
    assert response["sensitive_statements"] == 0
    assert sink.received == []
    assert aws.stored() == {}


def test_rate_limited_post_waits_retry_after(
    aws: AlertAws, sink: SlackSink, sleeps: Sleeps
) -> None:
    # Given Slack answering 429 Retry-After: 4 once
    sink.script(SinkAnswer.rate_limited(4))
    # When a DROP is handled / Then the wait is Slack's and the message lands
    invoke(auditor_with(aws, sleeps), event_with("drop table t;"))
    assert sleeps.waits == [4.0]
    assert len(sink.delivered()) == 1


def test_slack_outage_keeps_the_audit_record_and_raises(
    aws: AlertAws, sink: SlackSink, sleeps: Sleeps, emitted_metrics: MetricsReader
) -> None:
    # Given Slack failing every attempt
    sink.script(*[SinkAnswer.server_error()] * 3)
    # When a DROP is handled
    with pytest.raises(app.AuditFailedError, match="not posted"):
        invoke(auditor_with(aws, sleeps), event_with("drop table t;"))
    # Then the audit record is stored and the failure counted
    assert len(aws.stored()) == 1
    assert emitted_metrics.totals()["SlackPostFailed"] == 1


def test_retry_after_an_outage_posts_once(aws: AlertAws, sink: SlackSink, sleeps: Sleeps) -> None:
    # Given a payload whose alert failed
    sink.script(*[SinkAnswer.server_error()] * 3)
    event = event_with("drop table t;")
    with pytest.raises(app.AuditFailedError):
        invoke(auditor_with(aws, sleeps), event)
    # When Lambda retries it with Slack back / Then it is delivered once
    invoke(auditor_with(aws, sleeps), event)
    assert len(sink.delivered()) == 1


def test_store_outage_raises_before_posting(aws: AlertAws, sink: SlackSink, sleeps: Sleeps) -> None:
    auditor = auditor_with(aws, sleeps)
    auditor.store = DownStore()
    with pytest.raises(app.AuditFailedError, match="1 log event"):
        invoke(auditor, event_with("drop table t;"))
    assert sink.received == []


def test_partly_stored_batch_is_posted_whole_by_the_retry(
    aws: AlertAws, sink: SlackSink, sleeps: Sleeps
) -> None:
    # Given a batch of two DROPs whose second log event cannot be stored the first time
    event = event_with("drop table a;", "drop table b;")
    auditor = auditor_with(aws, sleeps)
    auditor.store = FailsOnceStore(auditor.store, decoded(event)["logEvents"][1]["id"])
    with pytest.raises(app.AuditFailedError, match="nothing posted"):
        invoke(auditor, event)
    assert sink.received == []
    # When Lambda retries it
    invoke(auditor, event)
    # Then one message lists both statements
    [body] = sink.delivered()
    assert len(statement_texts(body)) == 2
    assert len(aws.stored()) == 2


def test_logs_hold_neither_the_sql_nor_the_webhook_url(
    aws: AlertAws, sink: SlackSink, sleeps: Sleeps, logs: CapturedLogs
) -> None:
    # Given a statement carrying a password, and Slack failing (so every path logs)
    sink.script(SinkAnswer.rate_limited(1), *[SinkAnswer.server_error()] * 2)
    event = event_with("alter user bob password 'hunter2-secret';")
    # When handled
    with pytest.raises(app.AuditFailedError) as raised:
        invoke(auditor_with(aws, sleeps), event)
    # Then the logs name the statement type but not the SQL, the password or the URL
    printed = json.dumps(logs.records()) + str(raised.value)
    assert "ALTER USER" in printed
    assert "hunter2" not in printed
    assert sink.url not in printed
    assert "/services/" not in printed


def test_password_is_masked_in_the_audit_record_and_the_message(
    aws: AlertAws, sink: SlackSink, sleeps: Sleeps
) -> None:
    # Given a password in clear in the log (Redshift masks most, not all)
    invoke(auditor_with(aws, sleeps), event_with("alter user bob password 'hunter2-secret';"))
    # Then neither the stored SQL nor Slack has it
    [records] = aws.stored().values()
    assert records[0]["sql"] == "alter user bob password '***'"
    assert "hunter2" not in json.dumps(sink.bodies())


def test_ignored_users_are_not_audited(aws: AlertAws, sink: SlackSink, sleeps: Sleeps) -> None:
    # Given IGNORE_USERS=rdsdb and rdsdb creating a temp table
    invoke(auditor_with(aws, sleeps), event_with("create temp table t as select 1;", user="rdsdb"))
    # Then nothing is stored or posted
    assert aws.stored() == {}
    assert sink.received == []


def test_line_that_is_not_user_activity_is_counted_and_skipped(
    aws: AlertAws, sleeps: Sleeps, logs: CapturedLogs, emitted_metrics: MetricsReader
) -> None:
    # Given a payload whose message is not a user-activity record
    event = awslogs_event(data_message("authentication failure for user bob"))
    # When handled / Then it is logged (by id, not content) and counted
    invoke(auditor_with(aws, sleeps), event)
    [warning] = [r for r in logs.records() if r["level"] == "WARNING"]
    assert warning["message"] == "Log event is not a user-activity record; skipped"
    assert emitted_metrics.totals()["UnrecognisedLogLines"] == 1


def test_invalid_payload_is_refused_loudly(
    logs: CapturedLogs, emitted_metrics: MetricsReader
) -> None:
    # Given an event that is not a subscription payload / When handled / Then it raises, logged
    with pytest.raises(InvalidPayloadError, match="got an empty 'Records' list"):
        invoke(None, {"Records": []})
    assert [r["message"] for r in logs.records() if r["level"] == "ERROR"] == [
        "Event of an unexpected shape rejected"
    ]
    assert emitted_metrics.totals()["UnexpectedEvents"] == 1


def test_sensitive_query_is_announced_on_eventbridge(aws: AlertAws, sleeps: Sleeps) -> None:
    # Given an EventBridge client / When a GRANT is handled
    events = FakeEventsClient()
    invoke(auditor_with(aws, sleeps, events), event_with("grant all on sales.orders to bob;"))
    # Then "Sensitive Query Detected" points at the audit record, without the SQL
    [entry] = events.entries
    assert (entry["Source"], entry["DetailType"]) == (
        "datalake-events.redshift-audit",
        "Sensitive Query Detected",
    )
    detail = json.loads(entry["Detail"])
    assert detail["statements"][0]["statement_type"] == "GRANT"
    assert detail["bucket"] == BUCKET
    assert "sql" not in json.dumps(detail["statements"])


def test_unset_webhook_stores_and_counts_without_retrying(
    aws: AlertAws, sink: SlackSink, sleeps: Sleeps, emitted_metrics: MetricsReader
) -> None:
    # Given the secret as the stack creates it, before anyone sets the URL
    aws.secrets.put_secret_value(SecretId=WEBHOOK_SECRET, SecretString='{"webhook_url": ""}')
    # When a DROP is handled / Then the audit record is stored, counted, and nothing retried
    response = invoke(auditor_with(aws, sleeps), event_with("drop table t;"))
    assert (response["sensitive_statements"], response["alerts_posted"]) == (1, 0)
    assert len(aws.stored()) == 1
    assert emitted_metrics.totals()["SlackNotConfigured"] == 1
    assert sink.received == []


# --- EventBridge's size limits (moto takes any size; the fake refuses what AWS refuses) -------

SCRIPT = " ".join(f"drop table sales.t{number:04d};" for number in range(2000))


def test_long_script_is_announced_in_entries_aws_accepts(aws: AlertAws, sleeps: Sleeps) -> None:
    # Given EventBridge as AWS enforces it, and one log event holding a 2,000-statement script
    # (one entry listing them all would be 295 KB, over the 256 KiB limit)
    events = FakeEventsClient()
    # When handled
    invoke(auditor_with(aws, sleeps, events), event_with(SCRIPT))
    # Then it is announced in several entries, numbered, each counting the whole script...
    details = events.details()
    assert len(details) > 1
    assert [(d["part"], d["parts"], d["statement_count"]) for d in details] == [
        (part, len(details), 2000) for part in range(1, len(details) + 1)
    ]
    # ...and together they list every stored statement, in order
    [records] = aws.stored().values()
    announced = [statement["audit_id"] for d in details for statement in d["statements"]]
    assert announced == [record["audit_id"] for record in records]


def test_long_script_is_split_the_same_way_on_redelivery(aws: AlertAws, sleeps: Sleeps) -> None:
    # Given the 2,000-statement script announced once
    first, second = FakeEventsClient(), FakeEventsClient()
    event = event_with(SCRIPT)
    invoke(auditor_with(aws, sleeps, first), event)
    # When the payload is delivered again
    invoke(auditor_with(aws, sleeps, second), event)
    # Then the same entries are put
    assert len(first.entries) > 1
    assert second.entries == first.entries


def test_announcement_that_can_never_fit_fails_the_invocation_after_the_alert(
    aws: AlertAws,
    sink: SlackSink,
    sleeps: Sleeps,
    logs: CapturedLogs,
    emitted_metrics: MetricsReader,
) -> None:
    # Given a DROP whose object name alone (261,500 characters) is too large for any entry
    events = FakeEventsClient()
    # When handled / Then the invocation fails so that Lambda retries it, then OnFailure keeps it
    with pytest.raises(app.AuditFailedError, match="too large for EventBridge"):
        invoke(auditor_with(aws, sleeps, events), event_with(f"drop table {'t' * 261_500};"))
    # ...after the record was stored and the batch alerted, and with nothing sent to EventBridge
    assert (len(aws.stored()), len(sink.delivered()), events.entries) == (1, 1, [])
    errors = [r["message"] for r in logs.records() if r["level"] == "ERROR"]
    assert any("too large for EventBridge" in message for message in errors)
    assert emitted_metrics.totals()["EventsTooLarge"] == 1


@given(prefixes, ids)
def test_audit_keys_fit_s3_for_any_prefix_settings_accept(prefix: str, log_event_id: str) -> None:
    # Given any prefix the settings accept and any log event id
    try:
        folder = folder_prefix(prefix)
    except ValueError:
        return  # refused at start-up: no key is ever made under it
    # When the key is made / Then S3 takes it
    assert len(audit_key(folder, "2026-11-20", log_event_id).encode()) <= 1024
