"""The merge job on real Spark + Iceberg against the plain Python replay of the changes
(glue_merge_replay_model), as the unit tier runs it on DuckDB: both engines equal to the replay
of the same drawn files, so both agree. Fewer examples than on DuckDB: a Spark run takes seconds.
"""

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dev.glue_merge.spark_engine import SparkWorkerEngine

from .glue_merge_engines import (
    replay_model,
    scenarios,
    spark_fixture,  # noqa: F401 - the session's worker
    spark_rig,
)

SPARK_SETTINGS = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
SEQUENCE_TYPES = st.sampled_from(["timestamp", "bigint", "string"])
# Two runs still merge into a table an earlier run made (or continue its full load).
RUNS = replay_model.runs(max_runs=2)


def rigs(worker: SparkWorkerEngine) -> replay_model.RigFactory:
    @contextmanager
    def fresh_rig() -> Iterator[scenarios.Rig]:
        with tempfile.TemporaryDirectory() as directory, spark_rig(worker, Path(directory)) as rig:
            yield rig

    return fresh_rig


@SPARK_SETTINGS
@given(drawn=RUNS, sequence_type=SEQUENCE_TYPES)
def test_spark_current_mode_table_equals_the_replay(
    spark: SparkWorkerEngine, drawn: list[replay_model.Run], sequence_type: str
) -> None:
    # Given runs of full-load and CDC files / When each is merged on Spark / Then table and
    # counts are the replay's
    replay_model.run_all(rigs(spark), drawn, "current", sequence_type)


@SPARK_SETTINGS
@given(drawn=RUNS, sequence_type=SEQUENCE_TYPES)
def test_spark_history_mode_appends_every_change(
    spark: SparkWorkerEngine, drawn: list[replay_model.Run], sequence_type: str
) -> None:
    # Given runs of full-load and CDC files / When each is appended on Spark / Then every change
    # is kept
    replay_model.run_all(rigs(spark), drawn, "history", sequence_type)
