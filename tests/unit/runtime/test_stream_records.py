"""Pure parts of the local runtime's DynamoDB stream, SNS and QuickSight bridges: record shapes,
Lambda's batch and checkpoint rules, filter policies, the ingestion lifecycle. The bridges
running on moto are covered in tests/integration/test_runtime_streams_sns_quicksight.py."""

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.parser.models import (
    DynamoDBStreamLambdaOnFailureDestinationModel,
    DynamoDBStreamModel,
    SnsModel,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws
from moto.quicksight.responses import QuickSightResponse
from moto.sns.models import Subscription
from moto.sns.utils import FilterPolicyMatcher
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_aws_sdk,
)

from local_runtime.activity import ActivityLog
from local_runtime.bridges import RuntimeServices
from local_runtime.bridges.dynamodb_streams import (
    LOCAL_RETRY_CAP,
    BatchOutcome,
    DynamoDbStreamsBridge,
    ShardCursor,
    failure_record,
    judge_batch,
    lambda_stream_record,
    matches_filters,
)
from local_runtime.bridges.quicksight import DatasetFailure, Ingestion, QuickSightBridge, sfn_output
from local_runtime.bridges.sns import SnsBridge, lambda_sns_event, send_to_destination
from local_runtime.deploy import DeployedStack
from local_runtime.template import TranslatedTemplate

STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026-01-01T00:00:00.000"
TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:uploads"
CREATED = datetime(2026, 3, 1, 12, 30, 15, 250000, tzinfo=UTC)


def api_record(sequence: int, event_name: str = "INSERT", **extra: Any) -> dict[str, Any]:
    """A record as boto3's dynamodbstreams.get_records returns it."""
    return {
        "eventID": f"id-{sequence}",
        "eventName": event_name,
        "eventVersion": "1.0",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": CREATED,
            "Keys": {"pk": {"S": f"k{sequence}"}},
            "NewImage": {"pk": {"S": f"k{sequence}"}, "blob": {"B": b"\x00\x01"}},
            "SequenceNumber": str(sequence),
            "SizeBytes": 40,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        **extra,
    }


def delivered(sequence: int) -> dict[str, Any]:
    return lambda_stream_record(api_record(sequence), STREAM_ARN, "us-east-1")


# ---------------------------------------------------------------------- stream records
def test_stream_record_is_shaped_as_lambda_delivers_it() -> None:
    # When a streams API record is turned into what Lambda hands the function
    record = lambda_stream_record(api_record(7), STREAM_ARN, "eu-west-1")

    # Then it is JSON, in Lambda's version and region, with epoch seconds and base64 binaries
    assert record["eventVersion"] == "1.1"
    assert record["awsRegion"] == "eu-west-1"
    assert record["eventSourceARN"] == STREAM_ARN
    assert record["dynamodb"]["ApproximateCreationDateTime"] == float(int(CREATED.timestamp()))
    assert record["dynamodb"]["NewImage"]["blob"] == {"B": base64.b64encode(b"\x00\x01").decode()}
    assert "userIdentity" not in record
    json.dumps(record)
    DynamoDBStreamModel.model_validate({"Records": [record]})


