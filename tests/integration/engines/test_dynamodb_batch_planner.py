"""The batch planner (functions/batch_planner) on DynamoDB Local: the cadence's configs from the
config tables, the tables with pending files from one paginated Query of the file tracker's
sparse index, all three tables exactly as template.yaml declares them."""

import importlib
from collections.abc import Callable

import pytest
from boto_calls import CallRecorder
from lambda_support import FakeLambdaContext
from mypy_boto3_dynamodb import DynamoDBClient

from batch_planner.service import BatchPlanner, UnknownCadenceError
from batch_planner.store import DynamoPendingTables
from datalake_shared.config_store import PipelineConfigStore
from datalake_shared.pipeline_config import BatchConfig, PipelineConfig, TableConfig
from file_tracker.service import KeyLayout, TrackedFile
from file_tracker.settings import DEFAULT_STAGING_KEY_PATTERN
from file_tracker.store import DynamoFileTrackerStore
from tests.integration.engines.dynamodb_support import object_created

CONTEXT = FakeLambdaContext(function_name="batch-planner")

LAYOUT = KeyLayout("", DEFAULT_STAGING_KEY_PATTERN)


@pytest.fixture
def planner(dynamodb: DynamoDBClient, template_table: Callable[[str], str]) -> BatchPlanner:
    return BatchPlanner(
        configs=PipelineConfigStore(
            template_table("BatchConfigTable"), template_table("TableConfigTable"), client=dynamodb
        ),
        pending=DynamoPendingTables(template_table("FileTrackerTable"), client=dynamodb),
        glue_job_name="cdc-merge",
    )


def configure(planner: BatchPlanner, *tables: tuple[str, bool]) -> None:
    store = planner.configs
    assert isinstance(store, PipelineConfigStore)
    store.apply(
        PipelineConfig(
            batches=[BatchConfig(cadence="hourly", batch_size=2, max_parallel_batches=3)],
            tables=[
                TableConfig.model_validate(
                    {
                        "cadence": "hourly",
                        "source_table": name,
                        "target_database": "lake",
                        "target_table": name.replace(".", "_"),
                        "columns": [{"name": "id", "type": "bigint"}],
                        "primary_key": ["id"],
                        "sequence_column": "ts",
                        "active": active,
                    }
                )
                for name, active in tables
            ],
        )
    )


def land(planner: BatchPlanner, *keys: str) -> None:
    pending = planner.pending
    assert isinstance(pending, DynamoPendingTables)
    store = DynamoFileTrackerStore(pending.table_name, client=pending.client)
    for key in keys:
        parts = LAYOUT.parse(key)
        assert parts is not None
        store.put_if_absent(TrackedFile.from_event(object_created(key), parts))


def test_the_handler_plans_the_active_tables_with_pending_files(
    planner: BatchPlanner, dynamodb: DynamoDBClient
) -> None:
    # Given four configured tables (one inactive) and pending files of three of them, plus an
    # unconfigured table's file
    configure(planner, ("s.a", True), ("s.b", True), ("s.c", True), ("s.d", False))
    land(planner, "s/a/1.csv", "s/a/2.csv", "s/c/1.csv", "s/d/1.csv", "x/y/1.csv")
    recorder = CallRecorder(dynamodb)
    app = importlib.import_module("batch_planner.handler")
    # When the schedule runs the cadence
    output = app.lambda_handler(
        {"cadence": "hourly", "run_id": "run-1"},
        CONTEXT,
        planner=planner,
    )
    # Then the active tables with pending files are planned, in batches of two, after one
    # Query of the index (and the config reads), never a Scan
    assert [batch["tables"] for batch in output["batches"]] == [["s.a", "s.c"]]
    assert (output["table_count"], output["max_concurrency"]) == (2, 3)
    operations = recorder.operations()
    assert operations.count("Query") == 2  # the cadence's table configs, and the index
    assert "Scan" not in operations


def test_nothing_pending_gives_an_empty_plan(planner: BatchPlanner) -> None:
    # Given a configured table with no pending file / When planned / Then the Map runs zero times
    configure(planner, ("s.a", True))
    output = planner.plan_output("hourly", "run-1")
    assert (output["batches"], output["table_count"]) == ([], 0)


def test_an_unknown_cadence_fails_the_execution(planner: BatchPlanner) -> None:
    # Given no batch config for the cadence / When planned / Then it raises, naming the cadence
    with pytest.raises(UnknownCadenceError, match="'weekly'"):
        planner.plan_output("weekly", "run-1")
