"""The workbook_tables reconciler on moto's Glue (and an in-memory QuickSight): one table per
listed entry, updated when it differs, deleted when no longer listed, other tables never
touched, a second run changing nothing; with QuickSight on, each table's SPICE dataset too, and
the table marked with it once it exists."""

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from pydantic import ValidationError
from quicksight_fake import FakeQuickSight

from datalake_shared.pipeline_config import PipelineConfig
from datalake_shared.workbook_catalog import (
    WorkbookTableReconciler,
    WorkbookTableSettings,
    workbook_table_reconciler,
)
from datalake_shared.workbook_datasets import OWNER_ACTIONS
from datalake_shared.workbook_tables import DATASET_PARAMETER, OWNER_PARAMETER

DATABASE = "lake"
STACK = "lake-stack"
ACCOUNT = "123456789012"
PRINCIPAL = f"arn:aws:quicksight:eu-west-1:{ACCOUNT}:user/default/analyst"
DATA_SOURCE = f"arn:aws:quicksight:eu-west-1:{ACCOUNT}:datasource/{STACK}-athena"
ORDERS: dict[str, Any] = {
    "name": "orders",
    "prefix": "incoming/orders/",
    "columns": [
        {"name": "region", "type": "string"},
        {"name": "order_date", "type": "date"},
        {"name": "units", "type": "integer"},
    ],
}
BUDGET: dict[str, Any] = {
    "name": "budget",
    "prefix": "incoming/finance/",
    "columns": [{"name": "cost_centre", "type": "string"}, {"name": "budget", "type": "number"}],
}


def config(*tables: dict[str, Any], listed: bool = True) -> PipelineConfig:
    data: dict[str, Any] = {
        "batches": [{"cadence": "hourly", "batch_size": 1, "max_parallel_batches": 1}]
    }
    if listed:
        data["workbook_tables"] = list(tables)
    return PipelineConfig.model_validate(data)


def settings(**overrides: str) -> WorkbookTableSettings:
    values = {
        "WORKBOOK_TABLE_DATABASE": DATABASE,
        "CLEAN_BUCKET": "clean",
        "WORKBOOK_UPLOAD_PREFIX": "incoming/",
        "WORKBOOK_TABLE_OWNER": STACK,
        **overrides,
    }
    return WorkbookTableSettings.model_validate(values)


@pytest.fixture
def glue() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("glue", region_name="eu-west-1")
        client.create_database(DatabaseInput={"Name": DATABASE})
        yield client


@pytest.fixture
def reconciler(glue: Any) -> WorkbookTableReconciler:
    made = workbook_table_reconciler(settings(), glue)
    assert made is not None
    return made


@pytest.fixture
def quicksight() -> FakeQuickSight:
    return FakeQuickSight(ACCOUNT)


QUICKSIGHT_ON = {"QUICKSIGHT_DATA_SOURCE_ARN": DATA_SOURCE, "QUICKSIGHT_PRINCIPAL_ARN": PRINCIPAL}
ORDERS_DATASET = f"{STACK}-workbook-orders"


@pytest.fixture
def with_datasets(glue: Any, quicksight: FakeQuickSight) -> WorkbookTableReconciler:
    made = workbook_table_reconciler(settings(**QUICKSIGHT_ON), glue, quicksight)
    assert made is not None
    return made


def dataset_mark(glue: Any, name: str) -> str | None:
    parameters = glue.get_table(DatabaseName=DATABASE, Name=name)["Table"]["Parameters"]
    mark: str | None = parameters.get(DATASET_PARAMETER)
    return mark


def tables(glue: Any) -> dict[str, dict[str, Any]]:
    listed = glue.get_tables(DatabaseName=DATABASE)["TableList"]
    return {table["Name"]: table for table in listed}


def plain_table(glue: Any, name: str, parameters: dict[str, str] | None = None) -> None:
    glue.create_table(
        DatabaseName=DATABASE,
        TableInput={
            "Name": name,
            "Parameters": parameters or {},
            "StorageDescriptor": {"Columns": [{"Name": "x", "Type": "string"}]},
        },
    )


def test_each_listed_table_is_created_over_its_prefix(
    reconciler: WorkbookTableReconciler, glue: Any
) -> None:
    # Given two workbook tables / When reconciled
    done = reconciler.reconcile(config(ORDERS, BUDGET))
    # Then both exist, each over its prefix of the clean bucket, marked with the stack's name
    assert sorted(done.created) == ["workbook_budget", "workbook_orders"]
    found = tables(glue)
    assert found["workbook_orders"]["StorageDescriptor"]["Location"] == (
        "s3://clean/incoming/orders/"
    )
    assert found["workbook_budget"]["Parameters"][OWNER_PARAMETER] == STACK
    # And QuickSight being off, no dataset is reported
    assert "datasets" not in done.summary()


