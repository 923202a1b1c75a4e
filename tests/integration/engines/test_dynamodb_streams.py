"""Stream records of a stream-enabled template table (CdcSourceTable, NEW_AND_OLD_IMAGES) read
from DynamoDB Local's Streams API, put in the shape Lambda delivers them, and decoded by the
production decoder of functions/iceberg_cdc: INSERT, MODIFY and REMOVE with every attribute type.

DynamoDB Local 3.3.1 writes an empty map in a stream image as ``{}`` instead of ``{"M": {}}``
(awslabs/amazon-dynamodb-local-samples#37); AWS writes ``{"M": {}}``. The records are repaired
here (``as_aws_writes_it``), never in the decoder; a test notices when the emulator is fixed.
"""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from mypy_boto3_dynamodb import DynamoDBClient
from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

from iceberg_cdc.attribute_values import DecodeError, decode_item
from iceberg_cdc.changes import ChangeKind, ChangeReader, ParsedBatch
from local_runtime.bridges.dynamodb_streams import lambda_stream_record

REGION = "us-east-1"

ITEM: dict[str, Any] = {
    "order_id": {"S": "o-1"},
    "customer": {"S": "Zoë 🚀"},
    "amount": {"N": "1234.50"},
    "huge": {"N": "12345678901234567890123456789012345678"},
    "tiny": {"N": "-1E-130"},
    "signature": {"B": b"\x00\xffbinary"},
    "is_gift": {"BOOL": True},
    "note": {"NULL": True},
    "tags": {"SS": ["b", "a"]},
    "sizes": {"NS": ["3", "1.5"]},
    "blobs": {"BS": [b"\x01", b"\x02"]},
    "lines": {"L": [{"S": "x"}, {"N": "2"}, {"L": []}, {"M": {"k": {"BOOL": False}}}]},
    "address": {"M": {"city": {"S": "Paris"}, "geo": {"M": {"lat": {"N": "48.85"}}}}},
    "empty_list": {"L": []},
    "empty_map": {"M": {}},
}
DECODED: dict[str, Any] = {
    "order_id": "o-1",
    "customer": "Zoë 🚀",
    "amount": Decimal("1234.5"),
    "huge": Decimal("12345678901234567890123456789012345678"),
    "tiny": Decimal("-1E-130"),
    "signature": b"\x00\xffbinary",
    "is_gift": True,
    "note": None,
    "tags": frozenset({"a", "b"}),
    "sizes": frozenset({Decimal("3"), Decimal("1.5")}),
    "blobs": frozenset({b"\x01", b"\x02"}),
    "lines": ["x", Decimal(2), [], {"k": False}],
    "address": {"city": "Paris", "geo": {"lat": Decimal("48.85")}},
    "empty_list": [],
    "empty_map": {},
}


@pytest.fixture
def source_table(template_table: Callable[[str], str]) -> str:
    return template_table("CdcSourceTable")


def stream_records(
    dynamodb: DynamoDBClient, streams: DynamoDBStreamsClient, table: str
) -> list[dict[str, Any]]:
    """Every record of the table's stream, oldest first, as Lambda would deliver them."""
    arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    records: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        ).get("ShardIterator")
        while iterator:
            page = streams.get_records(ShardIterator=iterator)
            records.extend(lambda_stream_record(r, arn, REGION) for r in page["Records"])
            if not page["Records"]:
                break
            iterator = page.get("NextShardIterator")
    return records


def as_aws_writes_it(value: Any) -> Any:
    """The record with DynamoDB Local's ``{}`` empty maps written as AWS writes them."""
    if isinstance(value, dict):
        if value == {}:
            return {"M": {}}
        return {name: as_aws_writes_it(member) for name, member in value.items()}
    if isinstance(value, list):
        return [as_aws_writes_it(member) for member in value]
    return value


