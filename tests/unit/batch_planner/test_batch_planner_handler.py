"""The batch planner's Lambda handler, with the sample inputs and a planner over fakes."""

import json
from typing import Any

import pytest
from batch_planner_fakes import (
    GLUE_JOB,
    FakeConfigSource,
    FakePendingTables,
    app,
    batch_config,
    load_event,
    planner_with,
    table_config,
    tables,
)
from lambda_support import CapturedLogs, FakeLambdaContext

from batch_planner.service import BatchPlanner, UnknownCadenceError
from batch_planner.settings import get_settings
from batch_planner.store import DynamoPendingTables
from datalake_shared.config_store import PipelineConfigStore
from datalake_shared.event_shapes import EventShapeError

SAMPLE_RUN = "hourly-2026-11-23T10-00-00Z"


@pytest.fixture
def configs() -> FakeConfigSource:
    """An hourly cadence of three active tables and a paused one, two per Glue run."""
    return FakeConfigSource.of(
        batch_config("hourly", batch_size=2, max_parallel_batches=3),
        [
            *tables("sales.orders", "sales.items", "crm.customers"),
            table_config("hr.staff", active=False),
        ],
    )


@pytest.fixture
def pending() -> FakePendingTables:
    return FakePendingTables({"sales.orders", "crm.customers", "hr.staff", "ops.audit"})


@pytest.fixture
def planner(configs: FakeConfigSource, pending: FakePendingTables) -> BatchPlanner:
    return planner_with(configs, pending)


def emitted_metrics(capsys: pytest.CaptureFixture[str]) -> dict[str, float]:
    """Totals of the CloudWatch EMF metrics Powertools printed."""
    totals: dict[str, float] = {}
    for line in capsys.readouterr().out.splitlines():
        blob = json.loads(line) if line.startswith("{") else {}
        for directive in blob.get("_aws", {}).get("CloudWatchMetrics", []):
            for metric in directive["Metrics"]:
                value = blob[metric["Name"]]  # a list when Powertools aggregated values
                values = value if isinstance(value, list) else [value]
                totals[metric["Name"]] = totals.get(metric["Name"], 0) + sum(values)
    return totals


def test_sample_tick_plans_the_pending_active_tables(
    planner: BatchPlanner, lambda_context: FakeLambdaContext
) -> None:
    # Given the state machine's hourly input
    event = load_event("hourly_tick.json")
    # When the handler runs
    output = app.lambda_handler(event, lambda_context, planner=planner)
    # Then the two pending active tables form one batch of the configured Glue job
    assert {key: value for key, value in output.items() if key != "batches"} == {
        "cadence": "hourly",
        "run_id": SAMPLE_RUN,
        "glue_job_name": GLUE_JOB,
        "max_concurrency": 3,
        "worker_type": "G.2X",
        "number_of_workers": 4,
        "table_count": 2,
        "batch_count": 1,
    }
    [batch] = output["batches"]
    assert batch["batch_id"] == f"hourly-{SAMPLE_RUN}-001"
    assert batch["tables"] == ["crm.customers", "sales.orders"]


def test_output_is_plain_json(planner: BatchPlanner, lambda_context: FakeLambdaContext) -> None:
    # Given the sample input / When handled
    output = app.lambda_handler(load_event("hourly_tick.json"), lambda_context, planner=planner)
    # Then it survives a JSON round trip unchanged, as Lambda and Step Functions will send it
    assert json.loads(json.dumps(output)) == output


def test_batches_name_their_tables_so_large_plans_stay_small(
    planner: BatchPlanner, lambda_context: FakeLambdaContext
) -> None:
    # Given the sample input / When handled
    output = app.lambda_handler(load_event("hourly_tick.json"), lambda_context, planner=planner)
    # Then a batch lists source tables by name (the Glue job reads their configs itself)
    assert all(isinstance(table, str) for table in output["batches"][0]["tables"])


def test_nothing_pending_returns_no_batches(
    configs: FakeConfigSource, lambda_context: FakeLambdaContext
) -> None:
    # Given no pending file anywhere
    planner = planner_with(configs, FakePendingTables())
    # When the tick is handled
    output = app.lambda_handler(load_event("hourly_tick.json"), lambda_context, planner=planner)
    # Then the Map gets an empty list
    assert (output["batches"], output["table_count"], output["batch_count"]) == ([], 0, 0)


