"""File tracking end to end on the deployed template (local runtime on moto)."""

import json

from local_runtime import LocalRuntime
from local_runtime.activity import emitted_metrics
from tests.integration.conftest import queue_depth, tracker_items

CDC_KEY = "sales/orders/2026/11/23/20261123-101500123.csv"
FULL_LOAD_KEY = "sales/orders/LOAD00000001.csv"


def land(runtime: LocalRuntime, key: str, body: bytes = b"I,1,2026-11-23,9.99\n") -> str:
    bucket = runtime.outputs["StagingBucketName"]
    version = runtime.s3.put_object(Bucket=bucket, Key=key, Body=body)["VersionId"]
    return version


def test_landed_file_travels_from_s3_through_eventbridge_and_sqs_into_the_tracker(
    runtime: LocalRuntime,
) -> None:
    # Given the deployed template
    # When DMS writes a CDC file to the staging bucket and the event graph settles
    version_id = land(runtime, CDC_KEY)
    runtime.settle()

    # Then the rule routed it to the queue, the queue fed the function...
    assert list(runtime.activity.routes()) == [
        ("rule StagingObjectCreatedRule", runtime.outputs["FileTrackerQueueUrl"].rsplit("/", 1)[-1])
    ]
    [invocation] = runtime.invocations
    assert invocation.function == "FileTrackerFunction"
    assert invocation.trigger == "queue FileTrackerQueue"
    assert invocation.response == {"batchItemFailures": []}
    # ...and the tracker holds the file, pending, with what the batch planner needs
    [item] = tracker_items(runtime)
    assert item["source_table"] == "sales.orders"
    assert item["key"] == CDC_KEY
    assert item["version_id"] == version_id
    assert item["load_type"] == "cdc"
    assert item["status"] == "raw_file_landed"
    assert item["pending_status"] == "raw_file_landed"
    assert item["size"] == str(len(b"I,1,2026-11-23,9.99\n"))


def test_full_load_and_cdc_files_are_classified(runtime: LocalRuntime) -> None:
    # Given a DMS full-load file and a CDC file of the same table
    land(runtime, FULL_LOAD_KEY)
    land(runtime, CDC_KEY)

    # When they are tracked
    runtime.settle()

    # Then each carries its load type
    load_types = {item["key"]: item["load_type"] for item in tracker_items(runtime, "sales.orders")}
    assert load_types == {FULL_LOAD_KEY: "full", CDC_KEY: "cdc"}


def test_redelivered_event_leaves_exactly_one_item_per_file(runtime: LocalRuntime) -> None:
    # Given a tracked file
    land(runtime, CDC_KEY)
    runtime.settle()
    [first] = tracker_items(runtime)

    # When EventBridge delivers the same event twice more (at-least-once)
    event = runtime.activity.routed[0].event
    for _ in range(2):
        runtime.sqs.send_message(
            QueueUrl=runtime.outputs["FileTrackerQueueUrl"], MessageBody=json.dumps(event)
        )
    runtime.settle()

    # Then the tracker still has one item, untouched, and the duplicates were counted
    assert tracker_items(runtime) == [first]
    duplicates = sum(emitted_metrics(i.logs)["DuplicatesSkipped"] for i in runtime.invocations)
    assert duplicates == 2


def test_new_version_of_the_same_key_is_a_new_file(runtime: LocalRuntime) -> None:
    # Given a file that DMS rewrites under the same key (versioned bucket)
    land(runtime, CDC_KEY, b"I,1\n")
    land(runtime, CDC_KEY, b"I,1\nU,1\n")

    # When both writes are tracked
    runtime.settle()

    # Then both versions are pending: neither overwrote the other
    assert len(tracker_items(runtime, "sales.orders")) == 2


