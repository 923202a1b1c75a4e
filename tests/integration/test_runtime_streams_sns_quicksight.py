"""The local runtime's DynamoDB stream, SNS and QuickSight bridges, on a small template of their
own: stream batches with Lambda's retry, bisect, partial-failure and OnFailure semantics, TTL
removals, SNS → Lambda/SQS subscriptions (publish, S3 notifications, EventBridge targets) with
filter policies, and SPICE ingestions driven by a state machine.

One runtime serves the module (a deploy costs ~2 s); every test uses keys of its own and looks
only at what its own writes produced."""

import json
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest
from aws_lambda_powertools.utilities.parser.models import (
    DynamoDBStreamLambdaOnFailureDestinationModel,
    DynamoDBStreamModel,
    SnsModel,
)
from botocore.exceptions import ClientError

from local_runtime import LocalRuntime
from local_runtime.bridges.dynamodb_streams import DynamoDbStreamsBridge
from local_runtime.bridges.quicksight import QuickSightBridge
from local_runtime.bridges.sns import SnsBridge, route_to_sns
from local_runtime.intrinsics import ACCOUNT_ID
from tests.integration.small_projects import RECORD_FILE, recorded, write_project

RECORDER = textwrap.dedent(
    '''
    import json, os

    def lambda_handler(event, context):
        """Appends each event to RECORD_FILE. Stream batches: a record whose new image has a
        "poison" attribute fails the invocation; one with "fail_once" is reported as a batch
        item failure the first time it is seen."""
        path = os.environ["RECORD_FILE"]
        with open(path, "a") as log:
            log.write(json.dumps(event) + "\\n")
        records = event.get("Records", [])
        images = [(r.get("dynamodb") or {}).get("NewImage") or {} for r in records]
        if any("poison" in image for image in images):
            raise RuntimeError("poison record")
        seen_path = path + ".seen"
        seen = set(open(seen_path).read().split()) if os.path.exists(seen_path) else set()
        failures = []
        for record, image in zip(records, images):
            number = (record.get("dynamodb") or {}).get("SequenceNumber")
            if "fail_once" in image and number not in seen:
                failures.append({"itemIdentifier": number})
                with open(seen_path, "a") as handle:
                    handle.write(number + "\\n")
        return {"batchItemFailures": failures}
    '''
)

INGESTION_LOOP = {
    "StartAt": "Create",
    "States": {
        "Create": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:quicksight:createIngestion",
            "Parameters": {
                "AwsAccountId.$": "$.account",
                "DataSetId.$": "$.dataset",
                "IngestionId.$": "$.ingestion",
                "IngestionType": "FULL_REFRESH",
            },
            "ResultPath": None,
            "Catch": [
                {
                    "ErrorEquals": ["QuickSight.ResourceExistsException"],
                    "ResultPath": "$.already",
                    "Next": "Wait",
                }
            ],
            "Next": "Wait",
        },
        "Wait": {"Type": "Wait", "Seconds": 5, "Next": "Describe"},
        "Describe": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:quicksight:describeIngestion",
            "Parameters": {
                "AwsAccountId.$": "$.account",
                "DataSetId.$": "$.dataset",
                "IngestionId.$": "$.ingestion",
            },
            "ResultSelector": {
                "status.$": "$.Ingestion.IngestionStatus",
                "details.$": "$.Ingestion",
            },
            "ResultPath": "$.result",
            "Next": "Done?",
        },
        "Done?": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.result.status", "StringEquals": "COMPLETED", "Next": "Completed"},
                {"Variable": "$.result.status", "StringEquals": "FAILED", "Next": "Failed"},
            ],
            "Default": "Wait",
        },
        "Completed": {"Type": "Succeed"},
        "Failed": {"Type": "Succeed"},
    },
}


