from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from catalog_type_fixer_fakes import (
    DATABASE,
    app,
    column_types,
    crawled_table,
    load_event,
    parquet_table,
)
from lambda_support import FakeLambdaContext
from moto import mock_aws

from catalog_type_fixer.catalog import GlueCatalog
from catalog_type_fixer.service import (
    CatalogTypeFixer,
    TableChangedMeanwhileError,
    TableNotFoundError,
    fixed_table_input,
)

CREATE_KEYS = (
    "Name",
    "Owner",
    "Retention",
    "StorageDescriptor",
    "PartitionKeys",
    "TableType",
    "Parameters",
)


def create_input(table: dict[str, Any]) -> dict[str, Any]:
    """What a crawler's CreateTable sends for the table of a saved GetTable response."""
    return {key: table[key] for key in CREATE_KEYS}


@pytest.fixture
def glue() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("glue", region_name="us-east-1")
        client.create_database(DatabaseInput={"Name": DATABASE})
        client.create_table(DatabaseName=DATABASE, TableInput=create_input(crawled_table()))
        client.create_table(DatabaseName=DATABASE, TableInput=create_input(parquet_table()))
        yield client


def test_fix_through_glue_makes_sets_arrays(glue: Any) -> None:
    # Given the crawled table in the catalog
    catalog = GlueCatalog(client=glue)
    table = catalog.get_table(DATABASE, "sessions")
    # When the adapter updates it with the fixed input at the version read
    catalog.update_table(DATABASE, fixed_table_input(table), table["VersionId"])
    # Then GetTable shows arrays where the sets were
    after = glue.get_table(DatabaseName=DATABASE, Name="sessions")["Table"]
    assert column_types(after) == {
        "session_id": "string",
        "started_at": "bigint",
        "tags": "array<string>",
        "page_ids": "array<bigint>",
        "device": "struct<tags:array<string>,n:bigint>",
        "experiments": "map<string,array<string>>",
        "offset": "struct<offset:bigint,asset:string,set:boolean>",
    }


def test_fix_through_glue_keeps_parameters_location_and_partition_keys(glue: Any) -> None:
    # Given the Parquet table with a set column added by a crawler
    table = parquet_table()
    table["StorageDescriptor"]["Columns"].append({"Name": "labels", "Type": "set<string>"})
    glue.update_table(DatabaseName=DATABASE, TableInput=create_input(table))
    # When the handler's fixer fixes it through the adapter
    fixer = CatalogTypeFixer(frozenset({DATABASE}), GlueCatalog(client=glue))
    event = load_event("table_updated.json")
    event["Records"][0]["body"] = event["Records"][0]["body"].replace("sessions", "orders_parquet")
    response = app.lambda_handler(event, FakeLambdaContext(), fixer=fixer)
    # Then the column is an array and the rest is as the crawler wrote it
    after = glue.get_table(DatabaseName=DATABASE, Name="orders_parquet")["Table"]
    assert response == {"batchItemFailures": []}
    assert column_types(after)["labels"] == "array<string>"
    assert after["PartitionKeys"] == table["PartitionKeys"]
    assert after["Parameters"] == table["Parameters"]
    descriptor = {k: v for k, v in after["StorageDescriptor"].items() if k != "Columns"}
    assert descriptor == {k: v for k, v in table["StorageDescriptor"].items() if k != "Columns"}


def test_missing_table_is_table_not_found(glue: Any) -> None:
    # Given no such table / When read / Then TableNotFoundError names it
    with pytest.raises(TableNotFoundError, match=r"crawled_db\.gone"):
        GlueCatalog(client=glue).get_table(DATABASE, "gone")


def stubbed_update(code: str) -> tuple[GlueCatalog, Stubber]:
    """The adapter over a real client whose UpdateTable answers with Glue's ``code`` error,
    expecting the version read (moto ignores VersionId, so botocore's Stubber stands in)."""
    client = boto3.client(
        "glue", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    stubber = Stubber(client)
    stubber.add_client_error(
        "update_table",
        service_error_code=code,
        service_message="Update table failed due to concurrent modifications.",
        expected_params={
            "DatabaseName": DATABASE,
            "TableInput": {"Name": "sessions"},
            "VersionId": "3",
        },
    )
    stubber.activate()
    return GlueCatalog(client=client), stubber


def test_concurrent_modification_becomes_table_changed_meanwhile() -> None:
    # Given Glue answers the update at version 3 with ConcurrentModificationException
    catalog, stubber = stubbed_update("ConcurrentModificationException")
    # When updated / Then the adapter says the table changed since version 3
    with pytest.raises(TableChangedMeanwhileError, match="after version 3"):
        catalog.update_table(DATABASE, {"Name": "sessions"}, "3")
    stubber.assert_no_pending_responses()


def test_table_deleted_before_the_update_is_table_not_found() -> None:
    # Given Glue answers the update with EntityNotFoundException
    catalog, _ = stubbed_update("EntityNotFoundException")
    # When updated / Then the adapter says the table is gone
    with pytest.raises(TableNotFoundError):
        catalog.update_table(DATABASE, {"Name": "sessions"}, "3")


def test_other_errors_stay_client_errors() -> None:
    # Given Glue answers the update with AccessDeniedException
    catalog, _ = stubbed_update("AccessDeniedException")
    # When updated / Then the ClientError comes through as it is
    with pytest.raises(ClientError, match="AccessDeniedException"):
        catalog.update_table(DATABASE, {"Name": "sessions"}, "3")


def test_client_is_created_on_first_use_only(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given boto3.client counted
    made: list[str] = []
    monkeypatch.setattr(boto3, "client", lambda service: made.append(service) or object())
    # When the adapter is built, then its client is used twice
    catalog = GlueCatalog()
    assert made == []
    first, second = catalog.client, catalog.client
    # Then one Glue client was created, on first use
    assert (made, first is second) == (["glue"], True)
