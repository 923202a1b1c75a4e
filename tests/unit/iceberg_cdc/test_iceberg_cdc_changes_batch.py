"""ChangeReader over whole batches: records that fail alone never stop the records after them,
each failure carries its own sequence number, and keys come from Keys or the images."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from iceberg_cdc_fakes import StreamWriter, attribute, order, sequence_number

from iceberg_cdc.changes import (
    ChangeKind,
    ChangeReader,
    MalformedBatchError,
    StreamRecord,
    TtlPolicy,
    sequence_number_of,
)

type Record = dict[str, Any]


def _bad_envelope(record: Record) -> None:
    record["eventName"] = "UPSERT"


def _undecodable_key(record: Record) -> None:
    record["dynamodb"]["Keys"] = {"order_id": {"S": 5}}


def _key_of_wrong_type(record: Record) -> None:
    record["dynamodb"]["Keys"] = {"order_id": {"BOOL": True}}


def _no_keys(record: Record) -> None:
    record["dynamodb"]["Keys"] = {}


BAD_RECORDS: dict[str, Callable[[Record], None]] = {
    "not a stream record": _bad_envelope,
    "undecodable key": _undecodable_key,
    "key neither S, N nor B": _key_of_wrong_type,
    "no key attributes": _no_keys,
}


@pytest.mark.parametrize("spoil", BAD_RECORDS.values(), ids=list(BAD_RECORDS))
def test_a_bad_record_in_the_middle_does_not_stop_the_records_after_it(
    stream: StreamWriter, spoil: Callable[[Record], None]
) -> None:
    # Given a batch whose third record fails alone, followed by three good records
    records = [stream.insert(order(f"o-{n}")) for n in range(6)]
    spoil(records[2])
    # When read
    parsed = ChangeReader().read(records)
    # Then every other record is a change of its key, in order
    assert [dict(key.key)["order_id"] for key in parsed.keys] == ["o-0", "o-1", "o-3", "o-4", "o-5"]
    # And the bad record is reported by its exact sequence number, with its event id
    assert [(f.sequence_number, f.event_id) for f in parsed.failures] == [
        (sequence_number(records[2]), records[2]["eventID"])
    ]
    assert parsed.records == 6
    assert parsed.sequence_numbers == [sequence_number(record) for record in records]


def test_several_bad_records_are_each_reported_by_their_own_sequence_number(
    stream: StreamWriter,
) -> None:
    # Given bad records of every kind interleaved with good ones
    records = [stream.insert(order(f"o-{n}")) for n in range(9)]
    for index, spoil in zip((1, 3, 5, 7), BAD_RECORDS.values(), strict=True):
        spoil(records[index])
    # When read
    parsed = ChangeReader().read(records)
    # Then each bad record is one failure, in stream order; the good ones are all changes
    assert [f.sequence_number for f in parsed.failures] == [
        sequence_number(records[index]) for index in (1, 3, 5, 7)
    ]
    assert [dict(key.key)["order_id"] for key in parsed.keys] == [
        "o-0",
        "o-2",
        "o-4",
        "o-6",
        "o-8",
    ]


def test_an_ignored_ttl_removal_in_the_middle_does_not_stop_the_records_after_it(
    stream: StreamWriter,
) -> None:
    # Given TTL removals between user changes, with TTL_DELETES=ignore
    records = [
        stream.insert(order("A")),
        stream.remove(order("B"), ttl=True),
        stream.insert(order("C")),
        stream.remove(order("D"), ttl=True),
        stream.remove(order("E")),
    ]
    # When read
    parsed = ChangeReader(ttl_policy=TtlPolicy.IGNORE).read(records)
    # Then both TTL removals are counted and every later record is still a change
    assert parsed.ttl_ignored == 2
    assert [dict(key.key)["order_id"] for key in parsed.keys] == ["A", "C", "E"]
    assert parsed.failures == []


def test_a_record_whose_event_id_is_not_text_is_reported_without_one(stream: StreamWriter) -> None:
    # Given a record that is no stream record and whose eventID is a number
    record = stream.insert(order("A"))
    record["eventSource"] = "aws:kinesis"
    record["eventID"] = 7
    # When read / Then it is reported by its sequence number, with no event id
    (failure,) = ChangeReader().read([record]).failures
    assert (failure.sequence_number, failure.event_id) == (sequence_number(record), None)


def test_a_record_missing_a_configured_key_attribute_fails_alone(stream: StreamWriter) -> None:
    # Given KEY_COLUMNS naming an attribute one record has nowhere (neither Keys nor images)
    records = [
        stream.insert(order("A", line_no=Decimal(1))),
        stream.insert(order("B")),
        stream.insert(order("C", line_no=Decimal(3))),
    ]
    # When read
    parsed = ChangeReader(key_attributes=("order_id", "line_no")).read(records)
    # Then that record alone is reported, by its sequence number
    assert [f.sequence_number for f in parsed.failures] == [sequence_number(records[1])]
    assert [key.key for key in parsed.keys] == [
        (("order_id", "A"), ("line_no", Decimal(1))),
        (("order_id", "C"), ("line_no", Decimal(3))),
    ]


def test_a_removal_takes_a_key_attribute_from_its_old_image() -> None:
    # Given a REMOVE (no NewImage) whose configured range key is only in its OldImage
    writer = StreamWriter(keys=("order_id",))
    record = writer.remove({"order_id": "o-1", "line_no": Decimal(4)})
    # When read / Then the key is found in the OldImage
    (key,) = ChangeReader(key_attributes=("order_id", "line_no")).read([record]).keys
    assert key.key == (("order_id", "o-1"), ("line_no", Decimal(4)))
    assert key.final.kind is ChangeKind.DELETE


def test_a_key_attribute_outside_keys_is_taken_from_the_new_image_first() -> None:
    # Given a MODIFY whose configured key attribute differs between NewImage and OldImage
    writer = StreamWriter(keys=("order_id",))
    record = writer.modify(
        {"order_id": "o-1", "line_no": Decimal(2)}, old={"order_id": "o-1", "line_no": Decimal(1)}
    )
    # When read / Then the key has the new image's value
    (key,) = ChangeReader(key_attributes=("order_id", "line_no")).read([record]).keys
    assert key.key == (("order_id", "o-1"), ("line_no", Decimal(2)))


def test_an_undecodable_key_attribute_in_the_image_fails_the_record() -> None:
    # Given a configured key attribute held (badly) in the image only
    writer = StreamWriter(keys=("order_id",))
    record = writer.insert({"order_id": "o-1"})
    record["dynamodb"]["NewImage"]["line_no"] = {"N": "two"}
    # When read / Then the record fails alone, by its sequence number, naming the attribute
    parsed = ChangeReader(key_attributes=("order_id", "line_no")).read([record])
    assert [f.sequence_number for f in parsed.failures] == [sequence_number(record)]
    assert parsed.failures[0].reason.split(": ")[1] == "$.line_no"
    assert parsed.keys == []


def test_a_binary_key_is_a_key() -> None:
    # Given a table keyed by a binary attribute
    writer = StreamWriter(keys=("id",))
    records = [writer.insert({"id": b"\x01\x02"}), writer.modify({"id": b"\x01\x02", "v": "x"})]
    # When read / Then both records belong to one key holding the bytes
    (key,) = ChangeReader().read(records).keys
    assert key.key == (("id", b"\x01\x02"),)
    assert len(key.changes) == 2


def test_each_change_carries_its_records_identity(stream: StreamWriter) -> None:
    # Given an insert and a removal of one key
    records = [stream.insert(order("A")), stream.remove(order("A"))]
    # When read
    (key,) = ChangeReader().read(records).keys
    # Then each change names its key, its record's sequence number, event name and event id
    assert [(c.key, c.sequence_number, c.event_name, c.event_id) for c in key.changes] == [
        (key.key, sequence_number(records[0]), "INSERT", records[0]["eventID"]),
        (key.key, sequence_number(records[1]), "REMOVE", records[1]["eventID"]),
    ]
    assert [c.kind for c in key.changes] == [ChangeKind.UPSERT, ChangeKind.DELETE]
    assert key.changes[1].image is None


def test_the_earliest_sequence_number_compares_numbers_not_text(stream: StreamWriter) -> None:
    # Given two records of a key numbered 99 then 100 (shorter is earlier)
    records = [stream.insert(order("A")), stream.modify(order("A"))]
    records[0]["dynamodb"]["SequenceNumber"] = "99"
    records[1]["dynamodb"]["SequenceNumber"] = "100"
    # When read / Then the earliest is 99
    (key,) = ChangeReader().read(records).keys
    assert key.earliest_sequence_number == "99"


def test_only_invalid_records_before_the_last_are_superseded(stream: StreamWriter) -> None:
    # Given a key: invalid, good, invalid, good, invalid (final)
    records = [stream.modify(order("A")) for _ in range(5)]
    for index in (0, 2, 4):
        del records[index]["dynamodb"]["NewImage"]
    # When read
    (key,) = ChangeReader().read(records).keys
    # Then the two earlier invalid records are superseded; the final one is the key's state
    assert [c.sequence_number for c in key.superseded_invalid] == [
        sequence_number(records[0]),
        sequence_number(records[2]),
    ]
    assert key.final.kind is ChangeKind.INVALID


def test_a_key_removed_then_inserted_again_was_updated(stream: StreamWriter) -> None:
    # Given an existing item removed and put again within the batch
    records = [stream.remove(order("A")), stream.insert(order("A", status="new"))]
    # When read / Then the batch updated the row (it existed before the batch)
    (key,) = ChangeReader().read(records).keys
    assert key.net_effect == "updated"


@pytest.mark.parametrize(
    ("event_name", "identity", "is_ttl"),
    [
        ("REMOVE", {"type": "Service", "principalId": "dynamodb.amazonaws.com"}, True),
        ("REMOVE", None, False),
        ("REMOVE", {"type": "Service", "principalId": "lambda.amazonaws.com"}, False),
        ("REMOVE", {"type": "User", "principalId": "dynamodb.amazonaws.com"}, False),
        ("MODIFY", {"type": "Service", "principalId": "dynamodb.amazonaws.com"}, False),
    ],
)
def test_only_removals_by_dynamodbs_ttl_service_are_ttl_removals(
    stream: StreamWriter, event_name: str, identity: dict[str, str] | None, *, is_ttl: bool
) -> None:
    # Given a record with the event name and user identity / When parsed
    record = stream.modify(order("A"))
    record["eventName"] = event_name
    if identity is not None:
        record["userIdentity"] = identity
    # Then it is a TTL removal only when DynamoDB's service removed the item
    assert StreamRecord.model_validate(record).is_ttl_removal is is_ttl


def test_ttl_policy_applies_by_default(stream: StreamWriter) -> None:
    # Given a reader built without a TTL policy / When a TTL removal is read
    parsed = ChangeReader(("order_id",)).read([stream.remove(order("A"), ttl=True)])
    # Then it is a delete of the key
    assert [key.final.kind for key in parsed.keys] == [ChangeKind.DELETE]


def _undecodable_image_reason(stream: StreamWriter, name_length: int) -> str:
    record = stream.insert({"order_id": "A"})
    record["dynamodb"]["NewImage"]["a" * name_length] = {"N": "x"}
    (key,) = ChangeReader().read([record]).keys
    assert key.final.reason is not None
    return key.final.reason


def test_reasons_up_to_300_characters_are_kept_whole(stream: StreamWriter) -> None:
    # Given an undecodable image whose reason is exactly 300 characters (its length grows with
    # the bad attribute's name)
    overhead = len(_undecodable_image_reason(stream, 1)) - 1
    reason = _undecodable_image_reason(stream, 300 - overhead)
    # Then it is kept whole
    assert len(reason) == 300
    assert "a" * (300 - overhead) in reason
    assert not reason.endswith("...")


def test_longer_reasons_are_cut_to_300_characters(stream: StreamWriter) -> None:
    # Given an undecodable image whose reason would be 301 characters
    overhead = len(_undecodable_image_reason(stream, 1)) - 1
    whole = _undecodable_image_reason(stream, 300 - overhead)
    reason = _undecodable_image_reason(stream, 301 - overhead)
    # Then it is cut to 300 characters: its first 297, then an ellipsis
    untruncated = whole.replace("a" * (300 - overhead), "a" * (301 - overhead))
    assert reason == untruncated[:297] + "..."


@pytest.mark.parametrize(
    "number", ["1", "0" * 40, "9" * 40], ids=["one digit", "40 zeros", "40 nines"]
)
def test_sequence_numbers_of_1_to_40_digits_are_read(stream: StreamWriter, number: str) -> None:
    # Given a record whose sequence number has 1 to 40 digits
    record = stream.insert(order("A"))
    record["dynamodb"]["SequenceNumber"] = number
    # When read / Then it is a change known by that number
    parsed = ChangeReader().read([record])
    assert parsed.sequence_numbers == [number]
    assert parsed.keys[0].sequence_numbers == [number]
    assert sequence_number_of(record, 0) == number


@pytest.mark.parametrize(
    "number",
    ["1" * 41, "", "12a", " 12", 12, None],
    ids=["41 digits", "empty", "letter", "space", "a number", "null"],
)
def test_malformed_sequence_numbers_fail_the_invocation(stream: StreamWriter, number: Any) -> None:
    # Given a record whose sequence number is not 1 to 40 digits of text
    record = stream.insert(order("A"))
    record["dynamodb"]["SequenceNumber"] = number
    # When read / Then the whole batch is refused, naming the record's position in it
    with pytest.raises(MalformedBatchError, match=r"^record 1 "):
        ChangeReader().read([stream.insert(order("B")), record])
    with pytest.raises(MalformedBatchError, match=r"^record 5 "):
        sequence_number_of(record, 5)


@pytest.mark.parametrize(
    "raw",
    [[], {"dynamodb": "1234"}, {"dynamodb": {"Keys": {}}}, {}],
    ids=["not an object", "dynamodb not an object", "no SequenceNumber", "no dynamodb"],
)
def test_records_without_a_dynamodb_sequence_number_fail_the_invocation(raw: Any) -> None:
    # Given something that has no dynamodb.SequenceNumber / When read / Then the batch fails
    with pytest.raises(MalformedBatchError):
        ChangeReader().read([raw])


def test_a_record_without_keys_fails_alone_when_no_key_is_configured(
    stream: StreamWriter,
) -> None:
    # Given a record whose Keys is empty and no KEY_COLUMNS
    record = stream.insert(order("A"))
    record["dynamodb"]["Keys"] = {}
    # When read / Then it fails alone (the key cannot be known)
    parsed = ChangeReader().read([record])
    assert [f.sequence_number for f in parsed.failures] == [sequence_number(record)]
    assert parsed.keys == []


def test_keys_are_read_from_keys_before_the_image(stream: StreamWriter) -> None:
    # Given a record whose NewImage disagrees with its Keys on the key attribute
    record = stream.insert(order("A"))
    record["dynamodb"]["NewImage"]["order_id"] = attribute("Z")
    # When read / Then the key is the one of Keys
    (key,) = ChangeReader(("order_id",)).read([record]).keys
    assert key.key == (("order_id", "A"),)


def _spoil_image_number(record: Record) -> None:
    record["dynamodb"]["NewImage"]["amount"] = {"N": "12,5"}


def _missing_line_no(record: Record) -> None:
    del record["dynamodb"]["NewImage"]["line_no"]
    del record["dynamodb"]["Keys"]["line_no"]


@pytest.mark.parametrize(
    ("spoil", "where"),
    [
        (_key_of_wrong_type, "$.order_id"),
        (_undecodable_key, "$.Keys.order_id"),
        (_no_keys, "$.Keys"),
        (_spoil_image_number, "$.NewImage.amount"),
    ],
    ids=["key of a wrong type", "undecodable Keys", "empty Keys", "undecodable NewImage"],
)
def test_a_failure_says_where_the_bad_value_is(
    stream: StreamWriter, spoil: Callable[[Record], None], where: str
) -> None:
    # Given a record with a bad value
    record = stream.insert(order("A"))
    spoil(record)
    # When read
    parsed = ChangeReader().read([record])
    # Then its reason ("<problem>: <where>: <detail>") names the value's place in the record
    reasons = [f.reason for f in parsed.failures] + [k.final.reason or "" for k in parsed.keys]
    assert [reason.split(": ")[1] for reason in reasons] == [where]


def test_a_missing_key_attribute_failure_names_the_attribute() -> None:
    # Given KEY_COLUMNS naming an attribute a record lacks everywhere
    writer = StreamWriter(keys=("order_id", "line_no"))
    record = writer.insert({"order_id": "A", "line_no": Decimal(1)})
    _missing_line_no(record)
    # When read / Then its reason names the missing attribute as the place of the problem
    (failure,) = ChangeReader(("order_id", "line_no")).read([record]).failures
    assert failure.reason.split(": ")[1] == "$.line_no"
