"""The merge job's scenarios (glue_merge_scenarios: the job, landing order) on real Spark 3.5 +
Iceberg 1.10 through the job's SparkEngine, and on DuckDB: each passes on both engines, and both
end in the same state (rows, outcomes and counts, pending files, the file a failure names)."""

from pathlib import Path

import pytest

from dev.glue_merge.spark_engine import SparkWorkerEngine

from .glue_merge_engines import (
    on_both_engines,
    scenarios,
    spark_fixture,  # noqa: F401 - the session's worker
)

SCENARIOS = {**scenarios.JOB_SCENARIOS, **scenarios.LANDING_SCENARIOS}


@pytest.mark.parametrize("scenario", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_spark_and_duckdb_end_in_the_same_state(
    scenario: scenarios.Scenario, spark: SparkWorkerEngine, tmp_path: Path
) -> None:
    # Given the scenario's files / When it runs on each engine
    on_duckdb, on_spark = on_both_engines(scenario, spark, tmp_path)
    # Then both engines end in the same state
    assert on_spark == on_duckdb
