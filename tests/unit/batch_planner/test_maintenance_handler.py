"""The batch planner's Lambda handler on the maintenance state machine's input, over fakes."""

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from batch_planner_fakes import app, load_event
from lambda_support import CapturedLogs, FakeLambdaContext, MetricsReader

from batch_planner.maintenance_plan import MaintainedTable, MaintenancePlanner
from batch_planner.maintenance_store import ConfiguredTables, DynamoMaintenanceLog, GlueTableCatalog
from batch_planner.settings import get_settings
from datalake_shared.event_shapes import EventShapeError
from datalake_shared.table_maintenance import TableMaintenance


@dataclass
class FakeTables:
    tables: list[MaintainedTable] = field(default_factory=list)
    reads: int = 0

    def maintained_tables(self) -> list[MaintainedTable]:
        self.reads += 1
        return self.tables


@dataclass
class FakeCatalog:
    """Every table exists unless listed as missing."""

    missing: set[str] = field(default_factory=set)

    def existing_tables(self, databases: Collection[str]) -> set[str]:
        return {f"{db}.{t}" for db in databases for t in ("orders", "customers", "order")} - (
            self.missing
        )


@dataclass
class FakeLog:
    entries: dict[str, datetime] = field(default_factory=dict)

    def last_maintained(self, keys: Collection[str]) -> Mapping[str, datetime]:
        return {key: when for key, when in self.entries.items() if key in keys}


def planner(*tables: MaintainedTable) -> MaintenancePlanner:
    return MaintenancePlanner(FakeTables(list(tables)), FakeCatalog(), FakeLog())


MERGED = MaintainedTable("sales", "customers", TableMaintenance(compact=False), "merge")


def test_the_nightly_request_plans_the_configured_and_the_template_tables(
    lambda_context: FakeLambdaContext,
) -> None:
    # Given the state machine's request (the template's orders table) and a configured table
    event = load_event("maintenance_run.json")
    # When the handler plans it
    output: Any = app.lambda_handler(event, lambda_context, maintenance_planner=planner(MERGED))
    # Then both are planned, each with its own statements
    assert [(t["key"], t["compact"]) for t in output["tables"]] == [
        ("datalake_events.orders", True),
        ("sales.customers", False),
    ]
    assert output["run_id"] == event["maintenance"]["run_id"]
    assert output["refused"] == []


@pytest.mark.parametrize(
    "template_tables",
    [["orders; DROP TABLE x"], ['"orders"'], ["Orders"], ["x" * 300]],
)
def test_a_hostile_template_table_fails_before_reading_anything(
    lambda_context: FakeLambdaContext, template_tables: list[str]
) -> None:
    # Given a request naming a table no config or template could
    event = load_event("maintenance_run.json")
    event["maintenance"]["template_tables"] = template_tables
    tables = FakeTables()
    # When handled / Then it is rejected as a bad input, and no table was read
    with pytest.raises(EventShapeError):
        app.lambda_handler(
            event,
            lambda_context,
            maintenance_planner=MaintenancePlanner(tables, FakeCatalog(), FakeLog()),
        )
    assert tables.reads == 0


def test_a_refused_table_is_logged_and_counted(
    lambda_context: FakeLambdaContext, logs: CapturedLogs, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a configured CDC table named with a reserved word (its config predates the rule)
    reserved = MaintainedTable("datalake_events", "order", TableMaintenance(), "cdc")
    # When planned
    output: Any = app.lambda_handler(
        load_event("maintenance_run.json"), lambda_context, maintenance_planner=planner(reserved)
    )
    # Then it is listed as refused (the execution fails at its end), the others planned
    assert [refused["key"] for refused in output["refused"]] == ["datalake_events.order"]
    assert [t["key"] for t in output["tables"]] == ["datalake_events.orders"]
    # ...logged as an error with the reason, and counted
    [error] = [r for r in logs.records() if r["level"] == "ERROR"]
    assert error["refused"][0]["key"] == "datalake_events.order"
    assert MetricsReader(capsys).totals()["TablesRefusedForMaintenance"] == 1


def test_the_default_planner_reads_the_configured_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the environment the template sets
    for name, value in {
        "BATCH_CONFIG_TABLE": "batch-config",
        "TABLE_CONFIG_TABLE": "table-config",
        "FILE_TRACKER_TABLE": "file-tracker",
        "GLUE_JOB_NAME": "cdc-merge",
        "TABLE_MAINTENANCE_TABLE": "table-maintenance",
        "LAKE_DATABASE": "lake",
        "CDC_TABLE_CONFIG_TABLE": "cdc-table-config",
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    app.default_maintenance_planner.cache_clear()
    try:
        # When the default maintenance planner is built
        built = app.default_maintenance_planner()
        # Then it reads both config tables, the lake database's CDC tables and the log
        tables = built.tables
        assert isinstance(tables, ConfiguredTables)
        assert tables.configs.table_table == "table-config"
        assert tables.cdc_tables is not None
        assert (tables.cdc_tables.table_name, tables.lake_database) == ("cdc-table-config", "lake")
        assert isinstance(built.log, DynamoMaintenanceLog)
        assert built.log.table_name == "table-maintenance"
        assert isinstance(built.catalog, GlueTableCatalog)
    finally:
        get_settings.cache_clear()
        app.default_maintenance_planner.cache_clear()
