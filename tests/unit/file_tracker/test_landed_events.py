import json

import boto3
from botocore.stub import Stubber
from eventbridge_fake import FakeEventsClient
from file_tracker_fakes import landed_keys, landed_publisher, object_created, object_keys

from datalake_shared.event_publisher import EventPublisher
from file_tracker.announcer import EventBridgeLandedPublisher
from file_tracker.service import KeyParts, TrackedFile


def test_file_landed_event_describes_the_file() -> None:
    # Given a tracked file and an EventBridge client that expects exactly one entry
    key = "sales/orders/LOAD00000001.parquet"
    file = TrackedFile.from_event(
        object_created(key), KeyParts("sales", "orders", "LOAD00000001.parquet")
    )
    client = boto3.client("events")
    expected_detail = {
        "source_table": "sales.orders",
        "file_id": file.file_id,
        "bucket": "datalake-staging-example",
        "key": key,
        "size": 1024,
        "load_type": "full",
        "event_time": "2026-11-22T10:15:00Z",
        "schema_name": "sales",
        "table_name": "orders",
    }
    publisher = EventBridgeLandedPublisher(
        EventPublisher(component="file-tracker", bus_name="datalake-bus", client=client)
    )
    with Stubber(client) as stub:
        stub.add_response(
            "put_events",
            {"FailedEntryCount": 0, "Entries": [{"EventId": "1"}]},
            {
                "Entries": [
                    {
                        "Source": "datalake-events.file-tracker",
                        "DetailType": "File Landed",
                        "Detail": json.dumps(expected_detail, separators=(",", ":")),
                        "EventBusName": "datalake-bus",
                        "Resources": [f"arn:aws:s3:::datalake-staging-example/{key}"],
                    }
                ]
            },
        )
        # When it is announced
        failed = publisher.publish_landed_batch([file])
        # Then the one expected PutEvents call was made and nothing failed
        stub.assert_no_pending_responses()
    assert failed == {}


def test_publisher_for_bus_targets_that_bus_lazily() -> None:
    # Given a publisher built for a bus / When nothing was published yet
    publisher = EventBridgeLandedPublisher.for_bus("datalake-bus")
    # Then it names the bus and the component, and has created no AWS client
    assert (publisher.publisher.bus_name, publisher.publisher.source) == (
        "datalake-bus",
        "datalake-events.file-tracker",
    )
    assert "client" not in vars(publisher.publisher)


def test_rejected_entries_are_returned_by_file_id() -> None:
    # Given three files and EventBridge rejecting the middle one's entry
    keys = object_keys(3)
    files = [
        TrackedFile.from_event(object_created(key), KeyParts("sales", "orders", key))
        for key in keys
    ]
    events = FakeEventsClient(rejections={keys[1]: 1})
    # When they are announced
    failed = landed_publisher(events).publish_landed_batch(files)
    # Then only that file is returned, with EventBridge's error, and one call carried all three
    assert failed == {files[1].file_id: "InternalFailure: try again"}
    assert [len(call) for call in events.calls] == [3]
    assert landed_keys(events) == [keys[0], keys[2]]