def template(record_file: Path) -> str:
    recorder = f"""
      CodeUri: functions/recorder/
      Handler: app.lambda_handler
      Runtime: python3.13
      Environment:
        Variables:
          RECORD_FILE: "{record_file}"
    """
    return textwrap.dedent(
        f"""
        Transform: AWS::Serverless-2016-10-31
        Resources:
          OrdersTable:
            Type: AWS::DynamoDB::Table
            Properties:
              BillingMode: PAY_PER_REQUEST
              AttributeDefinitions: [{{AttributeName: pk, AttributeType: S}}]
              KeySchema: [{{AttributeName: pk, KeyType: HASH}}]
              StreamSpecification: {{StreamViewType: NEW_AND_OLD_IMAGES}}
              TimeToLiveSpecification: {{AttributeName: expires_at, Enabled: true}}
          StreamFailures:
            Type: AWS::SQS::Queue
          StreamFunction:
            Type: AWS::Serverless::Function
            Properties:{textwrap.indent(textwrap.dedent(recorder), "              ")}
              Events:
                Changes:
                  Type: DynamoDB
                  Properties:
                    Stream: !GetAtt OrdersTable.StreamArn
                    StartingPosition: TRIM_HORIZON
                    BatchSize: 4
                    MaximumRetryAttempts: 2
                    BisectBatchOnFunctionError: true
                    FunctionResponseTypes: [ReportBatchItemFailures]
                    DestinationConfig:
                      OnFailure:
                        Type: SQS
                        Destination: !GetAtt StreamFailures.Arn
          NotificationsTopic:
            Type: AWS::SNS::Topic
          UploadsTopic:
            Type: AWS::SNS::Topic
          UploadsBucket:
            Type: AWS::S3::Bucket
          TopicFunction:
            Type: AWS::Serverless::Function
            Properties:{textwrap.indent(textwrap.dedent(recorder), "              ")}
              Events:
                Wanted:
                  Type: SNS
                  Properties:
                    Topic: !Ref NotificationsTopic
                    FilterPolicy:
                      kind: [wanted]
                      size: [{{numeric: [">", 10]}}]
                Uploads:
                  Type: SNS
                  Properties:
                    Topic: !Ref UploadsTopic
          EventsTopic:
            Type: AWS::SNS::Topic
          EventsQueue:
            Type: AWS::SQS::Queue
          EventsQueueSubscription:
            Type: AWS::SNS::Subscription
            Properties:
              TopicArn: !Ref EventsTopic
              Protocol: sqs
              Endpoint: !GetAtt EventsQueue.Arn
              RawMessageDelivery: true
          OpsEmail:
            Type: AWS::SNS::Subscription
            Properties:
              TopicArn: !Ref EventsTopic
              Protocol: email
              Endpoint: ops@example.com
          EventsToTopicRule:
            Type: AWS::Events::Rule
            Properties:
              EventPattern:
                source: [tests.sns-target]
              Targets:
                - Id: topic
                  Arn: !Ref EventsTopic
                  InputPath: $.detail
          IngestionStateMachine:
            Type: AWS::Serverless::StateMachine
            Properties:
              Definition: {json.dumps(INGESTION_LOOP)}
              Policies:
                - Statement:
                    - Effect: Allow
                      Action: [quicksight:CreateIngestion, quicksight:DescribeIngestion]
                      Resource: "*"
        """
    )


class Bridges:
    """The runtime's stream, SNS and QuickSight bridges: its own once runtime.py wires them,
    else new ones appended to its bridge list (with the EventBridge → SNS route)."""

    def __init__(self, runtime: LocalRuntime) -> None:
        wired = getattr(runtime, "sns_bridge", None)
        self.streams: DynamoDbStreamsBridge = getattr(runtime, "streams_bridge", None) or (
            DynamoDbStreamsBridge()
        )
        self.sns: SnsBridge = wired or SnsBridge()
        self.quicksight: QuickSightBridge = getattr(runtime, "quicksight_bridge", None) or (
            QuickSightBridge()
        )
        if wired is None:
            runtime.bridges += [self.streams, self.sns, self.quicksight]
            runtime.eventbridge_bridge.add_route("sns", route_to_sns)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("streams-sns-quicksight")
    write_project(root, "recorder", RECORDER, template(root / RECORD_FILE))
    return root


