"""The events corpus serves `sam local invoke -e`, `make invoke` and the tests: keep it valid."""

import pytest
from lambda_support import sample_event_names
from pipeline_metrics_fakes import load_event
from sqs_samples import md5_of_body, redelivery_problems, validation_outcomes

from pipeline_metrics.models import CodePipelineSqsRecord

SAMPLES = sample_event_names("pipeline_metrics")
UNKNOWN = "unknown_shapes.json"


def test_corpus_holds_the_documented_cases() -> None:
    # Given events/pipeline_metrics / Then every documented case is there
    assert set(SAMPLES) == {
        "execution_succeeded.json",
        "execution_failed.json",
        "approval_rejected.json",
        "execution_superseded.json",
        "execution_canceled.json",
        "duplicate_event.json",
        "across_midnight.json",
        "redelivery.json",
        UNKNOWN,
    }


@pytest.mark.parametrize("name", [name for name in SAMPLES if name != UNKNOWN])
def test_every_record_parses_as_a_codepipeline_state_change(name: str) -> None:
    # Given a sample SQS batch
    records = load_event(name)["Records"]
    # When each record is parsed with the handler's model
    parsed = [CodePipelineSqsRecord.model_validate(record) for record in records]
    # Then each carries a CodePipeline event of the example account
    assert parsed
    assert {p.body.source for p in parsed} == {"aws.codepipeline"}
    assert {p.body.account for p in parsed} == {"123456789012"}


def test_unknown_shapes_sample_has_one_good_record_then_two_unknown() -> None:
    # Given the unknown-shapes sample
    records = load_event(UNKNOWN)["Records"]
    # When each record is parsed
    outcomes = validation_outcomes(CodePipelineSqsRecord, records)
    # Then a stage event parses; the CloudTrail API call and the typeless action do not
    assert outcomes == ["ok", "invalid", "invalid"]


def test_samples_cover_every_level_and_the_documented_states() -> None:
    # Given every parseable sample record
    parsed = [
        CodePipelineSqsRecord.model_validate(record).body
        for name in SAMPLES
        if name != UNKNOWN
        for record in load_event(name)["Records"]
    ]
    # Then pipeline, stage and action changes appear in every state the issue lists
    seen = {(event.detail_type.split()[1], event.detail.state) for event in parsed}
    for level in ("Pipeline", "Stage", "Action"):
        assert {state for lvl, state in seen if lvl == level} >= {
            "STARTED",
            "SUCCEEDED",
            "FAILED",
            "CANCELED",
        }
    assert ("Pipeline", "SUPERSEDED") in seen


@pytest.mark.parametrize("name", SAMPLES)
def test_md5_of_body_matches_the_body(name: str) -> None:
    # Given a sample / Then each record's md5OfBody is that of its body, as SQS computes it
    for record in load_event(name)["Records"]:
        assert record["md5OfBody"] == md5_of_body(record["body"])


def test_redelivery_repeats_the_first_three_messages_with_new_receipts() -> None:
    # Given the original batch and its redelivery
    original = load_event("execution_succeeded.json")["Records"][:3]
    again = load_event("redelivery.json")["Records"]
    # Then the messages and bodies are the same, the receipts new, the receive count 2
    assert redelivery_problems(original, again) == []


def test_duplicate_sample_is_one_event_in_two_messages() -> None:
    # Given the duplicate-event sample / Then two message ids carry one body
    records = load_event("duplicate_event.json")["Records"]
    assert len({r["messageId"] for r in records}) == 2
    assert len({r["body"] for r in records}) == 1
