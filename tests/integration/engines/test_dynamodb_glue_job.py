"""One batch of the Glue job with every DynamoDB adapter on DynamoDB Local: files tracked by the
file tracker's store, configs applied by the config store, then the job reads its configs
(BatchGetItem), leases each table, reads its pending files from the index, marks them processed,
records the history and releases the lease. The SQL runs on the local runtime's DuckDB engine.
"""

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from mypy_boto3_dynamodb import DynamoDBClient

from cdc_merge.file_tracker import DynamoFileTracker
from cdc_merge.history import DynamoHistory
from cdc_merge.job import BatchOutcome, process_batch
from cdc_merge.leases import DynamoLeases
from cdc_merge.table_configs import DynamoTableConfigs, with_table_configs
from datalake_shared.config_store import PipelineConfigStore
from datalake_shared.pipeline_config import BatchConfig, PipelineConfig, TableConfig
from dev.glue_merge.duckdb_engine import DuckDbEngine
from file_tracker.service import KeyLayout, TrackedFile
from file_tracker.store import DynamoFileTrackerStore
from tests.integration.engines.dynamodb_support import (
    STAGING_BUCKET,
    Clock,
    object_created,
    scan_all,
)

# DMS full-load files written as folders of parts: the file name is not the key's last segment.
PARTED_LAYOUT = KeyLayout(
    prefix="",
    pattern=r"^(?P<schema>[^/]+)/(?P<table>[^/]+)/(?P<file_name>[^/]+)/part-\d+\.csv$",
)


@pytest.fixture
def tables(template_table: Callable[[str], str]) -> dict[str, str]:
    return {
        logical_id: template_table(logical_id)
        for logical_id in (
            "FileTrackerTable",
            "BatchConfigTable",
            "TableConfigTable",
            "ProcessingLeaseTable",
            "ProcessingHistoryTable",
        )
    }


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[DuckDbEngine]:
    prefix = f"s3://{STAGING_BUCKET}/"
    with DuckDbEngine(resolve_path=lambda uri: tmp_path / uri.removeprefix(prefix)) as duckdb:
        yield duckdb


def configure(dynamodb: DynamoDBClient, tables: dict[str, str]) -> None:
    orders = TableConfig.model_validate(
        {
            "cadence": "hourly",
            "source_table": "sales.orders",
            "target_database": "sales",
            "target_table": "orders",
            "columns": [{"name": "id", "type": "bigint"}, {"name": "name", "type": "string"}],
            "primary_key": ["id"],
            "sequence_column": "change_ts",
        }
    )
    batch = BatchConfig(cadence="hourly", batch_size=10, max_parallel_batches=1)
    PipelineConfigStore(
        tables["BatchConfigTable"], tables["TableConfigTable"], client=dynamodb
    ).apply(PipelineConfig(batches=[batch], tables=[orders]))


def land(
    dynamodb: DynamoDBClient,
    tables: dict[str, str],
    root: Path,
    key: str,
    *,
    rows: list[str],
    time: str,
) -> TrackedFile:
    """Writes the object under ``root`` (the staging bucket) and tracks it as the Lambda does."""
    path = root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{row}\n" for row in rows))
    parts = PARTED_LAYOUT.parse(key)
    assert parts is not None
    file = TrackedFile.from_event(object_created(key, time=time), parts)
    DynamoFileTrackerStore(tables["FileTrackerTable"], client=dynamodb).put_if_absent(file)
    return file


def run_batch(
    dynamodb: DynamoDBClient, tables: dict[str, str], engine: DuckDbEngine, clock: Clock
) -> BatchOutcome:
    batch: dict[str, Any] = {
        "batch_id": "hourly-run-1-001",
        "run_id": "run-1",
        "cadence": "hourly",
        "tables": ["sales.orders"],
    }
    configs = DynamoTableConfigs(tables["TableConfigTable"], client=dynamodb)
    return process_batch(
        with_table_configs(batch, configs),
        engine,
        DynamoLeases(tables["ProcessingLeaseTable"], 600, client=dynamodb, clock=clock),
        DynamoFileTracker(tables["FileTrackerTable"], client=dynamodb, clock=clock),
        DynamoHistory(tables["ProcessingHistoryTable"], client=dynamodb),
        clock,
    )


def test_a_batch_merges_marks_records_and_releases_on_dynamodb_local(
    dynamodb: DynamoDBClient, tables: dict[str, str], engine: DuckDbEngine, tmp_path: Path
) -> None:
    # Given a configured table and a two-file full load tracked under a custom key pattern,
    # then a CDC file
    configure(dynamodb, tables)
    for key, rows, time in [
        ("LOAD00000001.csv", ["1,ann", "2,bob"], "2026-11-23T09:00:00Z"),
        ("LOAD00000002.csv", ["3,cy"], "2026-11-23T09:00:01Z"),
        ("20261123-0900.csv", ["U,2026-11-23 09:05:00,2,bea"], "2026-11-23T09:05:00Z"),
    ]:
        land(dynamodb, tables, tmp_path, f"sales/orders/{key}/part-0.csv", rows=rows, time=time)
    # When the job runs the batch
    outcome = run_batch(dynamodb, tables, engine, Clock())
    # Then the table is loaded whole then changed, its files leave the index, the history
    # holds the run and the lease is free
    [table] = outcome.tables
    assert (table.status, table.error, table.full_load, table.files) == ("succeeded", None, True, 3)
    assert sorted(engine.table_rows("sales", "orders")) == [(1, "ann"), (2, "bea"), (3, "cy")]
    assert scan_all(dynamodb, tables["FileTrackerTable"], IndexName="pending-files-index") == []
    [history] = scan_all(dynamodb, tables["ProcessingHistoryTable"])
    assert (history["status"], history["files"], history["full_load"]) == (
        {"S": "succeeded"},
        {"N": "3"},
        {"BOOL": True},
    )
    assert scan_all(dynamodb, tables["ProcessingLeaseTable"]) == []


def test_a_table_leased_by_a_live_run_is_skipped_and_recorded(
    dynamodb: DynamoDBClient, tables: dict[str, str], engine: DuckDbEngine, tmp_path: Path
) -> None:
    # Given a pending file of a table another run holds a live lease on
    configure(dynamodb, tables)
    clock = Clock()
    land(
        dynamodb,
        tables,
        tmp_path,
        "sales/orders/20261123-0900.csv/part-0.csv",
        rows=["I,2026-11-23 09:00:00,1,ann"],
        time="2026-11-23T09:00:00Z",
    )
    other = DynamoLeases(tables["ProcessingLeaseTable"], 600, client=dynamodb, clock=clock)
    assert other.acquire("sales.orders", "run-0")
    clock.now += timedelta(seconds=10)
    # When the job runs the batch
    outcome = run_batch(dynamodb, tables, engine, clock)
    # Then the table is skipped, its file stays pending, the history says why, the lease stays
    assert [t.status for t in outcome.tables] == ["skipped_locked"]
    pending = scan_all(dynamodb, tables["FileTrackerTable"], IndexName="pending-files-index")
    assert len(pending) == 1
    [history] = scan_all(dynamodb, tables["ProcessingHistoryTable"])
    assert history["status"] == {"S": "skipped_locked"}
    [lease] = scan_all(dynamodb, tables["ProcessingLeaseTable"])
    assert lease["run_id"] == {"S": "run-0"}
