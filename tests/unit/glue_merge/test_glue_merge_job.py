"""process_batch on DuckDB: each table on its own, under its lease, with its outcome recorded.

The scenarios live in glue_merge_scenarios, shared with the engine tier, which runs each on
real Spark + Iceberg as well; here they run on DuckDB. Planning (which files load, apply, or are
superseded) is pure and tested here only.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from glue_merge_fakes import LocalBucket
from glue_merge_scenarios import JOB_SCENARIOS, ORDERS, Rig, Scenario, duckdb_rig

from cdc_merge.file_tracker import PendingFile
from cdc_merge.job import FilePlan, plan_files


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    with duckdb_rig(tmp_path) as rig:
        yield rig


@pytest.mark.parametrize("scenario", JOB_SCENARIOS.values(), ids=JOB_SCENARIOS.keys())
def test_job(scenario: Scenario, rig: Rig) -> None:
    scenario(rig)


# --- which files load, apply, or are superseded -------------------------------------------------


def files(*names: str) -> list[PendingFile]:
    bucket = LocalBucket(Path("/nonexistent"))
    return [bucket.pending(ORDERS, f"sales/orders/{name}") for name in names]


def names(planned: tuple[PendingFile, ...]) -> list[str]:
    return [file.file_name for file in planned]


def test_without_a_full_load_every_file_is_a_change() -> None:
    plan = plan_files(files("a.csv", "b.csv"))
    assert names(plan.changes) == ["a.csv", "b.csv"]
    assert plan.load == plan.obsolete == ()


def test_the_newest_full_load_set_wins_and_what_landed_before_it_is_superseded() -> None:
    # Given CDC, an older full load, more CDC, a newer full load of two files, then CDC
    pending = files(
        "c1.csv",
        "LOAD00000001.csv",
        "c2.csv",
        "LOAD00000001.csv.gz",
        "LOAD00000002.csv.gz",
        "c3.csv",
    )
    # When planned
    plan = plan_files(pending)
    # Then the newer set loads, the CDC after it applies, everything before is superseded
    assert names(plan.load) == ["LOAD00000001.csv.gz", "LOAD00000002.csv.gz"]
    assert names(plan.changes) == ["c3.csv"]
    assert names(plan.obsolete) == ["c1.csv", "LOAD00000001.csv", "c2.csv"]
    assert len(plan.all_files) == len(pending)


def test_full_load_files_continuing_an_earlier_set_are_applied_as_inserts() -> None:
    # Given the tail of a full load whose first file an earlier run already loaded
    plan = plan_files(files("LOAD00000003.csv", "c1.csv"))
    # Then they do not replace the table: they are applied with the changes
    assert plan == FilePlan(changes=tuple(files("LOAD00000003.csv", "c1.csv")))
