"""CSV files at the readers' edges (glue_merge_csv_cases) on real Spark and on DuckDB: the same
rows, or the same failure naming the same file, on both engines."""

from pathlib import Path

import pytest

from dev.glue_merge.spark_engine import SparkWorkerEngine

from .glue_merge_engines import (
    csv_cases,
    on_both_engines,
    scenarios,
    spark_fixture,  # noqa: F401 - the session's worker
)

CSV_SCENARIOS = csv_cases.CSV_SCENARIOS


@pytest.mark.parametrize("scenario", CSV_SCENARIOS.values(), ids=CSV_SCENARIOS.keys())
def test_spark_and_duckdb_read_the_file_alike(
    scenario: scenarios.Scenario, spark: SparkWorkerEngine, tmp_path: Path
) -> None:
    # Given the file / When merged on each engine
    on_duckdb, on_spark = on_both_engines(scenario, spark, tmp_path)
    # Then both engines end in the same state
    assert on_spark == on_duckdb
