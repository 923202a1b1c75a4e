"""The generated SQL, run on DuckDB through the job, against a plain Python replay of the changes
(glue_merge_replay_model, which the engine tier runs on real Spark + Iceberg as well)."""

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from glue_merge_replay_model import Run, run_all, runs
from glue_merge_scenarios import Rig, duckdb_rig
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

PROPERTY_SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
SEQUENCE_TYPES = st.sampled_from(["timestamp", "bigint", "string"])


@contextmanager
def fresh_rig() -> Iterator[Rig]:
    with tempfile.TemporaryDirectory() as directory, duckdb_rig(Path(directory)) as rig:
        yield rig


@PROPERTY_SETTINGS
@given(drawn=runs(), sequence_type=SEQUENCE_TYPES)
def test_current_mode_table_equals_the_replay_of_the_changes(
    drawn: list[Run], sequence_type: str
) -> None:
    # Given runs of full-load and CDC files / When each is merged / Then table and counts match
    run_all(fresh_rig, drawn, "current", sequence_type)


@PROPERTY_SETTINGS
@given(drawn=runs(), sequence_type=SEQUENCE_TYPES)
def test_history_mode_appends_every_change(drawn: list[Run], sequence_type: str) -> None:
    # Given runs of full-load and CDC files / When each is appended / Then every change is kept
    run_all(fresh_rig, drawn, "history", sequence_type)
