"""The merge job's engines for the parity tests: DuckDB, and real Spark 3.5 + Iceberg 1.10.

Spark runs in one worker process for the whole test session (dev/glue_merge/spark_engine.py; a JVM
takes seconds to start), whichever test module asks first; each test gets a fresh catalog on a
fresh warehouse directory, so tests never see each other's tables. The scenarios themselves live
with the unit tests (tests/unit/glue_merge), which run them on DuckDB alone.
"""

import atexit
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Final

import glue_merge_csv_cases as csv_cases
import glue_merge_fakes as fakes
import glue_merge_replay_model as replay_model
import glue_merge_scenarios as scenarios
import pytest
from glue_merge_fakes import LocalBucket
from glue_merge_scenarios import Observation, RecordingEngine, Rig, Scenario, duckdb_rig

from dev.glue_merge.spark_engine import SparkWorkerEngine

from .conftest import require_engine

ROOT: Final = Path(__file__).resolve().parents[3]

__all__ = [
    "csv_cases",
    "fakes",
    "on_both_engines",
    "replay_model",
    "scenarios",
    "spark_fixture",
    "spark_rig",
]
_workers: dict[str, SparkWorkerEngine] = {}
_catalog_numbers = itertools.count(1)


def shared_spark_worker() -> SparkWorkerEngine:
    """The session's Spark worker, started on first use, stopped when the tests end."""
    if "spark" not in _workers:
        worker = SparkWorkerEngine()
        worker.start()
        atexit.register(worker.close)
        _workers["spark"] = worker
    return _workers["spark"]


@pytest.fixture(scope="session", name="spark")
def spark_fixture() -> SparkWorkerEngine:
    """The shared worker (the engine tier skips, or fails with REQUIRE_ENGINES=1, without it)."""
    return require_engine(shared_spark_worker)


@contextmanager
def spark_rig(worker: SparkWorkerEngine, directory: Path) -> Iterator[Rig]:
    """A Rig on the Spark worker: a new catalog, its warehouse and bucket in ``directory``."""
    bucket = LocalBucket(directory / "bucket")
    catalog = f"lake_{next(_catalog_numbers)}"
    worker.add_catalog(catalog, directory / "warehouse")
    worker.resolve_path = bucket.resolve
    yield Rig(bucket, RecordingEngine(worker), catalog, partial(worker.table_rows, catalog))


def on_both_engines(
    scenario: Scenario, worker: SparkWorkerEngine, directory: Path
) -> tuple[Observation, Observation]:
    """The scenario's end state on DuckDB, then on Spark (each run passed its own asserts)."""
    with spark_rig(worker, directory / "spark") as rig:
        on_spark = scenario(rig)
    with duckdb_rig(directory / "duckdb") as rig:
        on_duckdb = scenario(rig)
    return on_duckdb, on_spark
