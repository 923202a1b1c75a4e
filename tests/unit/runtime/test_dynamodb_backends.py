"""The DynamoDB backend switch, the DynamoDB Local adapter's record corrections and the stream
bridge's starting position, offline. The runtime on DynamoDB Local is covered in
tests/integration/test_dynamodb_local_switch.py."""

from pathlib import Path
from typing import Any

import boto3
import pytest
from hypothesis import given
from hypothesis import strategies as st
from moto import mock_aws

from local_runtime.activity import ActivityLog
from local_runtime.bridges import RuntimeServices
from local_runtime.bridges.dynamodb_backend import (
    LOCAL_DYNAMODB_VARIABLE,
    backend_name,
    dynamodb_backend,
)
from local_runtime.bridges.dynamodb_local import DynamoDbLocalBackend, restore_empty_maps
from local_runtime.bridges.dynamodb_moto import MotoDynamoDbBackend
from local_runtime.bridges.dynamodb_streams import DynamoDbStreamsBridge, StreamMapping
from local_runtime.deploy import DeployedStack
from local_runtime.functions import Invocation
from local_runtime.template import TranslatedTemplate

STREAM_ARN = "arn:aws:dynamodb:ddblocal:000000000000:table/orders/stream/2026-01-01T00:00:00.000"


# ---------------------------------------------------------------------- the switch
def test_moto_serves_dynamodb_unless_the_switch_says_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(LOCAL_DYNAMODB_VARIABLE, raising=False)

    assert backend_name() == "moto"
    assert isinstance(dynamodb_backend(), MotoDynamoDbBackend)


def test_the_environment_variable_selects_dynamodb_local(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LOCAL_DYNAMODB_VARIABLE, "dynamodb-local")

    backend = dynamodb_backend()

    assert backend.name == "dynamodb-local"
    assert isinstance(backend, DynamoDbLocalBackend)


def test_an_explicit_choice_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LOCAL_DYNAMODB_VARIABLE, "dynamodb-local")

    assert backend_name("moto") == "moto"


@pytest.mark.parametrize("value", ["dynamodb_local", "localstack", "MOTO"])
def test_an_unknown_backend_is_refused_with_the_variable_name(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(LOCAL_DYNAMODB_VARIABLE, value)

    with pytest.raises(ValueError, match=LOCAL_DYNAMODB_VARIABLE):
        backend_name()


# ---------------------------------------------------------------------- empty maps (3.3.1)
def test_an_empty_map_written_as_nothing_is_a_map_again() -> None:
    # Given an image as DynamoDB Local 3.3.1 streams it: empty maps have no type
    image = {
        "pk": {"S": "a"},
        "empty": {},
        "nested": {"M": {"inner": {}, "kept": {"N": "1"}}},
        "listed": {"L": [{}, {"S": "x"}, {"L": []}]},
        "blob": {"B": b"\x00"},
    }

    # When it is restored
    restored = restore_empty_maps(image)

    # Then every empty map reads {"M": {}}, wherever it sits, and nothing else changed
    assert restored == {
        "pk": {"S": "a"},
        "empty": {"M": {}},
        "nested": {"M": {"inner": {"M": {}}, "kept": {"N": "1"}}},
        "listed": {"L": [{"M": {}}, {"S": "x"}, {"L": []}]},
        "blob": {"B": b"\x00"},
    }


scalars = st.one_of(
    st.builds(lambda s: {"S": s}, st.text(max_size=5)),
    st.builds(lambda n: {"N": str(n)}, st.integers()),
    st.builds(lambda b: {"BOOL": b}, st.booleans()),
    st.just({"NULL": True}),
)
attribute_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.builds(lambda m: {"M": m}, st.dictionaries(st.text(max_size=3), children, max_size=3)),
        st.builds(lambda items: {"L": items}, st.lists(children, max_size=3)),
    ),
    max_leaves=12,
)


def as_dynamodb_local_writes_it(value: Any) -> Any:
    if value == {"M": {}}:
        return {}
    if "M" in value:
        return {"M": {k: as_dynamodb_local_writes_it(v) for k, v in value["M"].items()}}
    if "L" in value:
        return {"L": [as_dynamodb_local_writes_it(v) for v in value["L"]]}
    return value


