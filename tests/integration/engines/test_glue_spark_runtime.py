"""The local runtime's Glue bridge on real Spark + Iceberg (LOCAL_GLUE_ENGINE=spark): the batch
dispatch flow of the template gives what it gives on DuckDB — the same outcomes per table and
the same lake tables."""

from pathlib import Path
from typing import Any

import pytest

from dev.glue_merge.job import CDC_MERGE_SCRIPT, CdcMergeJob
from dev.runtime import project_runtime
from local_runtime.real_engines import spark_python
from tests.integration.engines.conftest import require_engine
from tests.integration.test_batch_dispatch import (
    example_config,
    land_dms_files,
    tick,
    upload_config,
)


def _dispatch(engine: str, workdir: Path) -> tuple[list[dict[str, Any]], list[tuple[str, int]]]:
    """Config upload, DMS files landing, both cadences ticked; the job outcomes and lake tables."""
    with project_runtime(workdir=workdir, glue_engine=engine) as runtime:
        job = runtime.glue_bridge.local_jobs[CDC_MERGE_SCRIPT]
        assert isinstance(job, CdcMergeJob)
        upload_config(runtime, example_config())
        land_dms_files(runtime)
        for cadence in ("hourly", "daily"):
            assert tick(runtime, cadence)["status"] == "SUCCEEDED"
        outcomes = [
            {key: value for key, value in table.items() if key != "duration_ms"}
            for outcome in runtime.activity.job_outcomes
            for table in outcome["tables"]
        ]
        return sorted(outcomes, key=lambda table: table["source_table"]), job.lake_tables(workdir)


@pytest.fixture(scope="module")
def dispatched(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    require_engine(spark_python)
    return {
        engine: _dispatch(engine, tmp_path_factory.mktemp(engine)) for engine in ("duckdb", "spark")
    }


def test_every_table_ends_the_same_on_spark_as_on_duckdb(dispatched: dict[str, Any]) -> None:
    # Given the demo's DMS files dispatched once with each engine (fixture)
    duckdb_outcomes, _ = dispatched["duckdb"]
    spark_outcomes, _ = dispatched["spark"]
    # Then every table has the same status, files and counts on both
    assert spark_outcomes == duckdb_outcomes
    assert {table["status"] for table in spark_outcomes} == {"succeeded"}


def test_the_lake_holds_the_same_tables_and_rows_on_spark(dispatched: dict[str, Any]) -> None:
    _, duckdb_lake = dispatched["duckdb"]
    _, spark_lake = dispatched["spark"]
    # Then the Iceberg warehouse holds the tables DuckDB's lake holds, row for row
    assert spark_lake == duckdb_lake
    assert spark_lake  # the flow merged something
