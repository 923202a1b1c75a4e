"""The events corpus serves `sam local invoke -e`, `make invoke` and the tests: keep it valid."""

import json
from datetime import datetime

import pytest
from lambda_support import sample_event_names
from pipeline_monitor_fakes import load_event, sns_message
from pydantic import BaseModel

from pipeline_monitor.models import (
    AlarmNotification,
    CloudWatchAlarmEvent,
    GlueCrawlerEvent,
    GlueJobEvent,
    LambdaDestinationRecord,
    SnsEvent,
    StepFunctionsExecutionEvent,
)
from pipeline_monitor.records import normalize

SAMPLES = sample_event_names("pipeline_monitor")

# sample -> (its message's model, service, state, severity)
EXPECTED: dict[str, tuple[type[BaseModel] | None, str, str, str]] = {
    "glue_job_failed.json": (GlueJobEvent, "glue-job", "FAILED", "error"),
    "glue_job_timeout.json": (GlueJobEvent, "glue-job", "TIMEOUT", "error"),
    "glue_job_succeeded.json": (GlueJobEvent, "glue-job", "SUCCEEDED", "info"),
    "glue_crawler_failed.json": (GlueCrawlerEvent, "glue-crawler", "FAILED", "error"),
    "stepfunctions_execution_failed.json": (
        StepFunctionsExecutionEvent,
        "stepfunctions",
        "FAILED",
        "error",
    ),
    "stepfunctions_execution_succeeded.json": (
        StepFunctionsExecutionEvent,
        "stepfunctions",
        "SUCCEEDED",
        "info",
    ),
    "cloudwatch_alarm.json": (CloudWatchAlarmEvent, "cloudwatch-alarm", "ALARM", "error"),
    "cloudwatch_alarm_notification.json": (
        AlarmNotification,
        "cloudwatch-alarm",
        "ALARM",
        "error",
    ),
    "lambda_destination_failure.json": (
        LambdaDestinationRecord,
        "lambda",
        "RetriesExhausted",
        "error",
    ),
    "unknown_event.json": (None, "unknown", "UNKNOWN", "warning"),
}


def test_corpus_holds_every_documented_case() -> None:
    # Given events/pipeline_monitor / Then it has exactly the documented samples
    assert set(SAMPLES) == set(EXPECTED)


@pytest.mark.parametrize("name", SAMPLES)
def test_every_sample_is_an_sns_event_with_one_record(name: str) -> None:
    # Given a sample / When parsed as what Lambda receives from SNS
    event = SnsEvent.model_validate(load_event(name))
    # Then it is one notification from the monitor topic
    [record] = event.Records
    assert record.Sns.Type == "Notification"
    assert record.Sns.TopicArn.startswith("arn:aws:sns:us-east-1:123456789012:")
    assert record.EventSubscriptionArn is not None
    assert record.EventSubscriptionArn.startswith(record.Sns.TopicArn + ":")


@pytest.mark.parametrize("name", [name for name in SAMPLES if EXPECTED[name][0] is not None])
def test_every_message_validates_against_its_typed_model(name: str) -> None:
    # Given a sample's SNS message / When validated with the model of its source
    model = EXPECTED[name][0]
    assert model is not None
    message = json.loads(sns_message(name))
    parsed = model.model_validate(message)
    # Then every field the model reads holds the message's own value (the typed models match
    # the real shapes: a renamed alias or a coerced value would differ here)
    read = parsed.model_dump(mode="json", by_alias=True, exclude_unset=True)
    assert read
    assert _same_values(read, message)


def _same_values(read: object, original: object) -> bool:
    """Whether every value in ``read`` equals ``original``'s at the same place (timestamps
    compared as instants, since a model may print one with a different offset spelling)."""
    if isinstance(read, dict):
        return isinstance(original, dict) and all(
            key in original and _same_values(value, original[key]) for key, value in read.items()
        )
    if isinstance(read, list):
        return (
            isinstance(original, list)
            and len(read) == len(original)
            and all(_same_values(a, b) for a, b in zip(read, original, strict=True))
        )
    if read != original and isinstance(read, str) and isinstance(original, str):
        try:
            return datetime.fromisoformat(read) == datetime.fromisoformat(original)
        except ValueError:
            return False
    return read == original


@pytest.mark.parametrize("name", SAMPLES)
def test_every_sample_normalizes_to_its_service_state_and_severity(name: str) -> None:
    # Given a sample
    sns = load_event(name)["Records"][0]["Sns"]
    # When normalized
    received = datetime.fromisoformat(sns["Timestamp"])
    record = normalize(sns["Message"], message_id=sns["MessageId"], received=received)
    # Then service, state and severity are the documented ones
    _, service, state, severity = EXPECTED[name]
    assert (record.service, record.state, record.severity) == (service, state, severity)


@pytest.mark.parametrize(
    "name", [name for name in SAMPLES if json.loads(sns_message(name)).get("detail-type")]
)
def test_eventbridge_messages_carry_the_envelope_fields(name: str) -> None:
    # Given an EventBridge event inside a sample / Then it has every envelope field
    message = json.loads(sns_message(name))
    assert set(message) == {
        "version",
        "id",
        "detail-type",
        "source",
        "account",
        "time",
        "region",
        "resources",
        "detail",
    }


def test_destination_record_has_the_failure_fields_lambda_sends() -> None:
    # Given the Lambda destination sample / Then it is an OnFailure record after retries
    record = json.loads(sns_message("lambda_destination_failure.json"))
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert {"errorMessage", "errorType", "stackTrace"} <= set(record["responsePayload"])
