"""The batch's Slack message (Block Kit within Slack's limits), its idempotency id, and the
time a post needs before it may be started."""

import json
from typing import Any

from alert_fakes import RecordingPoster
from hypothesis import given, settings
from hypothesis import strategies as st
from redshift_audit_fakes import app

from datalake_shared.slack import RetryPolicy
from redshift_audit.alerts import MAX_LISTED_STATEMENTS, render_batch_alert
from redshift_audit.service import (
    AlertStatus,
    AuditRecord,
    LogSource,
    RedshiftAuditor,
    batch_alert_id,
    time_needed_to_post,
)

SOURCE = LogSource("123456789012", "/aws/redshift/cluster/c/useractivitylog", "c", "c")
MAX_BLOCKS = 50
TEXT_LIMIT = 3000


def record(number: int = 0, **changes: Any) -> AuditRecord:
    values: dict[str, Any] = {
        "audit_id": f"a{number}",
        "log_event_id": str(1000 + number),
        "statement_index": 0,
        "cluster": "c",
        "log_group": SOURCE.log_group,
        "log_stream": "c",
        "account": "123456789012",
        "database": "dev",
        "user": "alice",
        "pid": "1",
        "userid": "100",
        "xid": "9",
        "query_time": "2026-11-20T10:00:00Z",
        "category": "DDL",
        "statement_type": "DROP TABLE",
        "object_name": f"sales.t{number}",
        "parse_status": "parsed",
        "sql": f"drop table sales.t{number}",
    }
    return AuditRecord(**{**values, **changes})


def texts(node: Any) -> list[str]:
    """Every "text" string of a Block Kit payload, at any depth."""
    if isinstance(node, dict):
        found = [node["text"]] if isinstance(node.get("text"), str) else []
        return found + [text for value in node.values() for text in texts(value)]
    if isinstance(node, list):
        return [text for item in node for text in texts(item)]
    return []


def auditor(poster: RecordingPoster, needed_s: float = 30.0) -> RedshiftAuditor:
    return RedshiftAuditor(
        store=None,  # type: ignore[arg-type]  (alert() stores nothing)
        poster=poster,
        announcer=None,  # type: ignore[arg-type]
        render=render_batch_alert,
        post_time_needed_s=needed_s,
    )


long_text = st.text(min_size=0, max_size=5000)


@settings(max_examples=40, deadline=None)
@given(
    count=st.integers(min_value=1, max_value=120),
    sql=long_text,
    name=st.text(min_size=1, max_size=400),
)
def test_any_batch_fits_slacks_limits(count: int, sql: str, name: str) -> None:
    # Given a batch of any size with long SQL, names full of mrkdwn control characters
    records = [
        record(n, sql=sql, user=name, database=name, object_name=name + "<&>") for n in range(count)
    ]
    # When rendered
    payload = render_batch_alert(SOURCE, records)
    # Then it keeps to Slack's limits: blocks, text per object, header, fields
    blocks = payload["blocks"]
    assert len(blocks) <= MAX_BLOCKS
    assert all(len(text) <= TEXT_LIMIT for text in texts(blocks))
    assert len(blocks[0]["text"]["text"]) <= 150
    assert all(len(field["text"]) <= 2000 for field in blocks[1]["fields"])
    assert len(payload["text"]) <= 300
    # And it lists at most N statements, saying how many more there are
    listed = min(count, MAX_LISTED_STATEMENTS)
    assert f"{count} sensitive statement" in blocks[0]["text"]["text"]
    shown = json.dumps(payload, ensure_ascii=False)
    assert (f"and {count - listed} more" in shown) == (count > listed)


def test_listed_sql_is_cut_short_and_the_table_has_it_whole() -> None:
    # Given a 10 000-character statement / When rendered
    payload = render_batch_alert(SOURCE, [record(sql="create table t as select " + "x" * 10_000)])
    # Then the message shows a marked, bounded preview
    statement = payload["blocks"][2]["text"]["text"]
    assert "(truncated)" in statement
    assert len(statement) < 1000


def test_render_names_keyword_classified_statements() -> None:
    # Given a record classified from keywords only / When rendered / Then the message says so
    payload = render_batch_alert(SOURCE, [record(parse_status="unparsed", user=None)])
    assert "classified by keyword" in payload["blocks"][2]["text"]["text"]
    assert "1 statement(s) classified by keyword" in payload["blocks"][-1]["elements"][0]["text"]


def test_dcl_in_the_batch_sets_the_lock_emoji() -> None:
    payload = render_batch_alert(SOURCE, [record(0), record(1, category="DCL")])
    assert payload["blocks"][0]["text"]["text"].startswith(":closed_lock_with_key: 2 ")


@settings(max_examples=30, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=20, unique=True))
def test_batch_id_ignores_the_order_of_log_events(ids: list[str]) -> None:
    # Given a batch's log event ids / When delivered in reverse order / Then the same id
    assert batch_alert_id("g", ids) == batch_alert_id("g", list(reversed(ids)))


def test_batch_id_differs_between_batches_and_log_groups() -> None:
    assert batch_alert_id("g", ["1", "2"]) != batch_alert_id("g", ["1", "3"])
    assert batch_alert_id("g", ["1"]) != batch_alert_id("h", ["1"])


def test_post_is_not_started_without_time_for_its_budget() -> None:
    # Given an auditor whose post needs 30 s / When only 29.9 s are left
    poster = RecordingPoster()
    alert = auditor(poster).alert(SOURCE, ["1000"], [record()], remaining_s=29.9)
    # Then nothing is posted and the alert is deferred, saying why
    assert poster.posts == []
    assert alert.status is AlertStatus.DEFERRED
    assert alert.retry_needed
    assert "29.9 s of the invocation left" in (alert.error or "")


def test_post_starts_when_the_budget_fits() -> None:
    poster = RecordingPoster()
    alert = auditor(poster).alert(SOURCE, ["1000", "999"], [record()], remaining_s=30.0)
    assert alert.status is AlertStatus.POSTED
    assert [alert_id for alert_id, _ in poster.posts] == [
        batch_alert_id(SOURCE.log_group, ["999", "1000"])
    ]


def test_batch_without_sensitive_statements_posts_nothing() -> None:
    poster = RecordingPoster()
    alert = auditor(poster).alert(SOURCE, ["1000"], [], remaining_s=0)
    assert (alert.status, poster.posts) == (AlertStatus.NOT_NEEDED, [])


def test_time_needed_covers_retries_last_request_and_margin() -> None:
    policy = RetryPolicy(max_total_s=20, timeout_s=5)
    assert time_needed_to_post(policy, 5) == 30


def test_production_post_fits_in_the_function_timeout(sam_template: dict[str, Any]) -> None:
    # Given the template's timeout / Then a post can still be started after some work
    timeout = sam_template["Resources"]["RedshiftAuditFunction"]["Properties"]["Timeout"]
    needed = time_needed_to_post(app.SLACK_RETRY_POLICY, app.POST_MARGIN_S)
    assert needed <= timeout / 2
