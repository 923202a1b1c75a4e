"""Normalization: one record per event, whatever the source; nothing unreadable is dropped."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pipeline_monitor_fakes import eventbridge_message, sns_message

from pipeline_monitor.records import (
    MAX_ERROR_CHARS,
    MAX_NAME_CHARS,
    MonitorRecord,
    Service,
    Severity,
    console_url,
    normalize,
    safe_event_id,
)
from pipeline_monitor.store import record_key, record_line

RECEIVED = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
SAFE_ID = st.from_regex(r"[A-Za-z0-9._-]{1,128}", fullmatch=True)


def of(message: dict[str, Any] | str, message_id: str = "m-1") -> MonitorRecord:
    text = message if isinstance(message, str) else json.dumps(message)
    return normalize(text, message_id=message_id, received=RECEIVED)


def glue_job(state: str, **detail: Any) -> dict[str, Any]:
    message = eventbridge_message("glue_job_failed.json")
    message["detail"].update(state=state, **detail)
    return message


@pytest.mark.parametrize(
    ("state", "severity"),
    [
        ("FAILED", Severity.ERROR),
        ("TIMEOUT", Severity.ERROR),
        ("ERROR", Severity.ERROR),
        ("STOPPED", Severity.WARNING),
        ("SUCCEEDED", Severity.INFO),
    ],
)
def test_glue_job_state_decides_the_severity(state: str, severity: Severity) -> None:
    # Given a Glue Job State Change in this state / When normalized / Then its severity follows
    assert of(glue_job(state)).severity is severity


@pytest.mark.parametrize(
    ("status", "severity"),
    [
        ("FAILED", Severity.ERROR),
        ("TIMED_OUT", Severity.ERROR),
        ("ABORTED", Severity.WARNING),
        ("SUCCEEDED", Severity.INFO),
        ("RUNNING", Severity.INFO),
    ],
)
def test_execution_status_decides_the_severity(status: str, severity: Severity) -> None:
    # Given a Step Functions Execution Status Change in this status
    message = eventbridge_message("stepfunctions_execution_failed.json")
    message["detail"]["status"] = status
    # When normalized / Then its severity follows
    assert of(message).severity is severity


@pytest.mark.parametrize(
    ("state", "severity"),
    [("Started", Severity.INFO), ("Succeeded", Severity.INFO), ("Failed", Severity.ERROR)],
)
def test_crawler_state_is_upper_cased_and_decides_the_severity(
    state: str, severity: Severity
) -> None:
    # Given a crawler state change as Glue spells it
    message = eventbridge_message("glue_crawler_failed.json")
    message["detail"]["state"] = state
    # When normalized / Then the state reads like every other service's and severity follows
    record = of(message)
    assert (record.state, record.severity) == (state.upper(), severity)


def test_glue_job_run_status_notification_is_a_warning() -> None:
    # Given the "running longer than expected" notification of a job run
    message = glue_job("RUNNING", message="Job run exceeded the notify delay of 60 minutes")
    message["detail-type"] = "Glue Job Run Status"
    # When normalized / Then it is a warning carrying the message
    record = of(message)
    assert (record.service, record.severity) == (Service.GLUE_JOB, Severity.WARNING)
    assert record.error_message == "Job run exceeded the notify delay of 60 minutes"


def test_success_carries_no_error_message() -> None:
    # Given a succeeded job whose message says so / Then no error is recorded
    assert of(glue_job("SUCCEEDED", message="Job run succeeded")).error_message is None


def test_destination_record_names_the_function_and_its_error() -> None:
    # Given the Lambda destination sample / When normalized
    record = of(sns_message("lambda_destination_failure.json"))
    # Then the function, request and error are taken from the record
    assert record.resource == "datalake-events-dev-ConfigLoaderFunction-Xy7Pq2Rs9TuV"
    assert record.run_id == record.event_id == "e4b46cbf-b738-4c1d-8880-a18cdf61200e"
    assert record.error_message is not None
    assert record.error_message.startswith("ProvisionedThroughputExceededException: ")
    assert (record.account, record.region) == ("123456789012", "us-east-1")


def test_successful_destination_record_is_info() -> None:
    # Given an OnSuccess destination record
    message = json.loads(sns_message("lambda_destination_failure.json"))
    message["requestContext"]["condition"] = "Success"
    message["responseContext"] = {"statusCode": 200, "executedVersion": "$LATEST"}
    message["responsePayload"] = {"batches": 2}
    # When normalized / Then it is info without error
    record = of(message)
    assert (record.severity, record.error_message) == (Severity.INFO, None)


def test_alarm_notification_id_is_the_same_for_the_same_transition() -> None:
    # Given the same alarm notification published twice (two SNS messages)
    message = sns_message("cloudwatch_alarm_notification.json")
    # When normalized / Then both get one event id (no id in that format: derived, stable)
    assert of(message, "a").event_id == of(message, "b").event_id


def test_alarm_notification_id_differs_for_another_transition() -> None:
    # Given the alarm going back to OK later
    message = json.loads(sns_message("cloudwatch_alarm_notification.json"))
    later = dict(message, NewStateValue="OK", StateChangeTime="2026-11-20T10:41:00.000+0000")
    # When both are normalized / Then they are two events
    assert of(message).event_id != of(later).event_id


def test_console_links_are_region_aware() -> None:
    # Given the alarm sample moved to Frankfurt, Beijing and GovCloud
    message = eventbridge_message("cloudwatch_alarm.json")
    links = {}
    for region in ("eu-central-1", "cn-north-1", "us-gov-west-1"):
        links[region] = of(dict(message, region=region)).console_url
    # Then each link points at that region's console
    assert links == {
        "eu-central-1": "https://eu-central-1.console.aws.amazon.com/cloudwatch/home"
        "?region=eu-central-1#alarmsV2:alarm/datalake-events-dev-FileTrackerDLQNotEmpty",
        "cn-north-1": "https://cn-north-1.console.amazonaws.cn/cloudwatch/home"
        "?region=cn-north-1#alarmsV2:alarm/datalake-events-dev-FileTrackerDLQNotEmpty",
        "us-gov-west-1": "https://us-gov-west-1.console.amazonaws-us-gov.com/cloudwatch/home"
        "?region=us-gov-west-1#alarmsV2:alarm/datalake-events-dev-FileTrackerDLQNotEmpty",
    }


def test_console_link_encodes_names() -> None:
    # Given an alarm whose name has spaces, a slash and a hash
    message = eventbridge_message("cloudwatch_alarm.json")
    message["detail"]["alarmName"] = "DLQ not empty / orders #1"
    # When normalized / Then the name is percent-encoded in the link
    assert of(message).console_url == (
        "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1"
        "#alarmsV2:alarm/DLQ%20not%20empty%20%2F%20orders%20%231"
    )


def test_no_region_means_no_console_link() -> None:
    # Given no region / Then there is no link rather than a wrong one
    assert console_url(None, "glue/home", "/x") is None


def test_long_error_is_truncated() -> None:
    # Given a 10,000-character error
    record = of(glue_job("FAILED", message="x" * 10_000))
    # When normalized / Then it is cut to the stored maximum, marked
    assert record.error_message is not None
    assert len(record.error_message) == MAX_ERROR_CHARS
    assert record.error_message.endswith("…")


def test_eventbridge_event_missing_a_required_field_becomes_unknown() -> None:
    # Given a Glue job event without a job name
    message = eventbridge_message("glue_job_failed.json")
    del message["detail"]["jobName"]
    # When normalized / Then it is an unknown warning keeping the event id and what was wrong
    record = of(message)
    assert (record.service, record.severity) == (Service.UNKNOWN, Severity.WARNING)
    assert record.event_id == message["id"]
    assert record.error_message is not None
    assert "detail.jobName" in record.error_message


@pytest.mark.parametrize("text", ["not json", "[1, 2]", '"a string"', "{}", '{"hello": "world"}'])
def test_anything_else_becomes_an_unknown_record_keyed_by_the_message(text: str) -> None:
    # Given a message that is not one of the known shapes / When normalized
    record = of(text, "msg-9")
    # Then it is kept as unknown under the SNS message id, at the time SNS received it
    assert (record.service, record.event_id) == (Service.UNKNOWN, "sns-msg-9")
    assert record.event_time == "2026-11-20T10:00:00Z"


def test_unsafe_ids_are_hashed_for_keys() -> None:
    # Given ids with a slash and one too long / Then both become short, safe, stable ids
    for raw in ("a/b", "x" * 200):
        safe = safe_event_id(raw)
        assert safe == safe_event_id(raw)
        assert safe.startswith("h-")
        assert len(safe) == 34


def test_normalizing_twice_gives_the_same_bytes() -> None:
    # Given one message / When normalized and serialized twice / Then byte-identical, same key
    first, second = (of(sns_message("glue_job_failed.json")) for _ in range(2))
    assert record_line(first) == record_line(second)
    assert record_key("p/", first) == record_key("p/", second)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300), SAFE_ID)
def test_any_text_gives_a_storable_record(text: str, message_id: str) -> None:
    # Given any SNS message text / When normalized
    record = of(text, message_id)
    # Then there is a record, its id fits a key and it serializes to one JSON line
    assert safe_event_id(record.event_id) == record.event_id
    line = record_line(record)
    assert line.endswith(b"\n")
    assert line.count(b"\n") == 1


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["id", "source", "detail-type", "time", "region", "detail", "account"]),
        st.one_of(st.text(max_size=20), st.integers(), st.none(), st.just({})),
    )
)
def test_any_eventbridge_like_object_gives_a_record(message: dict[str, Any]) -> None:
    # Given half-formed EventBridge-like objects / When normalized
    record = of(message)
    # Then a record comes out with a safe id and an ISO time
    assert safe_event_id(record.event_id) == record.event_id
    assert len(record.event_time) == 20


@pytest.mark.parametrize("where", ["region", "detail-type"])
def test_a_lone_surrogate_in_the_event_still_gives_a_record_that_can_be_stored(where: str) -> None:
    # Given a failed Glue job event with an escaped lone surrogate ("\ud800") in one field
    event = glue_job("FAILED")
    event[where] = f"{event[where]}\ud800"
    # When normalized / Then its stored line encodes as UTF-8, the surrogate read as "?"
    line = record_line(of(event))
    assert b"\\ud800" not in line
    assert json.loads(line)[where.replace("-", "_")].endswith("?")


def test_an_overlong_detail_type_is_cut_to_eventbridge_size() -> None:
    # Given an event whose detail-type is 300,000 characters (EventBridge's limit is 128)
    event = glue_job("FAILED")
    event["detail-type"] = "x" * 300_000
    # When normalized / Then the record keeps a bounded detail-type
    assert len(of(event).detail_type) <= MAX_NAME_CHARS