def repaired(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for record in records:
        change = record["dynamodb"]
        for image in ("Keys", "NewImage", "OldImage"):
            if image in change:
                change[image] = {n: as_aws_writes_it(v) for n, v in change[image].items()}
    return records


def read_changes(
    dynamodb: DynamoDBClient, streams: DynamoDBStreamsClient, table: str
) -> tuple[list[dict[str, Any]], ParsedBatch]:
    records = repaired(stream_records(dynamodb, streams, table))
    return records, ChangeReader().read(records)


def test_an_insert_with_every_attribute_type_decodes_exactly(
    dynamodb: DynamoDBClient, dynamodb_streams: DynamoDBStreamsClient, source_table: str
) -> None:
    # Given an item holding every DynamoDB type, nested containers and extreme numbers
    dynamodb.put_item(TableName=source_table, Item=ITEM)
    # When its stream record is read and decoded
    records, batch = read_changes(dynamodb, dynamodb_streams, source_table)
    # Then it is one INSERT whose image decodes to the exact values written
    assert [r["eventName"] for r in records] == ["INSERT"]
    assert batch.failures == []
    [key] = batch.keys
    assert key.key == (("order_id", "o-1"),)
    [change] = key.changes
    assert change.kind is ChangeKind.UPSERT
    assert change.image == DECODED


def test_a_modify_carries_both_images_decoded(
    dynamodb: DynamoDBClient, dynamodb_streams: DynamoDBStreamsClient, source_table: str
) -> None:
    # Given the item, then an update changing types and removing attributes
    dynamodb.put_item(TableName=source_table, Item=ITEM)
    dynamodb.update_item(
        TableName=source_table,
        Key={"order_id": {"S": "o-1"}},
        # Every name aliased: DynamoDB reserves many words ("lines" among them).
        UpdateExpression=(
            "SET #amount = :amount, #tags = :tags, #note = :note REMOVE #blobs, #lines"
        ),
        ExpressionAttributeNames={
            name: name[1:] for name in ("#amount", "#tags", "#note", "#blobs", "#lines")
        },
        ExpressionAttributeValues={
            ":amount": {"S": "12.30"},
            ":tags": {"L": [{"S": "z"}]},
            ":note": {"M": {"by": {"S": "ops"}}},
        },
    )
    # When the records are read
    records, batch = read_changes(dynamodb, dynamodb_streams, source_table)
    # Then the MODIFY's old image is the insert's, and its new image the update's
    modify = records[1]
    assert (modify["eventName"], modify["dynamodb"]["StreamViewType"]) == (
        "MODIFY",
        "NEW_AND_OLD_IMAGES",
    )
    assert decode_item(modify["dynamodb"]["OldImage"]) == DECODED
    expected = {k: v for k, v in DECODED.items() if k not in ("blobs", "lines")}
    expected.update(amount="12.30", tags=["z"], note={"by": "ops"})
    [key] = batch.keys
    assert [c.event_name for c in key.changes] == ["INSERT", "MODIFY"]
    assert key.final.image == expected
    assert key.net_effect == "inserted"


def test_a_remove_is_the_keys_delete(
    dynamodb: DynamoDBClient, dynamodb_streams: DynamoDBStreamsClient, source_table: str
) -> None:
    # Given an item inserted, then deleted
    dynamodb.put_item(TableName=source_table, Item=ITEM)
    dynamodb.delete_item(TableName=source_table, Key={"order_id": {"S": "o-1"}})
    # When read
    records, batch = read_changes(dynamodb, dynamodb_streams, source_table)
    # Then the REMOVE keeps the old image, and the key's last change is its deletion
    remove = records[-1]
    assert remove["eventName"] == "REMOVE"
    assert "NewImage" not in remove["dynamodb"]
    assert decode_item(remove["dynamodb"]["OldImage"]) == DECODED
    [key] = batch.keys
    assert (key.final.kind, key.net_effect) == (ChangeKind.DELETE, "deleted")
    assert key.sequence_numbers == sorted(key.sequence_numbers, key=int)


def test_changes_of_several_items_keep_stream_order_per_key(
    dynamodb: DynamoDBClient, dynamodb_streams: DynamoDBStreamsClient, source_table: str
) -> None:
    # Given two items, each written twice, interleaved
    for version in (1, 2):
        for order in ("o-1", "o-2"):
            dynamodb.put_item(
                TableName=source_table,
                Item={"order_id": {"S": order}, "version": {"N": str(version)}},
            )
    # When read / Then each key's last change is its last write
    _, batch = read_changes(dynamodb, dynamodb_streams, source_table)
    finals = {key.key: key.final.image for key in batch.keys}
    assert finals == {
        (("order_id", "o-1"),): {"order_id": "o-1", "version": Decimal(2)},
        (("order_id", "o-2"),): {"order_id": "o-2", "version": Decimal(2)},
    }


def test_dynamodb_local_still_writes_empty_maps_as_empty_objects(
    dynamodb: DynamoDBClient, dynamodb_streams: DynamoDBStreamsClient, source_table: str
) -> None:
    # Given an item with an empty map
    dynamodb.put_item(
        TableName=source_table, Item={"order_id": {"S": "o-1"}, "empty_map": {"M": {}}}
    )
    # When its record is read without the repair
    [record] = stream_records(dynamodb, dynamodb_streams, source_table)
    # Then the emulator's quirk is still there (when this fails, drop as_aws_writes_it), and
    # the production decoder rightly refuses it: AWS never writes it
    assert record["dynamodb"]["NewImage"]["empty_map"] == {}
    with pytest.raises(DecodeError):
        decode_item(record["dynamodb"]["NewImage"])
