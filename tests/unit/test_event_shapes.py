"""datalake_shared.event_shapes: an event of another service is rejected whole, naming the shape
expected and the one that came; a batch of the right source passes through."""

from typing import Any

import pytest
from generated_events import generated_events
from hypothesis import given
from hypothesis import strategies as st
from lambda_support import CapturedLogs, MetricsReader
from pydantic import BaseModel

from datalake_shared.event_shapes import (
    SQS_BATCH,
    UNEXPECTED_EVENTS_METRIC,
    EventShapeError,
    batch_records,
    describe_event,
    sqs_records,
    validated_event,
)
from datalake_shared.observability import metrics

SHAPES = generated_events()
REJECTION_LOG = "Event of an unexpected shape rejected"
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


class _CadenceRequest(BaseModel):
    cadence: str


@pytest.mark.parametrize(
    ("shape", "described"),
    [
        ("sqs/receive-message", "1 record(s) from aws:sqs"),
        ("dynamodb/update", "3 record(s) from aws:dynamodb"),
        ("sns/notification", "1 record(s) from aws:sns"),
        ("s3/put", "1 record(s) from aws:s3"),
        ("cloudwatch/logs", "a CloudWatch Logs subscription event"),
        ("codepipeline/job", "a CodePipeline job event"),
        ("apigateway/aws-proxy", "an API Gateway or ALB request"),
    ],
)
def test_a_generated_event_is_described_by_its_service(shape: str, described: str) -> None:
    # Given an event the SAM CLI generates; When described; Then its service is named
    assert describe_event(SHAPES[shape]) == described


def test_an_eventbridge_event_is_described_by_its_source_and_detail_type() -> None:
    event = SHAPES["cloudwatch/scheduled-event"]

    assert describe_event(event) == (
        "an EventBridge event (source aws.events, detail-type Scheduled Event)"
    )


def test_an_object_of_many_keys_names_the_first_eight_and_counts_the_rest() -> None:
    event = {f"k{n:02}": n for n in range(11)}

    assert describe_event(event) == (
        "an object with keys k00, k01, k02, k03, k04, k05, k06, k07 and 3 more"
    )


@given(JSON_VALUES)
def test_any_json_value_is_described_in_one_short_line(event: Any) -> None:
    # Given any JSON value; When described; Then one bounded line, never a crash
    described = describe_event(event)

    assert "\n" not in described.replace("\\n", "")
    assert len(described) < 800


def test_an_sqs_batch_passes_with_its_records() -> None:
    event = SHAPES["sqs/receive-message"]

    assert batch_records(event, source="aws:sqs", expected=SQS_BATCH) == event["Records"]


@pytest.mark.parametrize(
    "shape", ["s3/put", "dynamodb/update", "cloudwatch/logs", "sns/notification"]
)
def test_an_event_of_another_service_is_rejected_naming_both_shapes(
    shape: str, logs: CapturedLogs, emitted_metrics: MetricsReader
) -> None:
    # Given an event that is not an SQS batch
    event = SHAPES[shape]

    # When an SQS consumer reads its records
    with pytest.raises(EventShapeError) as raised:
        batch_records(event, source="aws:sqs", expected=SQS_BATCH)
    metrics.flush_metrics()

    # Then the error names what was expected and what came, is logged and counted
    assert str(raised.value).startswith(f"expected {SQS_BATCH}; got {describe_event(event)}")
    rejection = [
        r for r in logs.records() if r["message"] == "Event of an unexpected shape rejected"
    ]
    assert rejection[0]["expected"] == SQS_BATCH
    assert emitted_metrics.totals()[UNEXPECTED_EVENTS_METRIC] == 1


def test_a_batch_with_one_record_of_another_source_is_rejected_naming_it() -> None:
    event = {"Records": [*SHAPES["sqs/receive-message"]["Records"], *SHAPES["s3/put"]["Records"]]}

    with pytest.raises(EventShapeError, match=r"Records\[1\] is not from aws:sqs"):
        batch_records(event, source="aws:sqs", expected=SQS_BATCH)


@pytest.mark.parametrize("event", [{"Records": []}, {"Records": "x"}, [], None, "text"])
def test_no_records_is_rejected(event: Any) -> None:
    with pytest.raises(EventShapeError):
        batch_records(event, source="aws:sqs", expected=SQS_BATCH)


def test_a_model_that_does_not_fit_is_rejected_with_its_fields() -> None:
    with pytest.raises(EventShapeError, match=r"cadence: Field required"):
        validated_event(_CadenceRequest, {"run_id": "r"}, "a cadence request")


def test_a_model_that_fits_is_returned() -> None:
    assert validated_event(_CadenceRequest, {"cadence": "hourly"}, "x").cadence == "hourly"


def test_a_batch_of_many_sources_names_a_few_in_one_short_line() -> None:
    # Given a thousand records, each from its own long-named source
    event = {"Records": [{"eventSource": f"{n:04}" + "s" * 80} for n in range(1000)]}
    # When described / Then a few sources are named, cut short, and the rest counted
    described = describe_event(event)
    assert described.startswith("1000 record(s) from 0000ss")
    assert described.endswith(" and 992 more")
    assert len(described) < 800


@pytest.mark.parametrize(
    ("missing", "problem"),
    [("messageId", "Records[0] has no text messageId"), ("body", "Records[0] has no text body")],
)
def test_an_sqs_record_without_its_id_or_body_rejects_the_batch(missing: str, problem: str) -> None:
    # Given an SQS record lacking what a batch response and a parser need (never from AWS)
    record = dict(SHAPES["sqs/receive-message"]["Records"][0])
    del record[missing]
    # When its batch is read / Then the whole batch is rejected, naming the field
    with pytest.raises(EventShapeError) as raised:
        sqs_records({"Records": [record]})
    assert raised.value.problem == problem