@pytest.fixture(scope="module")
def running(project: Path) -> Iterator[tuple[LocalRuntime, Bridges]]:
    runtime = LocalRuntime(template_path=project / "template.yaml", workdir=project / "work")
    bridges = Bridges(runtime)
    with runtime:
        yield runtime, bridges


@pytest.fixture
def runtime(running: tuple[LocalRuntime, Bridges]) -> LocalRuntime:
    return running[0]


@pytest.fixture
def bridges(running: tuple[LocalRuntime, Bridges]) -> Bridges:
    return running[1]


# ---------------------------------------------------------------------- helpers
def stream_batches(project: Path, prefix: str) -> list[list[dict[str, Any]]]:
    """Stream events whose records belong to this test's keys, in invocation order."""
    batches = []
    for event in recorded(project):
        records = [
            r
            for r in event.get("Records", [])
            if r.get("eventSource") == "aws:dynamodb"
            and r["dynamodb"]["Keys"]["pk"]["S"].startswith(prefix)
        ]
        if records:
            batches.append(records)
    return batches


def keys(batch: list[dict[str, Any]]) -> list[str]:
    return [r["dynamodb"]["Keys"]["pk"]["S"] for r in batch]


def sns_messages(project: Path, topic_arn: str) -> list[dict[str, Any]]:
    return [
        record["Sns"]
        for event in recorded(project)
        for record in event.get("Records", [])
        if record.get("EventSource") == "aws:sns" and record["Sns"]["TopicArn"] == topic_arn
    ]


def put(runtime: LocalRuntime, pk: str, **attributes: dict[str, str]) -> None:
    runtime.dynamodb.put_item(
        TableName=runtime.stack.resources["OrdersTable"],
        Item={"pk": {"S": pk}, **attributes},
    )


def receive_all(runtime: LocalRuntime, logical_id: str) -> list[str]:
    bodies = []
    while messages := runtime.sqs.receive_message(
        QueueUrl=runtime.stack.resources[logical_id], MaxNumberOfMessages=10
    ).get("Messages", []):
        bodies.extend(m["Body"] for m in messages)
        for message in messages:
            runtime.sqs.delete_message(
                QueueUrl=runtime.stack.resources[logical_id],
                ReceiptHandle=message["ReceiptHandle"],
            )
    return bodies


def run_ingestion(runtime: LocalRuntime, dataset: str, ingestion: str) -> dict[str, Any]:
    """Runs the ingestion state machine to its end (settle waits for the execution)."""
    machine = runtime.stack.resources["IngestionStateMachine"]
    payload = json.dumps({"account": ACCOUNT_ID, "dataset": dataset, "ingestion": ingestion})
    arn = runtime.stepfunctions_bridge.start(machine, payload, name=f"run-{uuid.uuid4()}")
    runtime.settle()
    return runtime.stepfunctions_bridge.describe(arn)