def test_ttl_removal_carries_the_service_identity_in_lambda_casing() -> None:
    identity = {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}

    record = lambda_stream_record(
        api_record(8, "REMOVE", userIdentity=identity), STREAM_ARN, "us-east-1"
    )

    assert record["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    parsed = DynamoDBStreamModel.model_validate({"Records": [record]})
    assert parsed.Records[0].userIdentity is not None


def test_filter_criteria_keep_only_matching_records() -> None:
    criteria = {"Filters": [{"Pattern": json.dumps({"eventName": ["REMOVE"]})}]}

    assert matches_filters(lambda_stream_record(api_record(1, "REMOVE"), STREAM_ARN, "r"), criteria)
    assert not matches_filters(delivered(2), criteria)
    assert matches_filters(delivered(3), None)


def test_failure_record_describes_the_discarded_range() -> None:
    # Given three discarded records
    records = [delivered(n) for n in (10, 11, 12)]

    # When Lambda's OnFailure record is built for them
    failure = failure_record(
        records=records,
        shard_id="shardId-1",
        stream_arn=STREAM_ARN,
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:f",
        invoke_count=3,
        function_error=True,
        now=CREATED,
    )

    # Then it names the range and the attempts, in the shape Powertools parses
    parsed = DynamoDBStreamLambdaOnFailureDestinationModel.model_validate(failure)
    info = parsed.ddb_stream_batch_info
    assert (info.start_sequence_number, info.end_sequence_number) == ("10", "12")
    assert info.batch_size == 3
    assert info.approximate_arrival_of_first_record == CREATED.replace(microsecond=0)
    assert parsed.request_context.condition == "RetryAttemptsExhausted"
    assert parsed.response_context.function_error == "Unhandled"
    assert failure["timestamp"] == "2026-03-01T12:30:15.250Z"


def test_failure_after_partial_failures_reports_no_function_error() -> None:
    failure = failure_record(
        records=[delivered(1)],
        shard_id="s",
        stream_arn=STREAM_ARN,
        function_arn="f",
        invoke_count=2,
        function_error=False,
    )

    assert "functionError" not in failure["responseContext"]


# ---------------------------------------------------------------------- reading a response
NUMBERS = ["100", "101", "102"]


@pytest.mark.parametrize(
    ("ok", "response", "report", "expected"),
    [
        (True, None, True, BatchOutcome(None)),
        (True, {"batchItemFailures": []}, True, BatchOutcome(None)),
        (True, {"batchItemFailures": None}, True, BatchOutcome(None)),
        (True, {"anything": 1}, True, BatchOutcome(None)),
        (True, {"batchItemFailures": [{"itemIdentifier": "101"}]}, False, BatchOutcome(None)),
        (False, None, True, BatchOutcome(0, function_error=True)),
        (False, None, False, BatchOutcome(0, function_error=True)),
        (
            True,
            {"batchItemFailures": [{"itemIdentifier": "102"}, {"itemIdentifier": "101"}]},
            True,
            BatchOutcome(1),
        ),
        (True, {"batchItemFailures": [{"itemIdentifier": "999"}]}, True, BatchOutcome(0, True)),
        (True, {"batchItemFailures": [{"itemIdentifier": ""}]}, True, BatchOutcome(0, True)),
        (True, {"batchItemFailures": "101"}, True, BatchOutcome(0, True)),
    ],
    ids=[
        "null response",
        "empty list",
        "null list",
        "no list",
        "failures ignored without ReportBatchItemFailures",
        "function error",
        "function error without reporting",
        "lowest reported record",
        "unknown identifier",
        "empty identifier",
        "not a list",
    ],
)
def test_batch_outcome_follows_lambdas_rules(
    ok: bool, response: Any, report: bool, expected: BatchOutcome
) -> None:
    assert judge_batch(ok, response, report, NUMBERS) == expected


# ---------------------------------------------------------------------- checkpoints
def cursor(batch_size: int = 4, retries: int = 2, bisect: bool = False) -> ShardCursor:
    shard = ShardCursor(batch_size, retries, bisect)
    shard.add([delivered(n) for n in range(1, 7)])
    return shard


def numbers(records: list[dict[str, Any]]) -> list[int]:
    return [int(r["dynamodb"]["SequenceNumber"]) for r in records]


def test_success_checkpoints_past_the_batch() -> None:
    shard = cursor()

    first = shard.next_batch()
    discarded = shard.record(BatchOutcome(None))

    assert numbers(first) == [1, 2, 3, 4]
    assert discarded is None
    assert shard.checkpoint == "4"
    assert numbers(shard.next_batch()) == [5, 6]


def test_partial_failure_checkpoints_before_the_lowest_failure() -> None:
    shard = cursor()
    shard.next_batch()

    shard.record(BatchOutcome(2))

    assert shard.checkpoint == "2"
    assert numbers(shard.next_batch()) == [3, 4]


def test_function_error_retries_the_same_batch_then_discards_it() -> None:
    # Given a batch that keeps failing with MaximumRetryAttempts 2
    shard = cursor(retries=2)
    attempts = []

    # When it is invoked until the poller gives up
    while (batch := shard.next_batch()) and numbers(batch)[0] == 1:
        attempts.append(numbers(batch))
        discarded = shard.record(BatchOutcome(0, function_error=True))

    # Then it ran 1 + 2 times, was discarded whole, and the poller moved on
    assert attempts == [[1, 2, 3, 4]] * 3
    assert discarded is not None
    assert numbers(discarded.records) == [1, 2, 3, 4]
    assert discarded.invocations == 3
    assert shard.checkpoint == "4"


def test_bisect_splits_a_failed_batch_in_halves() -> None:
    shard = cursor(retries=5, bisect=True)
    shard.next_batch()

    shard.record(BatchOutcome(0, function_error=True))

    assert numbers(shard.next_batch()) == [1, 2]
    shard.record(BatchOutcome(None))
    assert numbers(shard.next_batch()) == [3, 4]


def test_unlimited_retries_are_capped_locally() -> None:
    shard = cursor(retries=-1)
    invocations = 0
    discarded = None
    while discarded is None:
        shard.next_batch()
        invocations += 1
        discarded = shard.record(BatchOutcome(0, function_error=True))

    assert invocations == 1 + LOCAL_RETRY_CAP


@settings(max_examples=60, deadline=None)
@given(
    count=st.integers(min_value=1, max_value=12),
    batch_size=st.integers(min_value=1, max_value=5),
    retries=st.integers(min_value=0, max_value=4),
    bisect=st.booleans(),
    poison=st.sets(st.integers(min_value=1, max_value=12), max_size=3),
)
def test_every_record_ends_processed_or_discarded_once_in_order(
    count: int, batch_size: int, retries: int, bisect: bool, poison: set[int]
) -> None:
    # Given records some of which always fail the function
    shard = ShardCursor(batch_size, retries, bisect)
    shard.add([delivered(n) for n in range(1, count + 1)])
    finished: list[int] = []
    discarded: list[int] = []

    # When the shard is drained
    for _ in range(10_000):
        batch = shard.next_batch()
        if not batch:
            break
        assert len(batch) <= batch_size
        assert int(batch[0]["dynamodb"]["SequenceNumber"]) == len(finished) + 1
        failed = bool(poison.intersection(numbers(batch)))
        outcome = BatchOutcome(0, function_error=True) if failed else BatchOutcome(None)
        gone = shard.record(outcome)
        if gone is not None:
            discarded.extend(numbers(gone.records))
            finished.extend(numbers(gone.records))
        elif not failed:
            finished.extend(numbers(batch))

    # Then every record is finished exactly once, in stream order, and no healthy record is
    # discarded when bisect has the retries to isolate the poison
    assert finished == list(range(1, count + 1))
    assert set(discarded) >= poison & set(range(1, count + 1))
    if bisect and 2**retries >= batch_size:
        assert set(discarded) == poison & set(range(1, count + 1))


# ---------------------------------------------------------------------- SNS
def test_sns_event_is_shaped_as_lambda_receives_it() -> None:
    # When a notification is turned into the event of a lambda subscription
    event = lambda_sns_event(
        subscription_arn=f"{TOPIC_ARN}:sub-1",
        topic_arn=TOPIC_ARN,
        message_id="m-1",
        message='{"hello": 1}',
        subject=None,
        message_attributes={"kind": {"Type": "String", "Value": "a"}},
        published=CREATED,
    )

    # Then it has SNS's envelope, the attributes and a millisecond timestamp
    [record] = event["Records"]
    assert record["EventSource"] == "aws:sns"
    assert record["EventSubscriptionArn"] == f"{TOPIC_ARN}:sub-1"
    assert record["Sns"]["Subject"] is None
    assert record["Sns"]["Timestamp"] == "2026-03-01T12:30:15.250Z"
    assert record["Sns"]["SignatureVersion"] == "1"
    assert record["Sns"]["MessageAttributes"] == {"kind": {"Type": "String", "Value": "a"}}
    parsed = SnsModel.model_validate(event)
    assert parsed.Records[0].Sns.TopicArn == TOPIC_ARN


@pytest.mark.parametrize(
    ("policy", "attributes", "delivered_"),
    [
        ({"kind": ["wanted"]}, {"kind": "wanted"}, True),
        ({"kind": ["wanted"]}, {"kind": "other"}, False),
        ({"kind": ["wanted"]}, {}, False),
        ({"kind": [{"anything-but": ["spam"]}]}, {"kind": "ham"}, True),
        ({"kind": [{"anything-but": ["spam"]}]}, {"kind": "spam"}, False),
        ({"key": [{"prefix": "raw/"}]}, {"key": "raw/a.xlsx"}, True),
        ({"key": [{"prefix": "raw/"}]}, {"key": "clean/a.csv"}, False),
        ({"size": [{"numeric": [">", 10, "<=", 20]}]}, {"size": 15}, True),
        ({"size": [{"numeric": [">", 10, "<=", 20]}]}, {"size": 25}, False),
    ],
)
def test_moto_filter_policy_matcher_covers_the_operators_we_rely_on(
    policy: dict[str, Any], attributes: dict[str, Any], delivered_: bool
) -> None:
    # The SNS bridge lets moto's own matcher decide (MessageAttributes scope)
    message_attributes = {
        name: {"Type": "Number" if isinstance(value, int) else "String", "Value": value}
        for name, value in attributes.items()
    }

    matcher = FilterPolicyMatcher(policy, None)

    assert matcher.matches(message_attributes, "{}") is delivered_


def test_moto_filter_policy_matcher_reads_the_body_in_message_body_scope() -> None:
    matcher = FilterPolicyMatcher({"status": ["failed"]}, "MessageBody")

    assert matcher.matches(None, json.dumps({"status": "failed"}))
    assert not matcher.matches(None, json.dumps({"status": "cleaned"}))


# ---------------------------------------------------------------------- QuickSight
def ingestion() -> Ingestion:
    return Ingestion(
        account_id="123456789012",
        region="us-east-1",
        data_set_id="ds",
        ingestion_id="i-1",
        request_type="FULL_REFRESH",
        created=CREATED,
        rows_ingested=10,
    )


def test_each_describe_moves_an_ingestion_one_step_to_completed() -> None:
    job = ingestion()
    seen = []

    for step in range(4):
        job.advance(None, CREATED + timedelta(seconds=step + 1))
        seen.append(job.status)

    assert seen == ["QUEUED", "RUNNING", "COMPLETED", "COMPLETED"]
    body = job.to_json()
    assert body["RowInfo"] == {"RowsIngested": 10, "RowsDropped": 0, "TotalRowsInDataset": 10}
    assert body["IngestionTimeInSeconds"] == 3
    assert "ErrorInfo" not in body


def test_a_failing_dataset_ends_failed_with_error_info() -> None:
    job = ingestion()
    failure = DatasetFailure("S3_MANIFEST_ERROR", "manifest missing")

    for _ in range(3):
        job.advance(failure, CREATED)

    assert job.status == "FAILED"
    assert job.to_json()["ErrorInfo"] == {
        "Type": "S3_MANIFEST_ERROR",
        "Message": "manifest missing",
    }
    assert job.to_json()["RowInfo"]["RowsIngested"] == 0


def test_cancel_ends_a_running_ingestion_but_not_a_finished_one() -> None:
    running, finished = ingestion(), ingestion()
    running.advance(None, CREATED)
    for _ in range(3):
        finished.advance(None, CREATED)

    running.cancel(CREATED)
    finished.cancel(CREATED)

    assert running.status == "CANCELLED"
    assert running.to_json()["ErrorInfo"]["Type"] == "INGESTION_CANCELED"
    assert finished.status == "COMPLETED"


def test_sdk_output_is_json_with_iso_timestamps() -> None:
    response = {"Ingestion": {"CreatedTime": CREATED, "Blob": b"\x01", "Ids": ("a",)}}

    output = sfn_output(response)

    assert output == {
        "Ingestion": {"CreatedTime": "2026-03-01T12:30:15.250Z", "Blob": "AQ==", "Ids": ["a"]}
    }
    json.dumps(output)


# ---------------------------------------------------------------------- install / uninstall
def test_bridges_leave_moto_as_they_found_it(tmp_path: Path) -> None:
    # Given moto's code before the bridges are installed
    originals = {
        "publish": Subscription.publish,
        "create": QuickSightResponse.create_ingestion,
        "task": state_task_service_aws_sdk.StateTaskServiceAwsSdk._eval_service_task,
    }
    error_names = dict(state_task_service_aws_sdk._SERVICE_ERROR_NAMES)
    bridges = [DynamoDbStreamsBridge(), SnsBridge(), QuickSightBridge()]

    # When they are installed on an empty stack, and uninstalled
    with mock_aws():
        services = services_on_moto(tmp_path)
        for bridge in bridges:
            bridge.install(services)
        patched = QuickSightResponse.create_ingestion is not originals["create"]
        for bridge in reversed(bridges):
            bridge.uninstall()

    # Then what they patched is moto's own again
    assert patched
    assert Subscription.publish is originals["publish"]
    assert QuickSightResponse.create_ingestion is originals["create"]
    assert state_task_service_aws_sdk.StateTaskServiceAwsSdk._eval_service_task is originals["task"]
    assert not hasattr(QuickSightResponse, "describe_ingestion")
    assert error_names == state_task_service_aws_sdk._SERVICE_ERROR_NAMES


def services_on_moto(tmp_path: Path) -> RuntimeServices:
    return RuntimeServices(
        session=boto3.session.Session(region_name="us-east-1"),
        runner=None,  # type: ignore[arg-type]
        activity=ActivityLog(),
        stack=DeployedStack("empty", {}, {}, {}),
        template=TranslatedTemplate({"Resources": {}}),
        async_invoker=None,  # type: ignore[arg-type]
        workdir=tmp_path,
    )


@mock_aws
def test_destination_record_published_to_a_topic_reaches_its_subscribers(
    tmp_path: Path,
) -> None:
    # Given a topic whose raw SQS subscription feeds a queue
    services = services_on_moto(tmp_path)
    sns, sqs = boto3.client("sns", "us-east-1"), boto3.client("sqs", "us-east-1")
    topic = sns.create_topic(Name="failures")["TopicArn"]
    queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn["Attributes"]["QueueArn"],
        Attributes={"RawMessageDelivery": "true"},
    )

    # When an OnFailure record is sent to the topic
    send_to_destination(services, topic, {"version": "1.0"}, "OnFailure of F")

    # Then the subscriber got it, and the delivery is on record
    [message] = sqs.receive_message(QueueUrl=queue)["Messages"]
    assert json.loads(message["Body"]) == {"version": "1.0"}
    assert [(r.via, r.target) for r in services.activity.routed] == [("OnFailure of F", topic)]


def test_destination_of_an_unsupported_kind_is_recorded_not_dropped(tmp_path: Path) -> None:
    services = services_on_moto(tmp_path)
    bucket = "arn:aws:s3:::failures"

    send_to_destination(services, bucket, {"version": "1.0"}, "OnFailure of F")

    assert [r.target for r in services.activity.unrouted] == [bucket]
