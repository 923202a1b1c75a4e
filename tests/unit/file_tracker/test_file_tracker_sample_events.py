"""The events corpus serves `sam local invoke -e`, `make invoke` and the tests: keep it valid."""

import json

import pytest
from file_tracker_fakes import load_event
from lambda_support import sample_event_names
from sqs_samples import md5_of_body, redelivery_problems, validation_outcomes

from datalake_shared.s3_events import S3ObjectEventSqsRecord

SAMPLES = sample_event_names("file_tracker")
MALFORMED = "malformed_record.json"


def test_corpus_holds_the_documented_cases() -> None:
    # Given events/file_tracker / Then every documented case is there
    assert set(SAMPLES) >= {
        "sqs_batch.json",
        "redelivery.json",
        "unmatched_key.json",
        "folder_marker.json",
        MALFORMED,
    }


@pytest.mark.parametrize("name", [name for name in SAMPLES if name != MALFORMED])
def test_every_record_parses_as_an_s3_object_created_sqs_record(name: str) -> None:
    # Given a sample SQS batch
    records = load_event(name)["Records"]
    # When each record is parsed with the handler's model
    parsed = [S3ObjectEventSqsRecord.model_validate(record) for record in records]
    # Then each carries an S3 "Object Created" event from the example bucket
    assert parsed
    assert {(p.body.source, p.body.detail_type) for p in parsed} == {("aws.s3", "Object Created")}
    assert {p.body.detail.bucket.name for p in parsed} == {"datalake-staging-example"}


def test_malformed_sample_has_exactly_one_poison_record() -> None:
    # Given the malformed sample
    records = load_event(MALFORMED)["Records"]
    # When each record is parsed
    outcomes = validation_outcomes(S3ObjectEventSqsRecord, records)
    # Then the first is valid and the second is not
    assert outcomes == ["ok", "invalid"]


@pytest.mark.parametrize("name", SAMPLES)
def test_md5_of_body_matches_the_body(name: str) -> None:
    # Given a sample / Then each record's md5OfBody is that of its body, as SQS computes it
    for record in load_event(name)["Records"]:
        assert record["md5OfBody"] == md5_of_body(record["body"])


def test_redelivery_repeats_the_first_two_messages_with_new_receipts() -> None:
    # Given the original batch and its redelivery
    original = load_event("sqs_batch.json")["Records"][:2]
    again = load_event("redelivery.json")["Records"]
    # Then the messages and bodies are the same, the receipts new, the receive count 2
    assert redelivery_problems(original, again) == []


def test_sample_bodies_are_compact_eventbridge_json() -> None:
    # Given the first sample record / Then its body is an EventBridge envelope with S3 detail
    body = json.loads(load_event("sqs_batch.json")["Records"][0]["body"])
    assert set(body) >= {"version", "id", "detail-type", "source", "account", "time", "region"}
    assert set(body["detail"]["object"]) == {"key", "size", "etag", "version-id", "sequencer"}
