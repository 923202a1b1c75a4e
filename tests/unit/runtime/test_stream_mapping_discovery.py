"""The streams bridge finds mappings created through the Lambda API after install (the config
loader's CDC tables), and stops polling deleted ones, as Lambda's pollers do."""

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from local_runtime.activity import ActivityLog
from local_runtime.bridges import RuntimeServices
from local_runtime.bridges.dynamodb_streams import DynamoDbStreamsBridge
from local_runtime.deploy import DeployedStack
from local_runtime.functions import Invocation
from local_runtime.moto_adapter.services import moto_aws
from local_runtime.template import TranslatedTemplate


class RecordingRunner:
    """Stands in for the function runner: every batch succeeds and is kept."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def invoke(self, function: str, event: dict[str, Any], trigger: str) -> Invocation:
        self.events.append(event)
        return Invocation(function=function, trigger=trigger, records=len(event["Records"]))


def _zipped_handler() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return None\n")
    return buffer.getvalue()


@pytest.fixture
def aws(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """moto as the runtime starts it, with a streamed table and a function; the bridge
    installed before any mapping."""
    with moto_aws():
        dynamodb = boto3.client("dynamodb", "us-east-1")
        stream = dynamodb.create_table(
            TableName="cdc-customers",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )["TableDescription"]["LatestStreamArn"]
        role = boto3.client("iam").create_role(
            RoleName="r", AssumeRolePolicyDocument="{}", Path="/"
        )["Role"]["Arn"]
        functions = boto3.client("lambda", "us-east-1")
        function = functions.create_function(
            FunctionName="iceberg-cdc",
            Runtime="python3.13",
            Role=role,
            Handler="handler.handler",
            Code={"ZipFile": _zipped_handler()},
        )["FunctionArn"]
        runner = RecordingRunner()
        bridge = DynamoDbStreamsBridge()
        bridge.install(
            RuntimeServices(
                session=boto3.session.Session(region_name="us-east-1"),
                runner=runner,  # type: ignore[arg-type]
                activity=ActivityLog(),
                stack=DeployedStack("empty", {}, {}, {}),
                template=TranslatedTemplate({"Resources": {}}),
                async_invoker=None,  # type: ignore[arg-type]
                workdir=tmp_path,
            )
        )
        yield {
            "dynamodb": dynamodb,
            "lambda": functions,
            "function": function,
            "stream": stream,
            "runner": runner,
            "bridge": bridge,
        }
        bridge.uninstall()


def put(aws: dict[str, Any], key: str) -> None:
    aws["dynamodb"].put_item(TableName="cdc-customers", Item={"pk": {"S": key}})


def delivered(aws: dict[str, Any]) -> list[str]:
    return [r["dynamodb"]["Keys"]["pk"]["S"] for e in aws["runner"].events for r in e["Records"]]


def test_a_mapping_created_after_install_gets_every_record_from_the_trim_horizon(
    aws: dict[str, Any],
) -> None:
    # Given a mapping created through the Lambda API after the bridge was installed
    uuid = aws["lambda"].create_event_source_mapping(
        EventSourceArn=aws["stream"], FunctionName=aws["function"], StartingPosition="TRIM_HORIZON"
    )["UUID"]
    # When items are written (moto's own delivery would empty the shard) and the bridge pumps
    put(aws, "a")
    put(aws, "b")
    aws["bridge"].pump()
    # Then the function got both, in order, with the mapping's stream as their source
    assert delivered(aws) == ["a", "b"]
    assert [m.uuid for m in aws["bridge"].mappings] == [uuid]
    assert aws["runner"].events[0]["Records"][0]["eventSourceARN"] == aws["stream"]


def test_a_deleted_mapping_is_no_longer_polled(aws: dict[str, Any]) -> None:
    # Given a mapping that delivered a record
    uuid = aws["lambda"].create_event_source_mapping(
        EventSourceArn=aws["stream"], FunctionName=aws["function"], StartingPosition="TRIM_HORIZON"
    )["UUID"]
    put(aws, "a")
    aws["bridge"].pump()
    # When it is deleted and another item is written
    aws["lambda"].delete_event_source_mapping(UUID=uuid)
    put(aws, "b")
    aws["bridge"].pump()
    # Then the function never gets it, and the bridge holds no mapping
    assert delivered(aws) == ["a"]
    assert aws["bridge"].mappings == []
