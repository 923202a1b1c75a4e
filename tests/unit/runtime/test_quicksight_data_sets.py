"""The local runtime's QuickSight datasets (moto answers CreateDataSet only): a dataset is
described, updated, deleted and its permissions kept as QuickSight does, unknown ids are
ResourceNotFoundException (an ingestion of one too), and uninstalling leaves moto as it was."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.quicksight import urls as quicksight_urls
from moto.quicksight.responses import QuickSightResponse

from local_runtime.activity import ActivityLog
from local_runtime.bridges import RuntimeServices
from local_runtime.bridges.quicksight import QuickSightBridge
from local_runtime.bridges.quicksight_data_sets import QuickSightDataSets
from local_runtime.deploy import DeployedStack
from local_runtime.moto_adapter.hooks import Patches
from local_runtime.template import TranslatedTemplate

ACCOUNT = "123456789012"
ANALYST = f"arn:aws:quicksight:us-east-1:{ACCOUNT}:user/default/analyst"
TABLE_MAP = {
    "t": {
        "CustomSql": {
            "DataSourceArn": f"arn:aws:quicksight:us-east-1:{ACCOUNT}:datasource/athena",
            "Name": "orders",
            "SqlQuery": 'SELECT "region" FROM "lake"."workbook_orders"',
            "Columns": [{"Name": "region", "Type": "STRING"}],
        }
    }
}


@pytest.fixture
def quicksight() -> Iterator[Any]:
    patches = Patches()
    with mock_aws():
        QuickSightDataSets().install(patches)
        try:
            yield boto3.client("quicksight", region_name="us-east-1")
        finally:
            patches.restore()


def create(quicksight: Any, data_set_id: str = "orders") -> None:
    quicksight.create_data_set(
        AwsAccountId=ACCOUNT,
        DataSetId=data_set_id,
        Name="Orders",
        PhysicalTableMap=TABLE_MAP,
        ImportMode="SPICE",
        Permissions=[{"Principal": ANALYST, "Actions": ["quicksight:DescribeDataSet"]}],
    )


def error_code(call: Any, **arguments: Any) -> str:
    with pytest.raises(ClientError) as raised:
        call(AwsAccountId=ACCOUNT, **arguments)
    return str(raised.value.response["Error"]["Code"])


def test_a_created_dataset_is_described_as_it_was_created(quicksight: Any) -> None:
    create(quicksight)
    described = quicksight.describe_data_set(AwsAccountId=ACCOUNT, DataSetId="orders")["DataSet"]
    assert (described["Name"], described["ImportMode"]) == ("Orders", "SPICE")
    assert described["PhysicalTableMap"] == TABLE_MAP
    assert described["Arn"].endswith(":dataset/orders")


def test_an_update_replaces_the_definition(quicksight: Any) -> None:
    create(quicksight)
    quicksight.update_data_set(
        AwsAccountId=ACCOUNT,
        DataSetId="orders",
        Name="Orders v2",
        PhysicalTableMap=TABLE_MAP,
        ImportMode="DIRECT_QUERY",
    )
    described = quicksight.describe_data_set(AwsAccountId=ACCOUNT, DataSetId="orders")["DataSet"]
    assert (described["Name"], described["ImportMode"]) == ("Orders v2", "DIRECT_QUERY")


def test_a_deleted_dataset_is_gone(quicksight: Any) -> None:
    create(quicksight)
    quicksight.delete_data_set(AwsAccountId=ACCOUNT, DataSetId="orders")
    code = error_code(quicksight.describe_data_set, DataSetId="orders")
    assert code == "ResourceNotFoundException"


@pytest.mark.parametrize(
    "operation", ["describe_data_set", "delete_data_set", "describe_data_set_permissions"]
)
def test_an_unknown_dataset_is_not_found(quicksight: Any, operation: str) -> None:
    code = error_code(getattr(quicksight, operation), DataSetId="missing")
    assert code == "ResourceNotFoundException"


def test_an_existing_id_cannot_be_created_again(quicksight: Any) -> None:
    create(quicksight)
    with pytest.raises(ClientError, match="ResourceExistsException"):
        create(quicksight)


def test_granted_actions_join_the_principals_and_revoked_ones_leave(quicksight: Any) -> None:
    # Given a dataset the analyst may describe
    create(quicksight)
    # When delete is granted and describe revoked
    quicksight.update_data_set_permissions(
        AwsAccountId=ACCOUNT,
        DataSetId="orders",
        GrantPermissions=[{"Principal": ANALYST, "Actions": ["quicksight:DeleteDataSet"]}],
        RevokePermissions=[{"Principal": ANALYST, "Actions": ["quicksight:DescribeDataSet"]}],
    )
    # Then the analyst holds delete only
    permissions = quicksight.describe_data_set_permissions(
        AwsAccountId=ACCOUNT, DataSetId="orders"
    )["Permissions"]
    assert permissions == [{"Principal": ANALYST, "Actions": ["quicksight:DeleteDataSet"]}]


def test_uninstalling_leaves_moto_as_it_was() -> None:
    # Given moto's QuickSight routes and responses
    routes = dict(quicksight_urls.url_paths)
    create_data_set = QuickSightResponse.create_data_set
    patches = Patches()
    # When the datasets are installed, then restored
    QuickSightDataSets().install(patches)
    patched = hasattr(QuickSightResponse, "describe_data_set")
    patches.restore()
    # Then the routes and responses are moto's own again
    assert patched
    assert dict(quicksight_urls.url_paths) == routes
    assert QuickSightResponse.create_data_set is create_data_set
    assert not hasattr(QuickSightResponse, "describe_data_set")


# ------------------------------------------------------------------------------ ingestions


@pytest.fixture
def bridge(tmp_path: Path) -> Iterator[QuickSightBridge]:
    """The QuickSight bridge (ingestions and datasets) on an empty stack."""
    installed = QuickSightBridge()
    with mock_aws():
        installed.install(
            RuntimeServices(
                session=boto3.session.Session(region_name="us-east-1"),
                runner=None,  # type: ignore[arg-type]  # no function runs here
                activity=ActivityLog(),
                stack=DeployedStack("empty", {}, {}, {}),
                template=TranslatedTemplate({"Resources": {}}),
                async_invoker=None,  # type: ignore[arg-type]
                workdir=tmp_path,
            )
        )
        try:
            yield installed
        finally:
            installed.uninstall()


def ingest(data_set_id: str) -> dict[str, Any]:
    client = boto3.client("quicksight", region_name="us-east-1")
    created: dict[str, Any] = client.create_ingestion(
        AwsAccountId=ACCOUNT, DataSetId=data_set_id, IngestionId="i-1"
    )
    return created


def test_an_ingestion_of_a_dataset_that_does_not_exist_is_not_found(
    bridge: QuickSightBridge,
) -> None:
    # Given no dataset "orders" / When an ingestion of it is created / Then, as on AWS, 404
    with pytest.raises(ClientError) as raised:
        ingest("orders")
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert bridge.ingestions == {}


def test_an_ingestion_of_a_created_dataset_starts(bridge: QuickSightBridge) -> None:
    # Given the dataset created / When an ingestion of it is created / Then it starts
    create(boto3.client("quicksight", region_name="us-east-1"))
    assert ingest("orders")["IngestionStatus"] == "INITIALIZED"


def test_an_ingestion_of_a_deleted_dataset_is_not_found(bridge: QuickSightBridge) -> None:
    # Given the dataset created, then deleted
    client = boto3.client("quicksight", region_name="us-east-1")
    create(client)
    client.delete_data_set(AwsAccountId=ACCOUNT, DataSetId="orders")
    # When an ingestion of it is created / Then it is not found
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        ingest("orders")


def test_a_dataset_made_outside_the_stack_is_declared_to_the_bridge(
    bridge: QuickSightBridge,
) -> None:
    # Given a dataset made in QuickSight (a SpiceDatasets entry's), declared
    bridge.add_dataset("sales")
    # When an ingestion of it is created / Then it starts
    assert ingest("sales")["IngestionStatus"] == "INITIALIZED"
