from decimal import Decimal

import pytest
from iceberg_cdc_fakes import StreamWriter, load_event, order, sequence_number

from iceberg_cdc.changes import (
    ChangeKind,
    ChangeReader,
    MalformedBatchError,
    StreamRecord,
    TtlPolicy,
)


def test_last_change_per_key_wins_in_stream_order(stream: StreamWriter) -> None:
    # Given A inserted, B inserted, A modified twice, B removed
    records = [
        stream.insert(order("A", status="placed")),
        stream.insert(order("B")),
        stream.modify(order("A", status="paid")),
        stream.modify(order("A", status="shipped")),
        stream.remove(order("B")),
    ]
    # When read
    parsed = ChangeReader().read(records)
    # Then each key appears once, in first-seen order, with its last change final
    assert [dict(key.key)["order_id"] for key in parsed.keys] == ["A", "B"]
    a, b = parsed.keys
    assert a.final.kind is ChangeKind.UPSERT
    assert a.final.image is not None
    assert a.final.image["status"] == "shipped"
    assert b.final.kind is ChangeKind.DELETE
    assert a.sequence_numbers == [sequence_number(records[i]) for i in (0, 2, 3)]


def test_key_history_reports_its_earliest_sequence_number_and_net_effect(
    stream: StreamWriter,
) -> None:
    # Given a key inserted then modified, one modified, one inserted then removed
    records = [
        stream.insert(order("new")),
        stream.modify(order("old")),
        stream.modify(order("new", status="paid")),
        stream.insert(order("gone")),
        stream.remove(order("gone")),
    ]
    # When read
    new, old, gone = ChangeReader().read(records).keys
    # Then the earliest record of each key is known, and what the batch did to it
    assert new.earliest_sequence_number == sequence_number(records[0])
    assert [new.net_effect, old.net_effect, gone.net_effect] == ["inserted", "updated", "deleted"]


def test_numeric_keys_equal_in_value_are_one_key(stream: StreamWriter) -> None:
    # Given a table keyed by a number, written as 1 then as 1.0
    writer = StreamWriter(keys=("id",))
    records = [
        writer.insert({"id": Decimal("1"), "v": "a"}),
        writer.modify({"id": Decimal("1.0"), "v": "b"}),
    ]
    # When read / Then both records belong to the same key
    assert len(ChangeReader().read(records).keys) == 1


def test_ttl_removals_are_applied_by_default(stream: StreamWriter) -> None:
    # Given an item DynamoDB's TTL process removed
    records = [stream.remove(order("expired"), ttl=True)]
    # When read with the default policy / Then it is a delete
    parsed = ChangeReader().read(records)
    assert parsed.keys[0].final.kind is ChangeKind.DELETE
    assert parsed.ttl_ignored == 0


def test_ttl_removals_are_dropped_when_ignored(stream: StreamWriter) -> None:
    # Given an insert followed by the TTL removal of the same item, and a user's removal
    records = [
        stream.insert(order("expired")),
        stream.remove(order("expired"), ttl=True),
        stream.remove(order("cancelled")),
    ]
    # When read with TTL_DELETES=ignore
    parsed = ChangeReader(ttl_policy=TtlPolicy.IGNORE).read(records)
    # Then the TTL removal is skipped (the row stays as inserted); the user's removal stays
    assert parsed.ttl_ignored == 1
    kinds = {dict(key.key)["order_id"]: key.final.kind for key in parsed.keys}
    assert kinds == {"expired": ChangeKind.UPSERT, "cancelled": ChangeKind.DELETE}


def test_configured_key_columns_take_values_from_keys_then_images() -> None:
    # Given KEY_COLUMNS naming the hash key and a range key held in the image only
    writer = StreamWriter(keys=("order_id",))
    records = [writer.insert({"order_id": "o-1", "line_no": Decimal(2), "sku": "A"})]
    # When read / Then the key is both values, in the configured order
    parsed = ChangeReader(key_attributes=("order_id", "line_no")).read(records)
    assert parsed.keys[0].key == (("order_id", "o-1"), ("line_no", Decimal(2)))


def test_hash_and_range_keys_from_the_records_keys() -> None:
    # Given a table with a hash and a range key and no KEY_COLUMNS
    writer = StreamWriter(keys=("order_id", "line_no"))
    records = [
        writer.insert({"order_id": "o-1", "line_no": Decimal(1)}),
        writer.insert({"order_id": "o-1", "line_no": Decimal(2)}),
    ]
    # When read / Then two keys, each made of both attributes
    parsed = ChangeReader().read(records)
    assert [key.key for key in parsed.keys] == [
        (("line_no", Decimal(1)), ("order_id", "o-1")),
        (("line_no", Decimal(2)), ("order_id", "o-1")),
    ]


def test_record_with_undecodable_image_is_an_invalid_change_of_its_key(
    stream: StreamWriter,
) -> None:
    # Given a record whose NewImage holds a bad number
    record = stream.insert(order("bad"))
    record["dynamodb"]["NewImage"]["amount"] = {"N": "12,5"}
    # When read / Then the key is known and its change is invalid, with the reason
    (key,) = ChangeReader().read([record]).keys
    assert key.final.kind is ChangeKind.INVALID
    assert "amount" in (key.final.reason or "")


def test_record_with_undecodable_key_fails_alone(stream: StreamWriter) -> None:
    # Given a good record and one whose Keys are not DynamoDB JSON
    good, bad = stream.insert(order("A")), stream.insert(order("B"))
    bad["dynamodb"]["Keys"] = {"order_id": {"S": 5}}
    # When read / Then the bad record is a failure of its own; the good one is a change
    parsed = ChangeReader().read([good, bad])
    assert [failure.sequence_number for failure in parsed.failures] == [sequence_number(bad)]
    assert len(parsed.keys) == 1


def test_record_that_is_not_a_stream_record_fails_alone(stream: StreamWriter) -> None:
    # Given a record with an unknown eventName
    record = stream.insert(order("A"))
    record["eventName"] = "UPSERT"
    # When read / Then it fails with the validation problem named
    (failure,) = ChangeReader().read([record]).failures
    assert "eventName" in failure.reason


def test_insert_without_new_image_is_invalid(stream: StreamWriter) -> None:
    # Given an INSERT from a KEYS_ONLY stream
    record = stream.insert(order("A"))
    del record["dynamodb"]["NewImage"]
    # When read / Then its change is invalid, saying which stream view is needed
    (key,) = ChangeReader().read([record]).keys
    assert "NEW_AND_OLD_IMAGES" in (key.final.reason or "")


def test_record_without_sequence_number_fails_the_invocation(stream: StreamWriter) -> None:
    # Given something that is not a DynamoDB stream record at all
    record = stream.insert(order("A"))
    del record["dynamodb"]["SequenceNumber"]
    # When read / Then the batch cannot be reported per record and raises
    with pytest.raises(MalformedBatchError):
        ChangeReader().read([record])


def test_ttl_sample_is_recognised_as_a_ttl_removal() -> None:
    # Given the ttl_remove sample / When parsed / Then it is a removal by DynamoDB's TTL
    record = StreamRecord.model_validate(load_event("ttl_remove.json")["Records"][0])
    assert record.is_ttl_removal
    assert not StreamRecord.model_validate(load_event("remove.json")["Records"][0]).is_ttl_removal
