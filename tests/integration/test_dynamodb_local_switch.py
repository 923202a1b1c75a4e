"""The DynamoDB switch of the local runtime (LOCAL_DYNAMODB=dynamodb-local, or
``LocalRuntime(dynamodb=...)``): AWS's DynamoDB Local serves the tables and their streams to
every client of the process, while the rest of the stack stays on moto. On a small template of
its own; these tests choose the backend themselves, whatever LOCAL_DYNAMODB says.

DynamoDB Local missing (scripts/install-engines) skips them; REQUIRE_ENGINES=1 (CI) fails them.
"""

import os
import socket
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.dynamodb.models import dynamodb_backends

from local_runtime import LocalRuntime
from local_runtime.bridges.dynamodb_local import SHARED_ENDPOINT_VARIABLE, DynamoDbLocalBackend
from local_runtime.intrinsics import ACCOUNT_ID
from local_runtime.real_engines import (
    DynamoDbLocal,
    EngineMissingError,
    dynamodb_local_dir,
    java,
)
from tests.integration.small_projects import RECORD_FILE, recorded, write_project

FUNCTION = textwrap.dedent(
    '''
    import json, os
    import boto3

    def lambda_handler(event, context):
        """{"put": item} puts the item into TABLE_NAME (with this process's default client, as
        a handler does); any other event is appended to RECORD_FILE."""
        if "put" in event:
            boto3.client("dynamodb").put_item(TableName=os.environ["TABLE_NAME"], Item=event["put"])
            return {"put": True}
        with open(os.environ["RECORD_FILE"], "a") as log:
            log.write(json.dumps(event) + "\\n")
        return {"batchItemFailures": []}
    '''
)


def template(record_file: Path) -> str:
    return textwrap.dedent(
        f"""
        Transform: AWS::Serverless-2016-10-31
        Resources:
          ItemsTable:
            Type: AWS::DynamoDB::Table
            Properties:
              BillingMode: PAY_PER_REQUEST
              AttributeDefinitions: [{{AttributeName: pk, AttributeType: S}}]
              KeySchema: [{{AttributeName: pk, KeyType: HASH}}]
              StreamSpecification: {{StreamViewType: NEW_AND_OLD_IMAGES}}
              TimeToLiveSpecification: {{AttributeName: expires_at, Enabled: true}}
          OtherTable:
            Type: AWS::DynamoDB::Table
            Properties:
              BillingMode: PAY_PER_REQUEST
              AttributeDefinitions: [{{AttributeName: pk, AttributeType: S}}]
              KeySchema: [{{AttributeName: pk, KeyType: HASH}}]
              StreamSpecification: {{StreamViewType: KEYS_ONLY}}
          ItemsFunction:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: functions/items/
              Handler: app.lambda_handler
              Runtime: python3.13
              Environment:
                Variables:
                  RECORD_FILE: "{record_file}"
                  TABLE_NAME: !Ref ItemsTable
              Events:
                Changes:
                  Type: DynamoDB
                  Properties:
                    Stream: !GetAtt ItemsTable.StreamArn
                    StartingPosition: TRIM_HORIZON
                    FunctionResponseTypes: [ReportBatchItemFailures]
        """
    )


@pytest.fixture(scope="module", autouse=True)
def _dynamodb_local_installed() -> None:
    try:
        dynamodb_local_dir()
        java()
    except EngineMissingError as missing:
        if os.environ.get("REQUIRE_ENGINES") == "1":
            pytest.fail(f"REQUIRE_ENGINES=1 and an engine is missing: {missing}")
        pytest.skip(f"engine not available: {missing}")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dynamodb-switch")
    write_project(root, "items", FUNCTION, template(root / RECORD_FILE))
    return root


@pytest.fixture(scope="module")
def running_dynamodb_local() -> Iterator[str]:
    """The endpoint of a DynamoDB Local that outlives runtimes: the session's, else one of
    the module's own."""
    shared = os.environ.get(SHARED_ENDPOINT_VARIABLE)
    if shared:
        yield shared
        return
    with DynamoDbLocal() as server:
        yield server.endpoint_url


