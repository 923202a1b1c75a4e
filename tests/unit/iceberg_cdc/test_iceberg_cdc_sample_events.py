"""The events corpus serves `sam local invoke -e`, `make invoke` and the tests: keep it valid."""

import pytest
from iceberg_cdc_fakes import load_event
from lambda_support import sample_event_names

from iceberg_cdc.changes import ChangeReader, StreamRecord

SAMPLES = sample_event_names("iceberg_cdc")


def test_corpus_holds_the_documented_cases() -> None:
    # Given events/iceberg_cdc / Then every documented case is there
    assert set(SAMPLES) >= {
        "insert.json",
        "modify.json",
        "remove.json",
        "ttl_remove.json",
        "nested_types.json",
        "hostile_string.json",
        "mixed_batch.json",
    }


@pytest.mark.parametrize("name", SAMPLES)
def test_every_record_is_a_dynamodb_stream_record_with_new_and_old_images(name: str) -> None:
    # Given a sample / When each record is parsed with the function's model
    records = [StreamRecord.model_validate(raw) for raw in load_event(name)["Records"]]
    # Then each is a DynamoDB stream record of the demo table, with the images its kind carries
    assert records
    for record in records:
        assert record.eventSource == "aws:dynamodb"
        assert record.eventSourceARN is not None
        assert ":table/datalake-events-dev-cdc-orders/stream/" in record.eventSourceARN
        assert record.dynamodb.StreamViewType == "NEW_AND_OLD_IMAGES"
        assert (record.dynamodb.NewImage is not None) == (record.eventName != "REMOVE")
        assert (record.dynamodb.OldImage is not None) == (record.eventName != "INSERT")


@pytest.mark.parametrize("name", SAMPLES)
def test_every_sample_decodes_without_failures(name: str) -> None:
    # Given a sample / When read / Then no record fails and sequence numbers increase
    parsed = ChangeReader().read(load_event(name)["Records"])
    assert parsed.failures == []
    numbers = [int(number) for number in parsed.sequence_numbers]
    assert numbers == sorted(numbers)
    assert len(set(numbers)) == len(numbers)


def test_ttl_samples_carry_dynamodbs_service_identity() -> None:
    # Given the TTL removal sample / Then its record names DynamoDB's TTL service
    (record,) = load_event("ttl_remove.json")["Records"]
    assert record["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


def test_mixed_batch_changes_one_key_more_than_once() -> None:
    # Given the mixed batch / Then some key changes several times (collapse is exercised)
    keys = [
        r["dynamodb"]["Keys"]["order_id"]["S"] for r in load_event("mixed_batch.json")["Records"]
    ]
    assert max(keys.count(key) for key in keys) >= 2
