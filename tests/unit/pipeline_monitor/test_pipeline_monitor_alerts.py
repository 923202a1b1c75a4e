"""The Block Kit message: within Slack's limits, escaped, and linked to the console."""

import dataclasses
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st
from pipeline_monitor_fakes import sns_message

from datalake_shared.slack import CODE_BLOCK_LIMIT, HEADER_TEXT_LIMIT
from pipeline_monitor.alerts import render_alert
from pipeline_monitor.records import MonitorRecord, Service, Severity, normalize

RECEIVED = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def sample_record(name: str = "glue_job_failed.json") -> MonitorRecord:
    return normalize(sns_message(name), message_id="m", received=RECEIVED)


def test_message_has_header_facts_error_button_and_context() -> None:
    # Given a failed job record / When rendered
    payload = render_alert(sample_record())
    # Then the blocks come in reading order, with a notification fallback text
    assert [block["type"] for block in payload["blocks"]] == [
        "header",
        "section",
        "section",
        "actions",
        "context",
    ]
    assert payload["text"] == "ERROR: Glue job FAILED: datalake-events-dev-cdc-merge"


def test_error_is_a_code_block_within_slacks_limit() -> None:
    # Given an error of 10,000 characters
    record = dataclasses.replace(sample_record(), error_message="e" * 10_000)
    # When rendered
    text = render_alert(record)["blocks"][2]["text"]["text"]
    # Then it is one code block, cut to 2,900 characters and marked
    body = text.removeprefix("*Error*\n```").removesuffix("```")
    assert len(body) == CODE_BLOCK_LIMIT
    assert body.endswith("… (truncated)")


def test_user_text_is_escaped() -> None:
    # Given a resource and error holding Slack control characters
    record = dataclasses.replace(
        sample_record(), resource="<!channel> a&b", error_message="x < y > z"
    )
    # When rendered
    blocks = render_alert(record)["blocks"]
    # Then they show as typed instead of pinging the channel
    resource_field = blocks[1]["fields"][1]["text"]
    assert resource_field == "*Resource*\n&lt;!channel&gt; a&amp;b"
    assert "x &lt; y &gt; z" in blocks[2]["text"]["text"]


def test_no_console_link_means_no_button() -> None:
    # Given an unknown record (no console URL) / When rendered / Then there is no actions block
    record = sample_record("unknown_event.json")
    assert "actions" not in [block["type"] for block in render_alert(record)["blocks"]]


def test_code_fences_in_the_error_cannot_close_the_block() -> None:
    # Given an error holding a Markdown fence
    record = dataclasses.replace(sample_record(), error_message="before ``` after")
    # When rendered / Then the only fences are the block's own
    text = render_alert(record)["blocks"][2]["text"]["text"]
    assert text.count("```") == 2


@settings(max_examples=50, deadline=None)
@given(
    resource=st.text(min_size=1, max_size=400),
    state=st.text(min_size=1, max_size=50),
    error=st.one_of(st.none(), st.text(max_size=5000)),
)
def test_any_record_renders_within_block_kit_limits(
    resource: str, state: str, error: str | None
) -> None:
    # Given any resource, state and error
    record = dataclasses.replace(
        sample_record(),
        resource=resource,
        state=state,
        error_message=error,
        service=Service.LAMBDA,
        severity=Severity.ERROR,
    )
    # When rendered
    blocks = render_alert(record)["blocks"]
    # Then every text is within Slack's per-block limits
    assert len(blocks[0]["text"]["text"]) <= HEADER_TEXT_LIMIT
    assert all(len(field["text"]) <= 2000 for field in blocks[1]["fields"])
    sections = [b for b in blocks if b["type"] == "section" and "text" in b]
    assert all(len(section["text"]["text"]) <= 3000 for section in sections)