@pytest.fixture(scope="module")
def on_dynamodb_local(project: Path, running_dynamodb_local: str) -> Iterator[LocalRuntime]:
    backend = DynamoDbLocalBackend(running_dynamodb_local)
    with LocalRuntime(project / "template.yaml", dynamodb=backend) as runtime:
        yield runtime


def stream_records(project: Path, pk: str) -> list[dict[str, Any]]:
    return [
        record
        for event in recorded(project)
        for record in event.get("Records", [])
        if record["dynamodb"]["Keys"]["pk"]["S"] == pk
    ]


def direct_client(runtime: LocalRuntime) -> Any:
    """A client of DynamoDB Local itself, not routed by the environment."""
    endpoint = getattr(runtime.dynamodb_backend, "endpoint_url", None)
    assert endpoint is not None, "the runtime is not on DynamoDB Local"
    return boto3.client("dynamodb", endpoint_url=endpoint)


def moto_items(runtime: LocalRuntime, table: str) -> int:
    """Items of moto's own copy of the table (the one its CloudFormation created)."""
    return len(list(dynamodb_backends[ACCOUNT_ID]["us-east-1"].get_table(table).all_items()))


# ---------------------------------------------------------------------- the switch
# First in the module: runtimes of their own, before the module's runtime starts.
@pytest.mark.parametrize("backend", ["moto", "dynamodb-local"])
def test_only_dynamodb_local_refuses_an_unused_expression_value(
    project: Path, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a runtime on each backend (DynamoDB Local started for the runtime alone)
    monkeypatch.delenv(SHARED_ENDPOINT_VARIABLE, raising=False)
    environment = dict(os.environ)
    with LocalRuntime(project / "template.yaml", dynamodb=backend) as runtime:
        table = runtime.stack.resources["ItemsTable"]
        endpoint = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB")

        # When a conditional put names a value its expressions do not use
        def put() -> None:
            runtime.dynamodb.put_item(
                TableName=table,
                Item={"pk": {"S": "strict"}},
                ConditionExpression="attribute_not_exists(pk)",
                ExpressionAttributeValues={":unused": {"S": "x"}},
            )

        # Then moto accepts it, and DynamoDB Local refuses it as DynamoDB does
        if backend == "moto":
            put()
            assert endpoint is None
        else:
            with pytest.raises(ClientError, match="unused in expressions") as refused:
                put()
            assert refused.value.response["Error"]["Code"] == "ValidationException"
            assert endpoint == direct_client(runtime).meta.endpoint_url
            port = int(endpoint.rsplit(":", 1)[1])

    # And stopping the runtime restores the environment (and stops DynamoDB Local)
    assert dict(os.environ) == environment
    if backend == "dynamodb-local":
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_a_running_dynamodb_local_outlives_the_runtime_without_its_tables(
    project: Path, running_dynamodb_local: str
) -> None:
    # Given a DynamoDB Local that is already running
    backend = DynamoDbLocalBackend(running_dynamodb_local)

    # When a runtime uses it, then stops
    with LocalRuntime(project / "template.yaml", dynamodb=backend) as runtime:
        table = runtime.stack.resources["ItemsTable"]
        runtime.dynamodb.put_item(TableName=table, Item={"pk": {"S": "shared"}})
        # (a client with the runtime's credentials: DynamoDB Local keeps a database for each
        # access key and region)
        server = boto3.client("dynamodb", endpoint_url=running_dynamodb_local)
        during = server.list_tables()["TableNames"]

    # Then the runtime's table was there while it ran, and is gone; the server still answers
    assert table in during
    assert table not in server.list_tables()["TableNames"]


def test_a_stream_still_empty_when_the_mapping_started_delivers_its_first_records(
    on_dynamodb_local: LocalRuntime, project: Path
) -> None:
    # Given the mapping started on an empty shard, and another table's writes since (DynamoDB
    # Local numbers stream records across tables: the shard's first record is no longer where
    # the mapping's iterator points, and reading it fails with TrimmedDataAccessException)
    runtime = on_dynamodb_local
    other = runtime.stack.resources["OtherTable"]
    for n in range(3):
        runtime.dynamodb.put_item(TableName=other, Item={"pk": {"S": f"other-{n}"}})
    runtime.settle()

    # When the table of the mapping gets its first item
    table = runtime.stack.resources["ItemsTable"]
    runtime.dynamodb.put_item(TableName=table, Item={"pk": {"S": "first"}})
    runtime.settle()

    # Then the function gets it
    assert [r["eventName"] for r in stream_records(project, "first")] == ["INSERT"]


def test_functions_in_process_write_to_dynamodb_local_under_the_deployed_name(
    on_dynamodb_local: LocalRuntime,
) -> None:
    # Given the deployed table name, as the function's environment has it
    runtime = on_dynamodb_local
    table = runtime.stack.resources["ItemsTable"]

    # When the function puts an item with its own default client
    invocation = runtime.invoke("ItemsFunction", {"put": {"pk": {"S": "from-function"}}})

    # Then the item is in DynamoDB Local's table of that name, and moto's copy stays empty
    assert invocation.ok, invocation.error
    item = direct_client(runtime).get_item(TableName=table, Key={"pk": {"S": "from-function"}})
    assert item["Item"]["pk"] == {"S": "from-function"}
    assert moto_items(runtime, table) == 0


def test_stream_mapping_reads_dynamodb_local_with_empty_maps_as_aws_writes_them(
    on_dynamodb_local: LocalRuntime, project: Path
) -> None:
    # Given an item holding empty maps, written and then changed
    runtime = on_dynamodb_local
    table = runtime.stack.resources["ItemsTable"]
    empty = {"pk": {"S": "empty-maps"}, "m": {"M": {}}, "l": {"L": [{"M": {}}]}}
    runtime.dynamodb.put_item(TableName=table, Item=empty)
    runtime.dynamodb.put_item(TableName=table, Item={**empty, "n": {"N": "1"}})

    # When the runtime settles
    runtime.settle()

    # Then the function got both changes from DynamoDB Local's stream, empty maps as {"M": {}},
    # with the deployed stream ARN as eventSourceARN
    inserted, modified = stream_records(project, "empty-maps")
    assert inserted["dynamodb"]["NewImage"]["m"] == {"M": {}}
    assert inserted["dynamodb"]["NewImage"]["l"] == {"L": [{"M": {}}]}
    assert modified["dynamodb"]["OldImage"]["m"] == {"M": {}}
    local_arn = direct_client(runtime).describe_table(TableName=table)["Table"]["LatestStreamArn"]
    assert local_arn.startswith("arn:aws:dynamodb:ddblocal:")
    assert inserted["eventSourceARN"].startswith(f"arn:aws:dynamodb:us-east-1:{ACCOUNT_ID}:")
    assert inserted["eventSourceARN"].split("/stream/")[0].endswith(f"table/{table}")


def test_ttl_expiry_on_dynamodb_local_reaches_the_function_as_the_ttl_service(
    on_dynamodb_local: LocalRuntime, project: Path
) -> None:
    # Given an expired item and a live one (TTL attribute from the template)
    runtime = on_dynamodb_local
    table = runtime.stack.resources["ItemsTable"]
    now = time.time()
    for pk, expires in (("ttl-old", now - 60), ("ttl-live", now + 3600)):
        runtime.dynamodb.put_item(
            TableName=table, Item={"pk": {"S": pk}, "expires_at": {"N": str(int(expires))}}
        )
    runtime.settle()
    # (DynamoDB Local's own TTL sweep, seconds after expiry, is kept off: the item waits for
    # the TTL process, as an expired item on AWS stays readable until TTL gets to it)
    waiting = direct_client(runtime).get_item(TableName=table, Key={"pk": {"S": "ttl-old"}})

    # When TTL runs and the runtime settles
    deleted = runtime.streams_bridge.expire_items("ItemsTable", now)
    runtime.settle()

    # Then the expired item is gone from DynamoDB Local, and its REMOVE carries the TTL identity
    assert "Item" in waiting
    assert deleted == 1
    [removal] = [r for r in stream_records(project, "ttl-old") if r["eventName"] == "REMOVE"]
    assert removal["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    assert not [r for r in stream_records(project, "ttl-live") if r["eventName"] == "REMOVE"]
    assert "Item" not in direct_client(runtime).get_item(
        TableName=table, Key={"pk": {"S": "ttl-old"}}
    )