def test_reconciling_the_same_file_again_changes_nothing(
    reconciler: WorkbookTableReconciler, glue: Any
) -> None:
    # Given the tables made once / When the same file is reconciled again
    reconciler.reconcile(config(ORDERS, BUDGET))
    done = reconciler.reconcile(config(ORDERS, BUDGET))
    # Then both tables are found as laid out: nothing is written
    assert done.summary() == {"created": [], "updated": [], "removed": [], "unchanged": 2}


def test_a_changed_column_updates_the_table(reconciler: WorkbookTableReconciler, glue: Any) -> None:
    # Given the orders table / When a column is added to it in the file
    reconciler.reconcile(config(ORDERS))
    wider = {**ORDERS, "columns": [*ORDERS["columns"], {"name": "paid", "type": "boolean"}]}
    done = reconciler.reconcile(config(wider))
    # Then the table is updated with it, in place
    assert done.updated == ("workbook_orders",)
    columns = tables(glue)["workbook_orders"]["StorageDescriptor"]["Columns"]
    assert [(c["Name"], c["Type"]) for c in columns][-1] == ("paid", "boolean")


def test_a_table_no_longer_listed_is_deleted_and_others_are_never_touched(
    reconciler: WorkbookTableReconciler, glue: Any
) -> None:
    # Given both tables, a plain table, and another stack's workbook table in the database
    reconciler.reconcile(config(ORDERS, BUDGET))
    plain_table(glue, "pipeline_metrics")
    plain_table(glue, "workbook_legacy", {OWNER_PARAMETER: "other-stack"})
    # When the file lists only the orders table
    done = reconciler.reconcile(config(ORDERS))
    # Then the budget table is deleted, and every other table is as it was
    assert done.removed == ("workbook_budget",)
    assert sorted(tables(glue)) == ["pipeline_metrics", "workbook_legacy", "workbook_orders"]


def test_a_file_without_the_key_leaves_the_tables_as_they_are(
    reconciler: WorkbookTableReconciler, glue: Any
) -> None:
    # Given the orders table / When a file without workbook_tables is reconciled
    reconciler.reconcile(config(ORDERS))
    done = reconciler.reconcile(config(listed=False))
    # Then the table stays
    assert not done.changed
    assert "workbook_orders" in tables(glue)


def test_an_empty_list_deletes_every_table_of_the_stack(
    reconciler: WorkbookTableReconciler, glue: Any
) -> None:
    # Given both tables / When the file lists none
    reconciler.reconcile(config(ORDERS, BUDGET))
    done = reconciler.reconcile(config())
    # Then both are deleted
    assert sorted(done.removed) == ["workbook_budget", "workbook_orders"]
    assert tables(glue) == {}


def test_a_prefix_outside_the_upload_prefix_is_a_problem(
    reconciler: WorkbookTableReconciler,
) -> None:
    # Given a table over a folder no workbook is cleaned into / Then the file is refused
    [problem] = reconciler.problems(config({**ORDERS, "prefix": "exports/orders/"}))
    assert problem.startswith("workbook_tables[0].prefix: 'exports/orders/' is outside")


def test_a_name_another_table_holds_is_a_problem(
    reconciler: WorkbookTableReconciler, glue: Any
) -> None:
    # Given a table workbook_orders this stack's loader did not make
    plain_table(glue, "workbook_orders")
    # Then a file declaring the orders table is refused
    [problem] = reconciler.problems(config(ORDERS))
    assert "already has a table 'workbook_orders'" in problem


def test_the_stacks_own_tables_are_no_problem(
    reconciler: WorkbookTableReconciler,
) -> None:
    # Given the tables made once / Then the same file has no problem
    reconciler.reconcile(config(ORDERS, BUDGET))
    assert reconciler.problems(config(ORDERS, BUDGET)) == []


def test_without_a_database_the_stack_keeps_no_workbook_tables() -> None:
    assert workbook_table_reconciler(settings(WORKBOOK_TABLE_DATABASE="")) is None


def test_settings_without_the_stacks_name_are_refused() -> None:
    # Given the tables on, but no owner to mark them with / Then the settings are refused
    with pytest.raises(ValidationError, match="WORKBOOK_TABLE_OWNER"):
        settings(WORKBOOK_TABLE_OWNER="")


@pytest.mark.parametrize(
    "only", ["QUICKSIGHT_DATA_SOURCE_ARN", "QUICKSIGHT_PRINCIPAL_ARN"], ids=["source", "principal"]
)
def test_settings_with_half_of_quicksight_are_refused(only: str) -> None:
    # Given one of QuickSight's two settings without the other / Then they are refused
    with pytest.raises(ValidationError, match="set together"):
        settings(**{only: QUICKSIGHT_ON[only]})


