"""The events corpus serves `sam local invoke -e`, `make invoke` and the tests: keep it valid."""

import pytest
from lambda_support import sample_event_names
from object_task_scheduler_fakes import BUCKET, load_event
from sqs_samples import md5_of_body, validation_outcomes

from datalake_shared.s3_events import S3ObjectEventSqsRecord

SAMPLES = sample_event_names("object_task_scheduler")
MALFORMED = "malformed_record.json"


def test_corpus_holds_the_documented_cases() -> None:
    # Given events/object_task_scheduler / Then every documented case is there
    assert set(SAMPLES) == {
        "object_created.json",
        "two_objects.json",
        "folder_marker.json",
        "outside_prefix.json",
        MALFORMED,
    }


@pytest.mark.parametrize("name", [name for name in SAMPLES if name != MALFORMED])
def test_every_record_parses_as_an_object_created_event_of_the_dataset_bucket(name: str) -> None:
    # Given a sample SQS batch / When each record is parsed with the handler's model
    parsed = [S3ObjectEventSqsRecord.model_validate(r) for r in load_event(name)["Records"]]
    # Then each is an S3 "Object Created" event of the dataset bucket
    assert parsed
    assert {(p.body.source, p.body.detail_type) for p in parsed} == {("aws.s3", "Object Created")}
    assert {p.body.detail.bucket.name for p in parsed} == {BUCKET}


def test_malformed_sample_has_exactly_one_poison_record() -> None:
    # Given the malformed sample / When each record is parsed / Then only the second fails
    records = load_event(MALFORMED)["Records"]
    assert validation_outcomes(S3ObjectEventSqsRecord, records) == ["ok", "invalid"]


@pytest.mark.parametrize("name", SAMPLES)
def test_md5_of_body_matches_the_body(name: str) -> None:
    # Given a sample / Then each record's md5OfBody is that of its body, as SQS computes it
    for record in load_event(name)["Records"]:
        assert record["md5OfBody"] == md5_of_body(record["body"])


@pytest.mark.parametrize("name", SAMPLES)
def test_message_ids_are_distinct_within_a_batch(name: str) -> None:
    # Given a sample / Then no message id repeats (a batch response names records by it)
    ids = [record["messageId"] for record in load_event(name)["Records"]]
    assert len(ids) == len(set(ids))
