"""Iceberg maintenance end to end on the deployed template: a config with per-table maintenance
settings, files merged by the batch dispatch (the merge job on DuckDB), then the nightly
maintenance schedule → planner → per table ALTER TABLE SET TBLPROPERTIES / OPTIMIZE / VACUUM
(Athena's .sync integration, the local Athena stand-in) → maintenance log."""

from typing import Any

import pytest

from dev.demo.cdc import (
    cdc_tables_config,
    create_cdc_sources,
    upload_cdc_config,
    write_cdc_sources,
)
from local_runtime import LocalRuntime
from local_runtime.bridges.dynamodb_backend import DYNAMODB_LOCAL, backend_name
from tests.integration.test_batch_dispatch import (
    example_config,
    land_dms_files,
    tick,
    upload_config,
)

NIGHTLY = "IcebergMaintenanceStateMachineNightly"
RETENTION = {"snapshot_retention_days": 3, "min_snapshots_to_keep": 2, "compact": False}


def maintain(runtime: LocalRuntime) -> dict[str, Any]:
    return tick(runtime, NIGHTLY)


def statements(runtime: LocalRuntime, database: str, table: str) -> list[str]:
    """The maintenance statements the stand-in ran on one table, in order."""
    engine = runtime.athena_bridge.engine
    return [m.statement for m in engine.maintenance if (m.database, m.table) == (database, table)]


def maintenance_log(runtime: LocalRuntime) -> dict[str, str]:
    names = runtime.dynamodb.list_tables()["TableNames"]
    [table] = [name for name in names if "TableMaintenanceTable" in name]
    items = runtime.dynamodb.scan(TableName=table)["Items"]
    return {item["table_key"]["S"]: item["last_maintained_at"]["S"] for item in items}


@pytest.fixture
def merged(runtime: LocalRuntime) -> LocalRuntime:
    """The example config, sales.orders with its own retention and no compaction, merged once."""
    config = example_config()
    [orders] = [t for t in config["tables"] if t["source_table"] == "sales.orders"]
    orders["maintenance"] = RETENTION
    upload_config(runtime, config)
    land_dms_files(runtime)
    assert tick(runtime)["status"] == "SUCCEEDED"
    return runtime


def test_a_merged_table_gets_its_configured_retention_and_vacuum(merged: LocalRuntime) -> None:
    # Given sales.orders merged, configured to keep 3 days / 2 snapshots, not compacted
    # When the nightly maintenance runs
    execution = maintain(merged)
    # Then it succeeded, set the table's retention from the config, and vacuumed without OPTIMIZE
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    engine = merged.athena_bridge.engine
    assert engine.table_properties[("sales", "orders")] == {
        "vacuum_max_snapshot_age_seconds": str(3 * 86_400),
        "vacuum_min_snapshots_to_keep": "2",
    }
    assert statements(merged, "sales", "orders") == ["VACUUM"]
    # ...and the example's customers table its own (config/pipeline.yaml: 7 days, 3 snapshots)
    assert engine.table_properties[("sales", "customers")] == {
        "vacuum_max_snapshot_age_seconds": str(7 * 86_400),
        "vacuum_min_snapshots_to_keep": "3",
    }


def test_the_stacks_cdc_table_is_maintained_with_athenas_defaults(merged: LocalRuntime) -> None:
    # Given the stack's own CDC table (the template's orders table in the lake database)
    database = merged.outputs["LakeDatabaseName"]
    # When the nightly maintenance runs
    assert maintain(merged)["status"] == "SUCCEEDED"
    # Then it is compacted and vacuumed with Athena's default retention
    assert statements(merged, database, "orders") == ["OPTIMIZE", "VACUUM"]
    assert merged.athena_bridge.engine.table_properties[(database, "orders")] == {
        "vacuum_max_snapshot_age_seconds": "432000",
        "vacuum_min_snapshots_to_keep": "1",
    }


@pytest.mark.skipif(
    backend_name() == DYNAMODB_LOCAL,
    reason="mappings created through moto's Lambda API need moto's own streams",
)
def test_a_configured_cdc_table_gets_its_own_retention(runtime: LocalRuntime) -> None:
    # Given the three CDC tables of the demo's config, device_readings keeping 2 days and not
    # compacted, created by their first changes
    config = cdc_tables_config()
    [readings] = [e for e in config["cdc_tables"] if e["target_table"] == "device_readings"]
    readings["maintenance"] = {"snapshot_retention_days": 2, "compact": False}
    create_cdc_sources(runtime)
    upload_cdc_config(runtime, config)
    write_cdc_sources(runtime)
    # When the nightly maintenance runs
    execution = maintain(runtime)
    # Then device_readings got its settings, and the other CDC tables Athena's defaults
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    database = runtime.outputs["LakeDatabaseName"]
    engine = runtime.athena_bridge.engine
    assert engine.table_properties[(database, "device_readings")] == {
        "vacuum_max_snapshot_age_seconds": str(2 * 86_400),
        "vacuum_min_snapshots_to_keep": "1",
    }
    assert statements(runtime, database, "device_readings") == ["VACUUM"]
    assert statements(runtime, database, "customers") == ["OPTIMIZE", "VACUUM"]


def test_each_success_is_logged_and_a_table_is_not_maintained_twice_a_day(
    merged: LocalRuntime,
) -> None:
    # Given one nightly run done
    assert maintain(merged)["status"] == "SUCCEEDED"
    logged = maintenance_log(merged)
    # Then every maintained table has its last success logged; the daily table not merged yet
    # (inventory.products_history does not exist) is neither maintained nor logged
    assert {"sales.orders", "sales.customers"} <= set(logged)
    assert "inventory.products_history" not in logged
    # When the schedule fires again the same day
    runs_before = len(merged.athena_bridge.engine.maintenance)
    assert maintain(merged)["status"] == "SUCCEEDED"
    # Then no table is due: nothing more ran
    assert len(merged.athena_bridge.engine.maintenance) == runs_before