# ---------------------------------------------------------------------- DynamoDB streams
def test_stream_delivers_insert_modify_remove_in_order(
    runtime: LocalRuntime, project: Path
) -> None:
    # Given an item created, changed and deleted
    table = runtime.stack.resources["OrdersTable"]
    put(runtime, "order-1", status={"S": "new"})
    put(runtime, "order-1", status={"S": "paid"})
    runtime.dynamodb.delete_item(TableName=table, Key={"pk": {"S": "order-1"}})

    # When the runtime settles
    runtime.settle()

    # Then the function saw the three changes in stream order, in Lambda's record shape
    [batch] = stream_batches(project, "order-1")
    assert [r["eventName"] for r in batch] == ["INSERT", "MODIFY", "REMOVE"]
    assert batch[1]["dynamodb"]["OldImage"]["status"] == {"S": "new"}
    assert batch[1]["dynamodb"]["NewImage"]["status"] == {"S": "paid"}
    numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in batch]
    assert numbers == sorted(numbers)
    # eventSourceARN is the stream the mapping names (on DynamoDB Local, the engine's own
    # stream ARN differs from the deployed one; the mapping keeps the deployed ARN, as on AWS)
    [stream_arn] = [
        m["EventSourceArn"]
        for m in runtime.client("lambda").list_event_source_mappings()["EventSourceMappings"]
        if m["FunctionArn"].endswith(runtime.stack.resources["StreamFunction"])
    ]
    assert stream_arn.startswith(f"arn:aws:dynamodb:us-east-1:{ACCOUNT_ID}:table/{table}/stream/")
    parsed = DynamoDBStreamModel.model_validate({"Records": batch})
    assert {r.eventSourceARN for r in parsed.Records} == {stream_arn}
    assert all(r["eventVersion"] == "1.1" and "userIdentity" not in r for r in batch)


def test_partial_failure_retries_from_the_reported_record(
    runtime: LocalRuntime, project: Path
) -> None:
    # Given three changes in one batch, the second reported as failed the first time
    put(runtime, "partial-1")
    put(runtime, "partial-2", fail_once={"BOOL": True})
    put(runtime, "partial-3")

    # When the runtime settles
    runtime.settle()

    # Then the retry starts at the reported record: the one before it is not delivered again
    assert [keys(b) for b in stream_batches(project, "partial-")] == [
        ["partial-1", "partial-2", "partial-3"],
        ["partial-2", "partial-3"],
    ]


def test_bisect_isolates_a_poison_record_and_reports_it_on_failure(
    runtime: LocalRuntime, project: Path
) -> None:
    # Given a batch of four changes whose third always fails the function
    put(runtime, "bisect-1")
    put(runtime, "bisect-2")
    put(runtime, "bisect-3", poison={"BOOL": True})
    put(runtime, "bisect-4")

    # When the runtime settles
    runtime.settle()

    # Then the batch is split until the poison record is alone, and it is dropped after
    # 1 + MaximumRetryAttempts (2) invocations while its neighbours are processed
    assert [keys(b) for b in stream_batches(project, "bisect-")] == [
        ["bisect-1", "bisect-2", "bisect-3", "bisect-4"],
        ["bisect-1", "bisect-2"],
        ["bisect-3", "bisect-4"],
        ["bisect-3"],
        ["bisect-4"],
    ]
    # And the OnFailure queue got Lambda's record describing exactly that record
    [body] = receive_all(runtime, "StreamFailures")
    failure = DynamoDBStreamLambdaOnFailureDestinationModel.model_validate_json(body)
    poison = stream_batches(project, "bisect-3")[-1][0]["dynamodb"]["SequenceNumber"]
    assert failure.ddb_stream_batch_info.start_sequence_number == poison
    assert failure.ddb_stream_batch_info.end_sequence_number == poison
    assert failure.ddb_stream_batch_info.batch_size == 1
    assert failure.request_context.condition == "RetryAttemptsExhausted"
    assert failure.request_context.approximate_invoke_count == 3
    assert failure.response_context.function_error == "Unhandled"


def test_ttl_expiry_removes_expired_items_as_the_ttl_service(
    runtime: LocalRuntime, bridges: Bridges, project: Path
) -> None:
    # Given one expired and one live item (TTL attribute from the template: expires_at)
    now = time.time()
    put(runtime, "ttl-old", expires_at={"N": str(int(now) - 60)})
    put(runtime, "ttl-live", expires_at={"N": str(int(now) + 3600)})
    runtime.settle()

    # When TTL runs and the runtime settles
    deleted = bridges.streams.expire_items("OrdersTable", now)
    runtime.settle()

    # Then only the expired item is gone, and its REMOVE carries the TTL service identity
    assert deleted == 1
    [removal] = [
        r for b in stream_batches(project, "ttl-") for r in b if r["eventName"] == "REMOVE"
    ]
    assert removal["dynamodb"]["Keys"] == {"pk": {"S": "ttl-old"}}
    assert removal["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    live = runtime.dynamodb.get_item(
        TableName=runtime.stack.resources["OrdersTable"], Key={"pk": {"S": "ttl-live"}}
    )
    assert "Item" in live


