"""Batch dispatch end to end on the deployed template: a config upload, DMS files landing, a
cadence tick → planner → Map of Glue .sync runs (the merge job on DuckDB) → merged tables."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from datalake_shared.pipeline_config import parse_pipeline_config
from dev.demo.run import dms_output
from dev.glue_merge.job import lake_path
from dev.runtime import project_runtime
from local_runtime import LocalRuntime
from local_runtime.bridges.scheduler import ScheduleDisabledError
from tests.integration.conftest import tracker_items

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_CONFIG = ROOT / "config" / "pipeline.yaml"


def example_config(**batch_overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = parse_pipeline_config(
        EXAMPLE_CONFIG.read_text(), EXAMPLE_CONFIG.name
    ).model_dump(mode="json")
    for batch in config["batches"]:
        batch.update(batch_overrides)
    return config


def upload_config(runtime: LocalRuntime, config: dict[str, Any], name: str = "pipeline") -> None:
    # As JSON, which the loader accepts too (PyYAML's dumper is not worth its quirks here).
    runtime.s3.put_object(
        Bucket=runtime.outputs["ConfigBucketName"],
        Key=f"config/{name}.json",
        Body=json.dumps(config).encode(),
    )
    runtime.settle()


def land_dms_files(runtime: LocalRuntime, replace: dict[str, bytes] | None = None) -> None:
    for obj in dms_output():
        body = (replace or {}).get(obj.key, obj.body)
        runtime.s3.put_object(Bucket=runtime.outputs["StagingBucketName"], Key=obj.key, Body=body)
    runtime.settle()


def tick(runtime: LocalRuntime, cadence: str = "hourly") -> dict[str, Any]:
    arn = runtime.fire_schedule(cadence)
    runtime.settle()
    return runtime.stepfunctions_bridge.describe(arn)


def lake_rows(runtime: LocalRuntime, table: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(lake_path(runtime.workdir)), read_only=True) as lake:
        return lake.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()  # noqa: S608


@pytest.fixture
def configured(runtime: LocalRuntime) -> LocalRuntime:
    upload_config(runtime, example_config())
    return runtime


def test_uploaded_config_is_applied_by_the_config_loader(configured: LocalRuntime) -> None:
    # Given the example config uploaded under config/ (fixture)
    # Then the loader ran from the rule and stored every cadence and table
    [invocation] = configured.invocations
    assert invocation.function == "ConfigLoaderFunction"
    outputs = configured.outputs
    batches = configured.dynamodb.scan(TableName=outputs["BatchConfigTableName"])["Items"]
    tables = configured.dynamodb.scan(TableName=outputs["TableConfigTableName"])["Items"]
    assert sorted(item["cadence"]["S"] for item in batches) == ["15min", "daily", "hourly"]
    assert len(tables) == len(example_config()["tables"])


def test_invalid_config_is_rejected_whole_with_a_report(runtime: LocalRuntime) -> None:
    # Given a config whose second table is broken
    config = example_config()
    config["tables"][1]["primary_key"] = ["no_such_column"]

    # When it is uploaded
    upload_config(runtime, config, name="broken")

    # Then nothing is applied and the report next to the file names the problem
    outputs = runtime.outputs
    assert runtime.dynamodb.scan(TableName=outputs["TableConfigTableName"])["Count"] == 0
    report = (
        runtime.s3.get_object(
            Bucket=outputs["ConfigBucketName"], Key="config/broken.json.rejected.txt"
        )["Body"]
        .read()
        .decode()
    )
    assert "tables[1].primary_key" in report


def test_cadence_tick_merges_pending_files_into_the_lake(configured: LocalRuntime) -> None:
    # Given DMS full-load and CDC files landed and tracked
    land_dms_files(configured)

    # When the hourly schedule ticks
    execution = tick(configured)

    # Then the run succeeded and the tables hold the latest state of every key
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    assert [row[0] for row in lake_rows(configured, "sales.orders")] == [1001, 1002, 1004]
    orders = {row[0]: row for row in lake_rows(configured, "sales.orders")}
    assert orders[1002][-1] == "shipped"  # the CDC update won over the full load
    customers = {row[0]: row[1] for row in lake_rows(configured, "sales.customers")}
    assert customers[9] == "Alan M. Turing"
    # ...the hourly tables' files are no longer pending, the daily one's still are
    pending = {
        item["source_table"] for item in tracker_items(configured) if "pending_status" in item
    }
    assert pending == {"inventory.products"}
    # ...and the run was announced with its results
    finished = [e for e in configured.activity.published if e.detail_type == "Batch Run Finished"]
    assert [e.detail["any_batch_failed"] for e in finished] == [False]


def test_processing_history_records_counts_per_table(configured: LocalRuntime) -> None:
    land_dms_files(configured)

    tick(configured)

    items = configured.dynamodb.scan(TableName=configured.outputs["ProcessingHistoryTableName"])
    history = {i["source_table"]["S"]: i for i in items["Items"]}
    orders = history["sales.orders"]
    assert orders["status"]["S"] == "succeeded"
    assert (orders["inserted"]["N"], orders["updated"]["N"], orders["deleted"]["N"]) == (
        "4",
        "1",
        "1",
    )
    assert orders["files"]["N"] == "4"


def test_nothing_pending_starts_no_glue_run(configured: LocalRuntime) -> None:
    # Given a config but no landed files
    # When the hourly schedule ticks
    execution = tick(configured)

    # Then the run ends at once, without Glue
    assert execution["status"] == "SUCCEEDED"
    assert configured.glue_bridge.runs == []


def test_a_failing_batch_does_not_stop_the_others(runtime: LocalRuntime) -> None:
    # Given one table per batch, and a customers CDC file with a value that is not a bigint
    upload_config(runtime, example_config(batch_size=1))
    bad = b"U,2026-11-23 10:15:01,not-a-number,Alan M. Turing,GB\n"
    land_dms_files(runtime, {"sales/customers/2026/11/23/20261123-101501789.csv": bad})

    # When the hourly schedule ticks
    execution = tick(runtime)

    # Then the customers batch failed, the orders batch merged, and the run reports the failure
    states = sorted(
        (r.state, r.arguments["--batch"].count("sales.orders")) for r in runtime.glue_bridge.runs
    )
    assert states == [("FAILED", 0), ("SUCCEEDED", 1)]
    assert [row[0] for row in lake_rows(runtime, "sales.orders")] == [1001, 1002, 1004]
    assert execution["status"] == "FAILED"
    assert execution["error"] == "BatchesFailed"
    # ...the failed table is on record with its error, and its files wait for the next run
    history = runtime.dynamodb.scan(TableName=runtime.outputs["ProcessingHistoryTableName"])
    customers = next(i for i in history["Items"] if i["source_table"]["S"] == "sales.customers")
    assert customers["status"]["S"] == "failed"
    assert "customer_id" in customers["error"]["S"]
    pending = [i for i in tracker_items(runtime, "sales.customers") if "pending_status" in i]
    assert len(pending) == 2
    # ...and the run's event says so, batch by batch
    [finished] = [e for e in runtime.activity.published if e.detail_type == "Batch Run Finished"]
    assert finished.detail["any_batch_failed"] is True
    assert sorted(r["status"] for r in finished.detail["results"]) == ["FAILED", "SUCCEEDED"]


@pytest.fixture
def one_glue_run_at_a_time() -> Iterator[LocalRuntime]:
    with project_runtime(parameters={"GlueMaxConcurrentRuns": "1"}) as local:
        yield local


def test_glue_concurrent_runs_error_is_retried(one_glue_run_at_a_time: LocalRuntime) -> None:
    # Given Glue allows one run at a time and the cadence asks for two batches at once
    runtime = one_glue_run_at_a_time
    upload_config(runtime, example_config(batch_size=1, max_parallel_batches=2))
    land_dms_files(runtime)

    # When the hourly schedule ticks
    execution = tick(runtime)

    # Then Glue refused a run while the other ran, the state machine retried it, and all merged
    rejected = runtime.glue_bridge.rejected
    assert rejected
    assert all("ConcurrentRunsExceeded" in error for _, error in rejected)
    # the Retry's backoff (30 s, doubling), compressed locally
    assert runtime.stepfunctions_bridge.retry_waits
    assert all(wait >= 0 for wait in runtime.stepfunctions_bridge.retry_waits)
    assert execution["status"] == "SUCCEEDED"
    assert [r.state for r in runtime.glue_bridge.runs] == ["SUCCEEDED", "SUCCEEDED"]
    # ...and both tables merged
    assert [row[0] for row in lake_rows(runtime, "sales.customers")] == [7, 9, 42]


def test_disabled_schedules_do_not_fire() -> None:
    # Given CadenceSchedulesState DISABLED: the loader creates each cadence's schedule disabled
    with project_runtime(parameters={"CadenceSchedulesState": "DISABLED"}) as runtime:
        upload_config(runtime, example_config())
        # When the hourly schedule is fired / Then it does not run
        with pytest.raises(ScheduleDisabledError):
            runtime.fire_schedule("hourly")