# ------------------------------------------------------------------------------ QuickSight on


def test_each_table_gets_its_spice_dataset_after_the_table(
    with_datasets: WorkbookTableReconciler, quicksight: FakeQuickSight
) -> None:
    # Given QuickSight on / When the orders table is reconciled
    done = with_datasets.reconcile(config(ORDERS))
    # Then its dataset is created, a SPICE import of the table through the data source
    data_set_id = f"{STACK}-workbook-orders"
    assert done.summary()["datasets"]["created"] == [data_set_id]
    dataset = quicksight.data_sets[data_set_id]
    assert dataset["ImportMode"] == "SPICE"
    sql = dataset["PhysicalTableMap"]["workbook"]["CustomSql"]
    assert sql["DataSourceArn"] == DATA_SOURCE
    assert 'FROM "lake"."workbook_orders"' in sql["SqlQuery"]
    # And its date column is typed by the query (empty: NULL), as QuickSight reads it
    assert 'CAST(NULLIF("order_date", \'\') AS date) AS "order_date"' in sql["SqlQuery"]
    assert [c["Type"] for c in sql["Columns"]] == ["STRING", "DATETIME", "INTEGER"]
    # And the stack's principal owns it
    assert quicksight.permissions[data_set_id] == [
        {"Principal": PRINCIPAL, "Actions": list(OWNER_ACTIONS)}
    ]


def test_an_unchanged_dataset_is_not_written_again(
    with_datasets: WorkbookTableReconciler, quicksight: FakeQuickSight
) -> None:
    # Given the dataset made once / When the same file is reconciled again
    with_datasets.reconcile(config(ORDERS))
    written = len(quicksight.changes())
    done = with_datasets.reconcile(config(ORDERS))
    # Then no dataset call changed anything (an update would start a SPICE refresh)
    assert done.summary()["datasets"] == {
        "created": [],
        "updated": [],
        "removed": [],
        "unchanged": 1,
    }
    assert len(quicksight.changes()) == written


def test_a_changed_table_updates_its_dataset(
    with_datasets: WorkbookTableReconciler, quicksight: FakeQuickSight
) -> None:
    # Given the orders dataset / When a column is added to the table
    with_datasets.reconcile(config(ORDERS))
    wider = {**ORDERS, "columns": [*ORDERS["columns"], {"name": "paid", "type": "boolean"}]}
    done = with_datasets.reconcile(config(wider))
    # Then the dataset is updated to read it
    data_set_id = f"{STACK}-workbook-orders"
    assert done.summary()["datasets"]["updated"] == [data_set_id]
    columns = quicksight.data_sets[data_set_id]["PhysicalTableMap"]["workbook"]["CustomSql"]
    assert columns["Columns"][-1] == {"Name": "paid", "Type": "BOOLEAN"}


def test_a_principal_without_permissions_is_granted_them(
    with_datasets: WorkbookTableReconciler, quicksight: FakeQuickSight
) -> None:
    # Given the dataset, whose permissions someone removed
    with_datasets.reconcile(config(ORDERS))
    data_set_id = f"{STACK}-workbook-orders"
    quicksight.permissions[data_set_id] = []
    # When reconciled again / Then the principal owns it again
    done = with_datasets.reconcile(config(ORDERS))
    assert done.summary()["datasets"]["updated"] == [data_set_id]
    assert quicksight.permissions[data_set_id][0]["Principal"] == PRINCIPAL


def test_a_removed_tables_dataset_is_deleted_before_the_table(
    with_datasets: WorkbookTableReconciler, quicksight: FakeQuickSight, glue: Any
) -> None:
    # Given both tables with their datasets, Glue's deletions recorded with QuickSight's calls
    with_datasets.reconcile(config(ORDERS, BUDGET))
    delete_table = with_datasets.glue.delete

    def recorded_delete(glue_name: str) -> None:
        quicksight.calls.append(("DeleteTable", glue_name))
        delete_table(glue_name)

    with_datasets.glue.delete = recorded_delete  # type: ignore[method-assign]
    # When the file lists only the orders table
    done = with_datasets.reconcile(config(ORDERS))
    # Then the budget dataset and table are gone, the dataset first
    assert done.summary()["datasets"]["removed"] == [f"{STACK}-workbook-budget"]
    deletions = [call for call in quicksight.calls if call[0].startswith("Delete")]
    assert deletions == [
        ("DeleteDataSet", f"{STACK}-workbook-budget"),
        ("DeleteTable", "workbook_budget"),
    ]
    assert sorted(quicksight.data_sets) == [ORDERS_DATASET]
    assert "workbook_budget" not in tables(glue)


