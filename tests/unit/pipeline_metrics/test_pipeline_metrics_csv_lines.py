"""Each event shape as the exact CSV line Athena reads: optional event fields that are absent
become empty quoted columns (never a placeholder), and failure texts land in their column."""

from typing import Any

import pytest
from pipeline_metrics_fakes import ACCOUNT, REGION, codepipeline_event, sqs_event

from pipeline_metrics.csv_rows import encode_csv, metric_row
from pipeline_metrics.models import CodePipelineSqsRecord

EVENT_ID = "0b7e2c4a-6f1d-4e3b-9a8c-5d2e1f0a9b8c"
EXECUTION = "3f6c1a2b-8d4e-4f5a-9b6c-7d8e9f0a1b2c"
TIME = "2026-11-22T10:00:00Z"
LEADING = [EVENT_ID, TIME, ACCOUNT, REGION, "orders-service", EXECUTION]


def event(level: str, *, state: str, **options: Any) -> dict[str, Any]:
    return codepipeline_event(level, state=state, time=TIME, event_id=EVENT_ID, **options)


def csv_line(body: dict[str, Any]) -> str:
    """The data line the function writes for one EventBridge event (parsed as the handler does)."""
    record = CodePipelineSqsRecord.model_validate(sqs_event(body)["Records"][0])
    header, line, end = encode_csv([metric_row(record.body)]).decode("utf-8").split("\n")
    assert header.startswith('"event_id",')
    assert end == ""
    return line


def quoted(*values: str) -> str:
    """Values as the CSV writes them when they hold no quote, backslash or line break."""
    return ",".join(f'"{value}"' for value in values)


def test_a_failed_pipeline_line_holds_the_failure_text_of_its_additional_attributes() -> None:
    # Given a pipeline FAILED event whose failure text is in additionalAttributes
    body = event("pipeline", state="FAILED")
    body["additionalAttributes"] = {"failureSummary": "Stage Build failed"}
    # When written as CSV
    line = csv_line(body)
    # Then the line carries the text in its failure_summary column
    assert line == quoted(
        *LEADING,
        *("pipeline", "", "", "", "", "FAILED", "Stage Build failed", "", "", "3", ""),
    )


@pytest.mark.parametrize(
    ("level", "names"),
    [
        ("pipeline", ("pipeline", "", "", "", "")),
        ("stage", ("stage", "Build", "", "", "")),
        ("action", ("action", "Build", "Build", "Build", "CodeBuild")),
    ],
)
def test_an_event_without_a_version_has_an_empty_pipeline_version_column(
    level: str, names: tuple[str, ...]
) -> None:
    # Given a STARTED event of each level that carries no pipeline version
    body = event(level, state="STARTED")
    del body["detail"]["version"]
    # When written as CSV
    line = csv_line(body)
    # Then its pipeline_version column is an empty quoted string
    assert line == quoted(*LEADING, *names, "STARTED", "", "", "", "", "")


@pytest.mark.parametrize(
    "trigger",
    [None, {}, {"trigger-detail": "arn:aws:iam::123456789012:user/ops"}],
    ids=["no-trigger", "empty-trigger", "trigger-without-type"],
)
def test_a_pipeline_event_without_a_trigger_type_has_an_empty_trigger_column(
    trigger: dict[str, str] | None,
) -> None:
    # Given a pipeline STARTED event with no execution-trigger, or one without trigger-type
    body = event("pipeline", state="STARTED")
    if trigger is not None:
        body["detail"]["execution-trigger"] = trigger
    # When written as CSV
    line = csv_line(body)
    # Then its execution_trigger column is an empty quoted string
    assert line == quoted(*LEADING, "pipeline", "", "", "", "", "STARTED", "", "", "", "3", "")


def test_a_pipeline_event_with_a_trigger_type_names_it_in_the_last_column() -> None:
    # Given a pipeline STARTED event started by a webhook
    body = event("pipeline", state="STARTED")
    body["detail"]["execution-trigger"] = {"trigger-type": "Webhook", "trigger-detail": "x"}
    # When written as CSV / Then the trigger type is the last column
    assert csv_line(body) == quoted(
        *LEADING, "pipeline", "", "", "", "", "STARTED", "", "", "", "3", "Webhook"
    )


def test_a_failed_action_without_a_link_has_empty_url_and_error_columns() -> None:
    # Given a failed action whose execution-result holds only a summary (no url, no error code)
    body = event("action", state="FAILED", summary="Build timed out")
    # When written as CSV
    line = csv_line(body)
    # Then the summary is kept and the error_code and external_url columns are empty
    assert line == quoted(
        *LEADING,
        *("action", "Build", "Build", "Build", "CodeBuild", "FAILED", "Build timed out"),
        *("", "", "3", ""),
    )


def test_a_failed_action_line_holds_its_error_code_and_link() -> None:
    # Given a failed action with an error code and a build link
    url = "https://console.aws.amazon.com/codebuild/home#/builds/b:1"
    body = event("action", state="FAILED", summary="Failed", error_code="JobFailed", url=url)
    # When written as CSV / Then both are in their columns, before the version
    assert csv_line(body) == quoted(
        *LEADING,
        *("action", "Build", "Build", "Build", "CodeBuild", "FAILED", "Failed"),
        *("JobFailed", url, "3", ""),
    )