def test_unknown_cadence_fails_the_execution_and_says_why(
    planner: BatchPlanner,
    lambda_context: FakeLambdaContext,
    logs: CapturedLogs,
) -> None:
    # Given an input for a cadence nobody configured
    event = load_event("unknown_cadence.json")
    # When handled / Then it raises naming the cadence
    with pytest.raises(UnknownCadenceError, match="'fortnightly'"):
        app.lambda_handler(event, lambda_context, planner=planner)
    # And the error is logged with the cadence and run id
    [error] = [r for r in logs.records() if r["level"] == "ERROR"]
    assert (error["cadence"], error["run_id"]) == ("fortnightly", event["run_id"])


@pytest.mark.parametrize(
    "event",
    [
        {"run_id": SAMPLE_RUN},
        {"cadence": "hourly"},
        {"cadence": "Hourly!", "run_id": SAMPLE_RUN},
        {"cadence": "hourly", "run_id": ""},
        {"cadence": "hourly", "run_id": "x" * 81},
    ],
    ids=["no-cadence", "no-run-id", "bad-cadence", "empty-run-id", "long-run-id"],
)
def test_invalid_input_fails_before_reading_anything(
    event: dict[str, Any],
    configs: FakeConfigSource,
    pending: FakePendingTables,
    lambda_context: FakeLambdaContext,
) -> None:
    # Given an input the state machine should never send / When handled / Then it is rejected
    with pytest.raises(EventShapeError, match=r"^expected the dispatch state machine's input"):
        app.lambda_handler(event, lambda_context, planner=planner_with(configs, pending))
    # And neither the configuration nor the index was read
    assert (configs.table_loads, pending.calls) == ([], 0)


def test_plan_is_counted_in_metrics(
    planner: BatchPlanner, lambda_context: FakeLambdaContext, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the sample input / When handled
    app.lambda_handler(load_event("hourly_tick.json"), lambda_context, planner=planner)
    # Then the planned tables and batches are published
    assert emitted_metrics(capsys) == {"TablesPlanned": 2, "BatchesPlanned": 1}


def test_metrics_carry_the_cadence_dimension(
    planner: BatchPlanner, lambda_context: FakeLambdaContext, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the sample input / When handled
    app.lambda_handler(load_event("hourly_tick.json"), lambda_context, planner=planner)
    # Then the metrics can be told apart per cadence
    blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    [blob] = blobs
    assert blob["cadence"] == "hourly"
    assert ["cadence" in dims for dims in blob["_aws"]["CloudWatchMetrics"][0]["Dimensions"]] == [
        True
    ]


def test_default_planner_reads_the_configured_tables_and_job(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the environment the template sets
    monkeypatch.setenv("BATCH_CONFIG_TABLE", "batch-config")
    monkeypatch.setenv("TABLE_CONFIG_TABLE", "table-config")
    monkeypatch.setenv("FILE_TRACKER_TABLE", "file-tracker")
    monkeypatch.setenv("GLUE_JOB_NAME", "cdc-merge")
    monkeypatch.setenv("TABLE_MAINTENANCE_TABLE", "table-maintenance")
    monkeypatch.setenv("LAKE_DATABASE", "lake")
    monkeypatch.setenv("CDC_TABLE_CONFIG_TABLE", "cdc-table-config")
    get_settings.cache_clear()
    app.default_planner.cache_clear()
    try:
        # When the default planner is built
        planner = app.default_planner()
        # Then it reads the config tables, the tracker's index, and names the job
        assert isinstance(planner.configs, PipelineConfigStore)
        assert (planner.configs.batch_table, planner.configs.table_table) == (
            "batch-config",
            "table-config",
        )
        assert isinstance(planner.pending, DynamoPendingTables)
        assert planner.pending.table_name == "file-tracker"
        assert planner.glue_job_name == "cdc-merge"
    finally:
        get_settings.cache_clear()
        app.default_planner.cache_clear()
