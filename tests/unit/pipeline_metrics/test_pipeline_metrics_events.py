"""Every CodePipeline event shape becomes the right row; other shapes are rejected."""

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pipeline_metrics_fakes import bodies, codepipeline_event, load_event, sqs_event
from pydantic import TypeAdapter, ValidationError

from datalake_shared.validation import describe_error
from pipeline_metrics.csv_rows import MetricRow, event_time_iso, metric_row
from pipeline_metrics.models import (
    ActionExecutionEvent,
    CodePipelineSqsRecord,
    PipelineExecutionEvent,
    StageExecutionEvent,
)

EVENT = TypeAdapter(PipelineExecutionEvent | StageExecutionEvent | ActionExecutionEvent)


def parsed(body: dict[str, Any]) -> MetricRow:
    """The row of one EventBridge event, parsed exactly as the handler parses SQS bodies."""
    record = CodePipelineSqsRecord.model_validate(sqs_event(body)["Records"][0])
    return metric_row(record.body)


def test_pipeline_started_event_becomes_a_pipeline_row_with_its_trigger() -> None:
    # Given the STARTED event of the failed execution sample
    body = bodies("execution_failed.json")[0]
    # When turned into a row / Then every column holds the event's value
    assert parsed(body) == MetricRow(
        event_id=body["id"],
        event_time="2026-11-22T11:02:00Z",
        account="123456789012",
        region="us-east-1",
        pipeline="orders-service",
        execution_id="9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
        level="pipeline",
        state="STARTED",
        pipeline_version="3",
        execution_trigger="StartPipelineExecution",
    )


def test_stage_failed_event_becomes_a_stage_row() -> None:
    # Given the stage FAILED event of the failed execution sample
    body = bodies("execution_failed.json")[4]
    # When turned into a row / Then it names the stage and nothing of an action
    assert parsed(body) == MetricRow(
        event_id=body["id"],
        event_time="2026-11-22T11:04:48Z",
        account="123456789012",
        region="us-east-1",
        pipeline="orders-service",
        execution_id="9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
        level="stage",
        stage="Build",
        state="FAILED",
        pipeline_version="3",
    )


def test_failed_action_event_becomes_an_action_row_with_its_failure() -> None:
    # Given the CodeBuild action FAILED event of the failed execution sample
    body = bodies("execution_failed.json")[3]
    # When turned into a row / Then it carries the type, summary, error code and build link
    assert parsed(body) == MetricRow(
        event_id=body["id"],
        event_time="2026-11-22T11:04:47Z",
        account="123456789012",
        region="us-east-1",
        pipeline="orders-service",
        execution_id="9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
        level="action",
        stage="Build",
        action="Build",
        category="Build",
        provider="CodeBuild",
        state="FAILED",
        failure_summary="Build terminated with state: FAILED",
        error_code="JobFailed",
        external_url=body["detail"]["execution-result"]["external-execution-url"],
        pipeline_version="3",
    )


def test_rejected_approval_keeps_its_multi_line_summary_whole_in_the_row() -> None:
    # Given a manual approval rejected with a summary holding quotes, commas and line breaks
    body = bodies("approval_rejected.json")[2]
    # When turned into a row
    row = parsed(body)
    # Then the row holds the summary exactly (the CSV layer decides how line breaks are stored)
    assert (row.level, row.category, row.provider, row.state) == (
        "action",
        "Approval",
        "Manual",
        "FAILED",
    )
    assert row.failure_summary == body["detail"]["execution-result"]["external-execution-summary"]
    assert "\n" in row.failure_summary
    assert '"' in row.failure_summary


def test_succeeded_action_has_a_link_but_no_failure_summary() -> None:
    # Given the source action SUCCEEDED event, whose summary is the commit message
    body = bodies("execution_succeeded.json")[3]
    # When turned into a row
    row = parsed(body)
    # Then the commit message is not taken for a failure, the commit link is kept
    assert (row.state, row.failure_summary, row.error_code) == ("SUCCEEDED", "", "")
    assert row.external_url.startswith("https://us-east-1.console.aws.amazon.com/codesuite/")


@pytest.mark.parametrize(
    ("name", "position", "level", "state"),
    [
        ("execution_superseded.json", 2, "pipeline", "SUPERSEDED"),
        ("execution_canceled.json", 0, "action", "CANCELED"),
        ("execution_canceled.json", 1, "stage", "CANCELED"),
        ("execution_canceled.json", 2, "pipeline", "CANCELED"),
        ("execution_succeeded.json", 9, "pipeline", "SUCCEEDED"),
    ],
)
def test_each_sample_state_change_keeps_its_level_and_state(
    name: str, position: int, level: str, state: str
) -> None:
    # Given one state change of a sample / When turned into a row
    row = parsed(bodies(name)[position])
    # Then its level and state are the event's
    assert (row.level, row.state) == (level, state)


