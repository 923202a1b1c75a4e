import json

import boto3
from botocore.stub import Stubber
from file_tracker_fakes import object_created
from file_tracking import KeyParts, TrackedFile
from landed_events import EventBridgeLandedPublisher

from datalake_shared.event_publisher import EventPublisher


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
        publisher.publish_landed(file)
        # Then the one expected PutEvents call was made
        stub.assert_no_pending_responses()


def test_publisher_for_bus_targets_that_bus_lazily() -> None:
    # Given a publisher built for a bus / When nothing was published yet
    publisher = EventBridgeLandedPublisher.for_bus("datalake-bus")
    # Then it names the bus and the component, and has created no AWS client
    assert (publisher.publisher.bus_name, publisher.publisher.source) == (
        "datalake-bus",
        "datalake-events.file-tracker",
    )
    assert "client" not in vars(publisher.publisher)