@given(st.dictionaries(st.text(min_size=1, max_size=4), attribute_values, max_size=4))
def test_restoring_undoes_exactly_what_dynamodb_local_does_to_empty_maps(
    image: dict[str, Any],
) -> None:
    written = {name: as_dynamodb_local_writes_it(value) for name, value in image.items()}

    assert restore_empty_maps(written) == image


def test_a_removal_by_dynamodb_locals_own_ttl_sweep_reads_as_the_ttl_service() -> None:
    # Given a removal as DynamoDB Local 3.3.1 writes it when its TTL sweep deletes an item
    record = {
        "eventName": "UNKNOWN_TO_SDK_VERSION",
        "dynamodb": {
            "Keys": {"pk": {"S": "a"}},
            "OldImage": {"pk": {"S": "a"}, "expires_at": {"N": "1"}},
            "SequenceNumber": "000000000000000000009",
        },
    }

    # When the adapter hands it on
    stored = DynamoDbLocalBackend().as_stored(STREAM_ARN, record)

    # Then it is the REMOVE AWS writes for a TTL deletion
    assert stored["eventName"] == "REMOVE"
    assert stored["userIdentity"] == {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}


def test_records_read_from_dynamodb_local_are_corrected_in_every_image() -> None:
    # Given a MODIFY record whose old and new images hold an empty map
    record = {
        "eventName": "MODIFY",
        "dynamodb": {
            "Keys": {"pk": {"S": "a"}},
            "OldImage": {"pk": {"S": "a"}, "m": {}},
            "NewImage": {"pk": {"S": "a"}, "m": {"M": {"x": {}}}},
            "SequenceNumber": "000000000000000000007",
        },
    }

    # When the adapter hands it on
    stored = DynamoDbLocalBackend().as_stored(STREAM_ARN, record)

    # Then both images are as AWS writes them, the record read is untouched, and a removal the
    # TTL process did not make carries no identity
    assert stored["dynamodb"]["OldImage"]["m"] == {"M": {}}
    assert stored["dynamodb"]["NewImage"]["m"] == {"M": {"x": {"M": {}}}}
    assert record["dynamodb"]["OldImage"]["m"] == {}
    assert "userIdentity" not in stored


# ---------------------------------------------------------------------- starting position
class RecordingRunner:
    """Stands in for the function runner: every batch succeeds and is kept."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def invoke(self, function: str, event: dict[str, Any], trigger: str) -> Invocation:
        self.events.append(event)
        return Invocation(function=function, trigger=trigger, records=len(event["Records"]))


@mock_aws
def test_a_latest_mapping_gets_only_what_is_written_after_it_started(tmp_path: Path) -> None:
    # Given a stream that already holds a record
    dynamodb = boto3.client("dynamodb", "us-east-1")
    dynamodb.create_table(
        TableName="orders",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )
    dynamodb.put_item(TableName="orders", Item={"pk": {"S": "before"}})
    stream_arn = dynamodb.describe_table(TableName="orders")["Table"]["LatestStreamArn"]
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

    # When a mapping starting at LATEST starts, and then an item is written
    bridge.mappings.append(
        StreamMapping(
            uuid="u",
            stream_arn=stream_arn,
            table_name="orders",
            function_arn="arn:aws:lambda:us-east-1:123456789012:function:f",
            batch_size=10,
            starting_position="LATEST",
            maximum_retry_attempts=0,
            bisect_on_error=False,
            report_batch_item_failures=False,
            on_failure=None,
        )
    )
    started = bridge.pump()
    dynamodb.put_item(TableName="orders", Item={"pk": {"S": "after"}})
    delivered = bridge.pump()
    bridge.uninstall()

    # Then the function gets only the later item
    assert (started, delivered) == (0, 1)
    keys = [r["dynamodb"]["Keys"]["pk"]["S"] for e in runner.events for r in e["Records"]]
    assert keys == ["after"]
