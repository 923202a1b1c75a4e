"""CSV files at the readers' edges, on DuckDB (glue_merge_csv_cases; the engine tier runs the
same scenarios on real Spark and requires the same end state)."""

from pathlib import Path

import pytest
from glue_merge_csv_cases import CSV_SCENARIOS
from glue_merge_scenarios import Scenario, duckdb_rig


@pytest.mark.parametrize("scenario", CSV_SCENARIOS.values(), ids=CSV_SCENARIOS.keys())
def test_csv(scenario: Scenario, tmp_path: Path) -> None:
    with duckdb_rig(tmp_path) as rig:
        scenario(rig)