# ---------------------------------------------------------------------- SNS
def test_published_message_reaches_the_lambda_subscription_that_filters_it_in(
    runtime: LocalRuntime, bridges: Bridges, project: Path
) -> None:
    # Given the topic's lambda subscription wants kind=wanted and size > 10
    topic = runtime.stack.resources["NotificationsTopic"]
    sns = runtime.client("sns")

    def publish(kind: str, size: str) -> str:
        return str(
            sns.publish(
                TopicArn=topic,
                Message=f"{kind}-{size}",
                Subject="hello",
                MessageAttributes={
                    "kind": {"DataType": "String", "StringValue": kind},
                    "size": {"DataType": "Number", "StringValue": size},
                },
            )["MessageId"]
        )

    # When three messages are published, only one of which matches
    wanted = publish("wanted", "42")
    publish("wanted", "3")
    publish("other", "42")
    runtime.settle()

    # Then the function got that one, in the SNS event shape Lambda delivers
    [message] = sns_messages(project, topic)
    assert message["MessageId"] == wanted
    assert message["Message"] == "wanted-42"
    assert message["MessageAttributes"]["size"] == {"Type": "Number", "Value": "42"}
    record = {"EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": "x"}
    SnsModel.model_validate({"Records": [{**record, "Sns": message}]})
    assert len([f for f in bridges.sns.filtered_out if f.via == "topic NotificationsTopic"]) == 2


def test_s3_notification_to_the_topic_reaches_the_lambda_subscription(
    runtime: LocalRuntime, project: Path
) -> None:
    # Given the bucket notifies the topic of new objects (moto's CloudFormation skips a bucket's
    # NotificationConfiguration: set here as the template would)
    bucket = runtime.stack.resources["UploadsBucket"]
    topic = runtime.stack.resources["UploadsTopic"]
    runtime.s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "TopicConfigurations": [{"TopicArn": topic, "Events": ["s3:ObjectCreated:*"]}]
        },
    )

    # When an object is uploaded
    runtime.s3.put_object(Bucket=bucket, Key="in/report.xlsx", Body=b"x")
    runtime.settle()

    # Then the function got the S3 event inside the SNS message (keys are URL-encoded there;
    # moto encodes "/" too, AWS does not)
    events = [json.loads(m["Message"]) for m in sns_messages(project, topic)]
    created = [e for e in events if "Records" in e]
    assert [unquote_plus(e["Records"][0]["s3"]["object"]["key"]) for e in created] == [
        "in/report.xlsx"
    ]


def test_eventbridge_rule_with_an_sns_target_publishes_to_the_topic(
    runtime: LocalRuntime, bridges: Bridges
) -> None:
    # When an event matches the rule whose target is the topic
    runtime.client("events").put_events(
        Entries=[
            {"Source": "tests.sns-target", "DetailType": "Ping", "Detail": json.dumps({"n": 7})}
        ]
    )
    runtime.settle()

    # Then the topic's raw SQS subscription got the rule's InputPath, and the email was kept
    assert [json.loads(b) for b in receive_all(runtime, "EventsQueue")] == [{"n": 7}]
    emails = [m for m in bridges.sns.outbox if m.endpoint == "ops@example.com"]
    assert [json.loads(m.message) for m in emails] == [{"n": 7}]
    topic = runtime.stack.resources["EventsTopic"]
    assert any(
        r.via == "rule EventsToTopicRule" and r.target == topic for r in runtime.activity.routed
    )