def test_cross_region_action_row_keeps_the_pipeline_region() -> None:
    # Given an action that ran in another region than its pipeline
    body = codepipeline_event("action", state="SUCCEEDED", time="2026-11-22T10:00:00Z")
    body["detail"]["region"] = "eu-west-1"
    # When turned into a row / Then the row's region is the pipeline's (the event's)
    assert parsed(body).region == "us-east-1"


@pytest.mark.parametrize(("version", "text"), [("1", "1"), (1, "1"), (1.0, "1"), (2.5, "2.5")])
def test_pipeline_version_is_text_however_it_arrives(version: object, text: str) -> None:
    # Given a stage event whose version is a string, an int or a float
    body = codepipeline_event("stage", state="STARTED", time="2026-11-22T10:00:00Z")
    body["detail"]["version"] = version
    # When turned into a row / Then the version reads the same
    assert parsed(body).pipeline_version == text


def test_state_the_model_does_not_know_yet_is_recorded() -> None:
    # Given a pipeline state that AWS might add later
    body = codepipeline_event("pipeline", state="PAUSED", time="2026-11-22T10:00:00Z")
    # When turned into a row / Then it is kept, not rejected
    assert parsed(body).state == "PAUSED"


def test_cloudtrail_api_call_from_codepipeline_is_rejected_with_its_detail_type() -> None:
    # Given the "AWS API Call via CloudTrail" event an "All Events" rule also forwards
    record = load_event("unknown_shapes.json")["Records"][1]
    # When parsed / Then validation fails on the detail-type
    with pytest.raises(ValidationError) as raised:
        CodePipelineSqsRecord.model_validate(record)
    assert "AWS API Call via CloudTrail" in describe_error(raised.value)


@pytest.mark.parametrize(
    ("level", "remove", "problem"),
    [
        ("action", "type", "detail.type: Field required"),
        ("action", "action", "detail.action: Field required"),
        ("stage", "stage", "detail.stage: Field required"),
        ("pipeline", "execution-id", "detail.execution-id: Field required"),
        ("pipeline", "state", "detail.state: Field required"),
    ],
)
def test_event_missing_a_required_field_is_rejected_naming_it(
    level: str, remove: str, problem: str
) -> None:
    # Given an event without one of its shape's required fields
    body = codepipeline_event(level, state="STARTED", time="2026-11-22T10:00:00Z")
    del body["detail"][remove]
    # When parsed / Then the error names the missing field
    with pytest.raises(ValidationError) as raised:
        EVENT.validate_python(body)
    assert problem in describe_error(raised.value)


def test_event_from_another_source_is_rejected() -> None:
    # Given a CodePipeline-shaped event that did not come from aws.codepipeline
    body = codepipeline_event("pipeline", state="STARTED", time="2026-11-22T10:00:00Z")
    body["source"] = "acme.deployments"
    # When parsed / Then it is rejected
    with pytest.raises(ValidationError):
        EVENT.validate_python(body)


def test_empty_pipeline_name_is_rejected() -> None:
    # Given an event whose pipeline name is empty
    body = codepipeline_event("pipeline", state="STARTED", time="2026-11-22T10:00:00Z")
    body["detail"]["pipeline"] = ""
    # When parsed / Then it is rejected rather than written as an anonymous row
    with pytest.raises(ValidationError):
        EVENT.validate_python(body)


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2026, 11, 22, 10, 15, tzinfo=UTC), "2026-11-22T10:15:00Z"),
        (datetime(2026, 11, 22, 10, 15), "2026-11-22T10:15:00Z"),
        (datetime(2026, 11, 22, 10, 15, 0, 123456, tzinfo=UTC), "2026-11-22T10:15:00.123Z"),
        (
            datetime(2026, 11, 23, 1, 30, tzinfo=timezone(timedelta(hours=2))),
            "2026-11-22T23:30:00Z",
        ),
    ],
)
def test_event_time_is_utc_iso_8601_with_z(moment: datetime, text: str) -> None:
    # Given an event time (aware, naive, sub-second, another offset) / Then its text is UTC
    assert event_time_iso(moment) == text