def test_poison_message_is_retried_then_dead_lettered_while_good_ones_are_stored(
    runtime: LocalRuntime,
) -> None:
    # Given a batch with a good event and a message that is not an S3 event at all
    queue_url = runtime.outputs["FileTrackerQueueUrl"]
    poison = json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"})
    runtime.sqs.send_message(QueueUrl=queue_url, MessageBody=poison)
    land(runtime, CDC_KEY)

    # When the graph settles
    runtime.settle()

    # Then the good file is stored...
    assert [item["key"] for item in tracker_items(runtime)] == [CDC_KEY]
    # ...the poison message was reported as a batch item failure on every receive...
    max_receive = int(
        json.loads(
            runtime.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["RedrivePolicy"])[
                "Attributes"
            ]["RedrivePolicy"]
        )["maxReceiveCount"]
    )
    failures = [i for i in runtime.invocations if i.failed_records]
    assert len(failures) == max_receive
    assert all(i.failed_records == 1 for i in failures)
    # ...and after maxReceiveCount receives it sits in the DLQ, not in the queue
    assert queue_depth(runtime, "FileTrackerQueueUrl") == 0
    dead = runtime.sqs.receive_message(QueueUrl=runtime.outputs["FileTrackerDLQUrl"])["Messages"]
    assert [message["Body"] for message in dead] == [poison]


def test_folder_markers_and_empty_objects_are_ignored(runtime: LocalRuntime) -> None:
    # Given a folder marker and a zero-byte object
    land(runtime, "sales/orders/2026/11/23/", b"")
    land(runtime, "sales/orders/2026/11/23/_SUCCESS", b"")

    # When they are handled
    runtime.settle()

    # Then the function saw both, ignored both, tracked nothing and failed nothing
    assert sum(i.records for i in runtime.invocations) == 2
    assert all(i.ok and not i.failed_records for i in runtime.invocations)
    ignored = sum(emitted_metrics(i.logs)["ObjectsIgnored"] for i in runtime.invocations)
    assert ignored == 2
    assert tracker_items(runtime) == []


def test_key_outside_the_layout_is_quarantined_not_crashed_on(runtime: LocalRuntime) -> None:
    # Given an object that does not follow <schema>/<table>/<file>
    land(runtime, "manifest.json", b"{}")

    # When it is handled
    runtime.settle()

    # Then it is recorded as unmatched (visible, queryable) and the batch succeeded
    [item] = tracker_items(runtime)
    assert (item["source_table"], item["status"]) == ("__unmatched__", "unmatched_key")
    assert queue_depth(runtime, "FileTrackerDLQUrl") == 0


def test_each_tracked_file_is_announced_on_the_event_bus(runtime: LocalRuntime) -> None:
    # Given two landed files
    land(runtime, FULL_LOAD_KEY)
    land(runtime, CDC_KEY)

    # When they are tracked
    runtime.settle()

    # Then one "File Landed" event per tracked file went to the default bus, naming it
    published = runtime.activity.published
    assert {(e.bus, e.source, e.detail_type) for e in published} == {
        ("default", "datalake-events.file-tracker", "File Landed")
    }
    assert sorted(e.detail["file_id"] for e in published) == sorted(
        item["file_id"] for item in tracker_items(runtime)
    )
    assert {e.detail["key"] for e in published} == {FULL_LOAD_KEY, CDC_KEY}
    # ...and the items remember it, so a redelivery will not announce them again
    assert all(item["landed_event_published"] for item in tracker_items(runtime))


def test_pending_files_of_a_table_are_one_query_away(runtime: LocalRuntime) -> None:
    # Given files of two tables
    for key in (FULL_LOAD_KEY, CDC_KEY, "sales/customers/LOAD00000001.csv"):
        land(runtime, key)
    runtime.settle()

    # When the batch planner queries the pending-files index for one table
    response = runtime.dynamodb.query(
        TableName=runtime.outputs["FileTrackerTableName"],
        IndexName="pending-files-index",
        KeyConditionExpression="pending_status = :landed AND begins_with(pending_order, :table)",
        ExpressionAttributeValues={
            ":landed": {"S": "raw_file_landed"},
            ":table": {"S": "sales.orders#"},
        },
    )

    # Then it gets exactly that table's files
    assert sorted(item["key"]["S"] for item in response["Items"]) == sorted(
        [FULL_LOAD_KEY, CDC_KEY]
    )