# ---------------------------------------------------------------------- QuickSight
def test_describe_ingestion_advances_to_completed(runtime: LocalRuntime, bridges: Bridges) -> None:
    # Given an ingestion just created on a dataset with known row counts
    quicksight = runtime.client("quicksight")
    bridges.quicksight.set_row_counts("ds-direct", ingested=120, dropped=2)
    created = quicksight.create_ingestion(
        AwsAccountId=ACCOUNT_ID, DataSetId="ds-direct", IngestionId="direct-1"
    )

    # When it is described three times
    described = [
        quicksight.describe_ingestion(
            AwsAccountId=ACCOUNT_ID, DataSetId="ds-direct", IngestionId="direct-1"
        )
        for _ in range(3)
    ]

    # Then it went QUEUED, RUNNING, COMPLETED with its row counts, in AWS's response shape
    assert created["IngestionStatus"] == "INITIALIZED"
    statuses = [d["Ingestion"]["IngestionStatus"] for d in described]
    assert statuses == ["QUEUED", "RUNNING", "COMPLETED"]
    final = described[-1]
    assert final["Status"] == 200
    assert final["Ingestion"]["RowInfo"]["RowsIngested"] == 120
    assert final["Ingestion"]["RowInfo"]["RowsDropped"] == 2
    assert final["Ingestion"]["Arn"] == created["Arn"]


def test_create_ingestion_twice_with_one_id_is_resource_exists(
    runtime: LocalRuntime, bridges: Bridges
) -> None:
    bridges.quicksight.add_dataset("ds-twice")  # made in QuickSight
    quicksight = runtime.client("quicksight")
    quicksight.create_ingestion(AwsAccountId=ACCOUNT_ID, DataSetId="ds-twice", IngestionId="i-1")

    with pytest.raises(ClientError) as raised:
        quicksight.create_ingestion(
            AwsAccountId=ACCOUNT_ID, DataSetId="ds-twice", IngestionId="i-1"
        )

    assert raised.value.response["Error"]["Code"] == "ResourceExistsException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409


def test_state_machine_polls_the_ingestion_until_completed_and_a_rerun_is_idempotent(
    runtime: LocalRuntime, bridges: Bridges
) -> None:
    # Given a dataset made in QuickSight
    bridges.quicksight.add_dataset("ds-sales")
    # When the state machine runs for an ingestion, then again for the same ingestion id
    first = run_ingestion(runtime, "ds-sales", "sales-1")
    second = run_ingestion(runtime, "ds-sales", "sales-1")

    # Then the first polled QUEUED → RUNNING → COMPLETED, and the rerun's CreateIngestion
    # failed as QuickSight.ResourceExistsException, was caught, and found it COMPLETED
    assert first["status"] == "SUCCEEDED"
    output = json.loads(first["output"])
    assert output["result"]["status"] == "COMPLETED"
    assert isinstance(output["result"]["details"]["CreatedTime"], str)
    ingestion = bridges.quicksight.ingestions[(ACCOUNT_ID, "ds-sales", "sales-1")]
    assert ingestion.describes == 4
    rerun = json.loads(second["output"])
    assert rerun["already"]["Error"] == "QuickSight.ResourceExistsException"
    assert rerun["result"]["status"] == "COMPLETED"


def test_state_machine_sees_a_failing_dataset_end_failed(
    runtime: LocalRuntime, bridges: Bridges
) -> None:
    # Given a dataset whose ingestions fail
    bridges.quicksight.fail_dataset("ds-broken", "The manifest file is missing")

    # When the state machine runs for it
    execution = run_ingestion(runtime, "ds-broken", "broken-1")

    # Then it ends on FAILED, with the reason in ErrorInfo
    result = json.loads(execution["output"])["result"]
    assert result["status"] == "FAILED"
    assert result["details"]["ErrorInfo"] == {
        "Type": "CUSTOMER_ERROR",
        "Message": "The manifest file is missing",
    }