def test_a_dataset_described_with_fields_of_quicksights_own_is_not_updated(
    with_datasets: WorkbookTableReconciler, quicksight: FakeQuickSight
) -> None:
    # Given the orders dataset, described back with fields QuickSight adds (column ids and
    # sub types, output columns, times)
    with_datasets.reconcile(config(ORDERS, BUDGET))
    for data_set_id in (ORDERS_DATASET, f"{STACK}-workbook-budget"):
        described = quicksight.data_sets[data_set_id]
        sql = described["PhysicalTableMap"]["workbook"]["CustomSql"]
        for column in sql["Columns"]:
            column.setdefault("SubType", "FIXED" if column["Type"] == "INTEGER" else "FLOAT")
            column["Id"] = f"id-{column['Name']}"
        described["OutputColumns"] = [{"Name": "region", "Type": "STRING"}]
        described["CreatedTime"] = "2026-07-01T00:00:00Z"
    written = len(quicksight.changes())
    # When the same file is reconciled again
    done = with_datasets.reconcile(config(ORDERS, BUDGET))
    # Then neither dataset is updated (an update is a full SPICE refresh)
    assert done.summary()["datasets"]["unchanged"] == 2
    assert len(quicksight.changes()) == written


def test_a_table_is_marked_with_its_dataset_once_the_dataset_exists(
    with_datasets: WorkbookTableReconciler, glue: Any
) -> None:
    # Given QuickSight on / When the orders table is made
    with_datasets.reconcile(config(ORDERS))
    # Then the table names its dataset
    assert dataset_mark(glue, "workbook_orders") == ORDERS_DATASET
    # And loading the file again writes no table version
    versions = glue.get_table_versions(DatabaseName=DATABASE, TableName="workbook_orders")
    with_datasets.reconcile(config(ORDERS))
    again = glue.get_table_versions(DatabaseName=DATABASE, TableName="workbook_orders")
    assert len(again["TableVersions"]) == len(versions["TableVersions"]) == 2


def test_a_table_whose_dataset_could_not_be_made_is_not_marked(
    with_datasets: WorkbookTableReconciler, quicksight: FakeQuickSight, glue: Any
) -> None:
    # Given QuickSight refusing the dataset
    quicksight.refuse_create = "AccessDeniedException"
    # When the orders table is reconciled / Then the error is raised (the loader is retried)
    with pytest.raises(ClientError, match="AccessDeniedException"):
        with_datasets.reconcile(config(ORDERS))
    # And the table exists, unmarked: no workbook of it is sent to a dataset that is not there
    assert dataset_mark(glue, "workbook_orders") is None


def test_quicksight_turned_on_later_marks_the_tables_at_the_next_load(
    reconciler: WorkbookTableReconciler, with_datasets: WorkbookTableReconciler, glue: Any
) -> None:
    # Given the orders table made with QuickSight off: unmarked
    reconciler.reconcile(config(ORDERS))
    assert dataset_mark(glue, "workbook_orders") is None
    # When the same file is loaded with QuickSight on
    done = with_datasets.reconcile(config(ORDERS))
    # Then the dataset is made and the table marked with it
    assert done.summary()["datasets"]["created"] == [ORDERS_DATASET]
    assert dataset_mark(glue, "workbook_orders") == ORDERS_DATASET


def test_with_quicksight_off_a_changed_table_keeps_its_mark(
    reconciler: WorkbookTableReconciler, with_datasets: WorkbookTableReconciler, glue: Any
) -> None:
    # Given the orders table and dataset made with QuickSight on
    with_datasets.reconcile(config(ORDERS))
    # When a column is added with QuickSight off (its datasets are left as they are)
    wider = {**ORDERS, "columns": [*ORDERS["columns"], {"name": "paid", "type": "boolean"}]}
    done = reconciler.reconcile(config(wider))
    # Then the table is updated, still naming its dataset
    assert done.updated == ("workbook_orders",)
    assert dataset_mark(glue, "workbook_orders") == ORDERS_DATASET


def test_a_dataset_id_over_quicksights_limit_is_a_problem(glue: Any) -> None:
    # Given a stack whose name leaves no room for the table's dataset id
    long_stack = "s" * 120
    on = settings(
        WORKBOOK_TABLE_OWNER=long_stack,
        QUICKSIGHT_DATA_SOURCE_ARN=DATA_SOURCE,
        QUICKSIGHT_PRINCIPAL_ARN=PRINCIPAL,
    )
    reconciler = workbook_table_reconciler(on, glue, FakeQuickSight(ACCOUNT))
    assert reconciler is not None
    # Then the file is refused before anything is made
    [problem] = reconciler.problems(config(ORDERS))
    assert "over 128 characters" in problem
