"""Landing order decides what a full load supersedes, so ties must follow DMS's own order.

The ordering itself is pure and tested here; the end-to-end scenarios (glue_merge_scenarios,
also run on Spark by the engine tier) run here on DuckDB.
"""

from pathlib import Path

import pytest
from glue_merge_scenarios import LANDING_SCENARIOS, Scenario, duckdb_rig

from cdc_merge.file_tracker import PendingFile, landing_order
from cdc_merge.job import plan_files


@pytest.mark.parametrize("scenario", LANDING_SCENARIOS.values(), ids=LANDING_SCENARIOS.keys())
def test_landing(scenario: Scenario, tmp_path: Path) -> None:
    with duckdb_rig(tmp_path) as rig:
        scenario(rig)


def file(
    name: str, load_type: str, event_time: str = "2026-11-23T10:15:00Z", file_id: str = ""
) -> PendingFile:
    return PendingFile(
        source_table="sales.orders",
        file_id=file_id or f"id-{name}",
        bucket="staging",
        key=f"sales/orders/{name}",
        load_type=load_type,  # type: ignore[arg-type]
        event_time=event_time,
        file_name=name,
    )


def test_within_one_second_full_load_files_come_before_cdc_files() -> None:
    # Given a full load and CDC files that S3 stamped with the same second (ids in any order)
    cdc_late = file("20261123-101500900.csv", "cdc", file_id="a")
    cdc_early = file("20261123-101500100.csv", "cdc", file_id="b")
    load_2 = file("LOAD00000002.csv", "full", file_id="c")
    load_1 = file("LOAD00000001.csv", "full", file_id="d")

    # When ordered
    ordered = landing_order([cdc_late, load_2, cdc_early, load_1])

    # Then the full load (in its own order) precedes the CDC files (by their timestamp names)
    assert [f.file_name for f in ordered] == [
        "LOAD00000001.csv",
        "LOAD00000002.csv",
        "20261123-101500100.csv",
        "20261123-101500900.csv",
    ]


def test_cdc_files_of_the_same_second_as_a_full_load_are_applied_not_superseded() -> None:
    # Given a full load and a CDC file landed in the same second
    files = landing_order([file("20261123-101500100.csv", "cdc"), file("LOAD00000001.csv", "full")])

    # When planned / Then the CDC file is applied on top of the load
    plan = plan_files(files)
    assert [f.file_name for f in plan.changes] == ["20261123-101500100.csv"]
    assert plan.obsolete == ()


def test_event_time_still_comes_first() -> None:
    # Given a CDC file a second before a full load
    earlier_cdc = file("20261123-101459000.csv", "cdc", "2026-11-23T10:14:59Z")
    ordered = landing_order([file("LOAD00000001.csv", "full"), earlier_cdc])

    # Then it lands first (and the full load supersedes it)
    assert [f.file_name for f in ordered] == ["20261123-101459000.csv", "LOAD00000001.csv"]
