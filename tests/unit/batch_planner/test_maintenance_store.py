"""The maintenance planner's reads against moto, on the tables as template.yaml declares them:
every cadence's merged tables, which exist in Glue, and the maintenance log the state machine
writes."""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from batch_planner_fakes import table_config
from moto_dynamodb import template_tables

from batch_planner.maintenance_store import (
    ConfiguredTables,
    DynamoMaintenanceLog,
    GlueTableCatalog,
)
from datalake_shared.cdc_tables import CdcTableConfig, CdcTableStore
from datalake_shared.config_store import PipelineConfigStore
from datalake_shared.pipeline_config import PipelineConfig
from datalake_shared.table_maintenance import LOG_KEY_ATTRIBUTE, LOG_TIME_ATTRIBUTE

NAMES = {
    "BatchConfigTable": "batch-config",
    "TableConfigTable": "table-config",
    "TableMaintenanceTable": "table-maintenance",
    "CdcTableConfigTable": "cdc-table-config",
}


@pytest.fixture
def dynamodb(sam_template: dict[str, Any]) -> Iterator[Any]:
    with template_tables(sam_template, NAMES) as client:
        yield client


def test_every_cadences_active_tables_are_maintained(dynamodb: Any) -> None:
    # Given tables of two cadences stored, one of them paused, one with its own settings
    store = PipelineConfigStore("batch-config", "table-config", client=dynamodb)
    slow = {
        **table_config("crm.contacts", cadence="daily").model_dump(),
        "maintenance": {"compact": False},
    }
    store.apply(
        PipelineConfig.model_validate(
            {
                "batches": [
                    {"cadence": "hourly", "batch_size": 2, "max_parallel_batches": 1},
                    {"cadence": "daily", "batch_size": 2, "max_parallel_batches": 1},
                ],
                "tables": [
                    table_config("sales.orders").model_dump(),
                    table_config("hr.staff", active=False).model_dump(),
                    slow,
                ],
            }
        )
    )
    # When the maintained tables are listed
    tables = ConfiguredTables(store, None, "lake").maintained_tables()
    # Then both cadences' active tables are there, each with its own settings
    assert sorted((t.key, t.maintenance.compact, t.origin) for t in tables) == [
        ("lake.crm_contacts", False, "merge"),
        ("lake.sales_orders", True, "merge"),
    ]


def test_active_cdc_tables_are_maintained_in_the_lake_database(dynamodb: Any) -> None:
    # Given two CDC table configs stored, one with its own retention, one inactive
    entry = {
        "source_table": "cdc-readings",
        "target_table": "device_readings",
        "columns": [{"name": "device_id", "type": "bigint"}],
        "key_columns": ["device_id"],
        "maintenance": {"snapshot_retention_days": 2},
    }
    stopped = {**entry, "source_table": "cdc-old", "target_table": "old", "active": False}
    cdc = CdcTableStore("cdc-table-config", client=dynamodb)
    cdc.put_all([CdcTableConfig.model_validate(e) for e in (entry, stopped)])
    configs = PipelineConfigStore("batch-config", "table-config", client=dynamodb)
    # When the maintained tables are listed
    tables = ConfiguredTables(configs, cdc, "lake").maintained_tables()
    # Then the active one is there, in the lake database, with its settings
    assert [(t.key, t.maintenance.snapshot_retention_days, t.origin) for t in tables] == [
        ("lake.device_readings", 2, "cdc")
    ]


def test_the_log_reads_each_tables_last_success(dynamodb: Any) -> None:
    # Given two tables logged as the state machine writes them, over a BatchGetItem's 100 keys
    moment = "2026-11-24T03:30:00.123456+00:00"
    for key in ("sales.orders", "sales.customers"):
        dynamodb.put_item(
            TableName="table-maintenance",
            Item={LOG_KEY_ATTRIBUTE: {"S": key}, LOG_TIME_ATTRIBUTE: {"S": moment}},
        )
    keys = {"sales.orders", "sales.customers"} | {f"db.t{n}" for n in range(150)}
    # When read / Then the logged ones come back as times, the others are absent (never)
    found = DynamoMaintenanceLog("table-maintenance", client=dynamodb).last_maintained(keys)
    assert found == {
        "sales.orders": datetime(2026, 11, 24, 3, 30, 0, 123456, tzinfo=UTC),
        "sales.customers": datetime(2026, 11, 24, 3, 30, 0, 123456, tzinfo=UTC),
    }


def test_a_damaged_log_entry_reads_as_never_maintained(dynamodb: Any) -> None:
    # Given an entry whose time is not a time
    dynamodb.put_item(
        TableName="table-maintenance",
        Item={LOG_KEY_ATTRIBUTE: {"S": "sales.orders"}, LOG_TIME_ATTRIBUTE: {"S": "yesterday"}},
    )
    # When read / Then the table counts as never maintained (so it is maintained again)
    log = DynamoMaintenanceLog("table-maintenance", client=dynamodb)
    assert log.last_maintained({"sales.orders"}) == {}


def test_the_catalog_lists_the_tables_that_exist(dynamodb: Any) -> None:
    # Given one database with a table, and a configured database not created yet
    glue = boto3.client("glue")
    glue.create_database(DatabaseInput={"Name": "sales"})
    glue.create_table(DatabaseName="sales", TableInput={"Name": "orders"})
    # When the existing tables are listed / Then the table is there and the missing one is not
    existing = GlueTableCatalog(client=glue).existing_tables({"sales", "inventory"})
    assert existing == {"sales.orders"}