@pytest.fixture
def local_time_zone_utc_minus_5() -> Iterator[None]:
    """The process's local time zone set to UTC-05:00 (no DST), restored afterwards."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "EST5"
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


@pytest.mark.usefixtures("local_time_zone_utc_minus_5")
def test_a_naive_event_time_is_taken_as_utc_whatever_the_local_time_zone() -> None:
    # Given a machine whose local time zone is UTC-05:00 / When a naive time is written
    text = event_time_iso(datetime(2026, 11, 22, 10, 15))
    # Then it is read as UTC, not as local time
    assert text == "2026-11-22T10:15:00Z"


@pytest.mark.usefixtures("local_time_zone_utc_minus_5")
def test_an_aware_event_time_is_written_in_utc_whatever_the_local_time_zone() -> None:
    # Given a machine whose local time zone is UTC-05:00 / When an aware UTC+02:00 time is written
    text = event_time_iso(datetime(2026, 11, 23, 1, 30, tzinfo=timezone(timedelta(hours=2))))
    # Then it is converted to UTC, not to local time
    assert text == "2026-11-22T23:30:00Z"


def test_row_day_is_the_utc_date_of_the_event() -> None:
    # Given an event at 00:30 in UTC+02:00, that is the day before in UTC
    body = codepipeline_event("pipeline", state="STARTED", time="2026-11-23T00:30:00+02:00")
    # When turned into a row / Then its partition day is the UTC date
    assert parsed(body).day == "2026-11-22"


def _failed_action_body() -> dict[str, Any]:
    """The sample's failed build action, with no summary in its execution-result."""
    body = next(
        b
        for b in bodies("execution_failed.json")
        if b["detail"].get("action") and b["detail"]["state"] == "FAILED"
    )
    body["detail"]["execution-result"].pop("external-execution-summary", None)
    return body


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({"failureSummary": "Unit tests failed: 3 of 212"}, "Unit tests failed: 3 of 212"),
        ({"additionalInformation": "Build d-1 failed"}, "Build d-1 failed"),
        (
            {"failedActions": [{"action": "Build", "additionalInformation": "exit status 2"}]},
            "Build: exit status 2",
        ),
    ],
    ids=["failureSummary", "additionalInformation", "failedActions"],
)
def test_an_action_failure_keeps_the_text_codepipeline_put_in_additional_attributes(
    attributes: dict[str, Any], expected: str
) -> None:
    # Given a failed action whose text is only in additionalAttributes
    body = _failed_action_body()
    body["additionalAttributes"] = attributes
    # When turned into a row / Then the failure text is kept
    assert parsed(body).failure_summary == expected


def test_a_failure_text_in_both_places_is_kept_once_each() -> None:
    # Given the same text in execution-result and additionalAttributes, plus another
    body = _failed_action_body()
    body["detail"]["execution-result"]["external-execution-summary"] = "Build failed"
    body["additionalAttributes"] = {
        "failureSummary": "Build failed",
        "additionalInformation": "OOM",
    }
    # When turned into a row / Then each text appears once, execution-result's first
    assert parsed(body).failure_summary == "Build failed; OOM"


def test_a_failed_stage_row_names_its_failed_actions() -> None:
    # Given a stage FAILED event listing its failed action
    body = next(
        b
        for b in bodies("execution_failed.json")
        if b["detail-type"].startswith("CodePipeline Stage") and b["detail"]["state"] == "FAILED"
    )
    body["additionalAttributes"] = {
        "failedActionCount": 1,
        "failedActions": [{"action": "Build", "additionalInformation": "exit status 2"}],
        "failedStage": body["detail"]["stage"],
    }
    # When turned into a row / Then the stage's row says which action failed and why
    assert parsed(body).failure_summary == "Build: exit status 2"


def test_additional_attributes_of_a_success_are_no_failure() -> None:
    body = bodies("execution_succeeded.json")[3]
    body["additionalAttributes"] = {"additionalInformation": "Deployed 3 instances"}

    assert parsed(body).failure_summary == ""


@pytest.mark.parametrize(
    "attributes",
    [
        None,
        "text",
        {"failedActions": None},
        {"failedActions": ["Build", None, {"action": 3, "additionalInformation": ["x"]}]},
        {"additionalInformation": {"nested": "x"}, "failureSummary": 12},
    ],
    ids=["null", "text", "null-actions", "odd-actions", "non-text"],
)
def test_additional_attributes_of_another_shape_never_refuse_the_row(attributes: Any) -> None:
    # Given a failed action whose additionalAttributes are not what AWS documents
    body = _failed_action_body()
    body["detail"]["execution-result"]["external-execution-summary"] = "Build failed"
    body["additionalAttributes"] = attributes
    # When turned into a row / Then the row is made, with the text execution-result holds
    assert parsed(body).failure_summary == "Build failed"
