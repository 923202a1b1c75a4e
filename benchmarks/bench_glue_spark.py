"""glue_merge on Spark: the merge job on local Spark 3.5.6 + Iceberg 1.10.2 (Glue 5.1's engines).

- ``glue_merge.spark_merge_s``: seconds one run of the job takes (``process_batch`` on
  SparkEngine, through the engine tier's Spark worker, ``local[2]``) to apply 20 DMS CDC files
  holding 100,000 changes (5,000 per file: 80% updates, 10% deletes, 10% new keys; some keys
  changed in several files) to an Iceberg table of 1,000,000 rows: stage and check the files,
  keep the latest change per key, count, one MERGE. The table is loaded from a DMS full load
  first, untimed. Baseline, same run, same files, same starting table: the naive way, one MERGE
  per CDC file in landing order (the job run 20 times with one file pending each).

Measured, never asserted. Needs the engine tier's Spark (scripts/install-engines); without it
the entry is left out and a line says why. A 2-core machine runs Spark and this process.
"""

import csv
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from glue_merge_fakes import (  # the job's in-memory collaborators, as its unit tests use them
    FakeHistory,
    FakeLeases,
    FakeTracker,
    LocalBucket,
    TickingClock,
    batch_of,
    table_config,
)

from benchmarks.results import BenchResult
from cdc_merge.job import process_batch
from local_runtime.real_engines import EngineMissingError

TABLE_ROWS: Final = 1_000_000
FULL_LOAD_FILES: Final = 10
CDC_FILES: Final = 20
CHANGES_PER_FILE: Final = 5_000
SOURCE_TABLE: Final = "sales.orders"
CATALOGS: Final = ("bench_ours", "bench_naive")


def _write(bucket: LocalBucket, name: str, rows: Any) -> Any:
    key = f"{SOURCE_TABLE.replace('.', '/')}/{name}"
    path = bucket.root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return bucket.pending(SOURCE_TABLE, key)


def dms_files(bucket: LocalBucket) -> tuple[list[Any], list[Any]]:
    """The full load (the starting table) and the CDC files, as DMS writes them."""
    rows_per_file = TABLE_ROWS // FULL_LOAD_FILES
    full = [
        _write(
            bucket,
            f"LOAD{part + 1:08d}.csv",
            (
                (n, f"customer-{n % 9973}", f"{n % 100_000}.{n % 100:02d}")
                for n in range(part * rows_per_file, (part + 1) * rows_per_file)
            ),
        )
        for part in range(FULL_LOAD_FILES)
    ]
    chooser = random.Random(2026)
    next_key = TABLE_ROWS
    changes = []
    for file in range(CDC_FILES):
        rows = []
        for n in range(CHANGES_PER_FILE):
            stamp = f"2026-11-23 11:{file:02d}:{n // 100 % 60:02d}.{n:06d}"
            draw = chooser.random()
            if draw < 0.1:
                rows.append(("I", stamp, next_key, "new-customer", "1.00"))
                next_key += 1
            elif draw < 0.2:
                rows.append(("D", stamp, chooser.randrange(TABLE_ROWS), "", ""))
            else:
                key = chooser.randrange(TABLE_ROWS)
                rows.append(("U", stamp, key, f"customer-{key % 97}", f"{draw * 1000:.2f}"))
        changes.append(_write(bucket, f"20261123-11{file:02d}00000.csv", rows))
    return full, changes


def _run(engine: Any, catalog: str, files: list[Any]) -> float:
    """One job run over these pending files; its seconds. Raises if the table failed."""
    tracker = FakeTracker()
    tracker.add(*files)
    config = table_config(SOURCE_TABLE)
    started = time.perf_counter()
    outcome = process_batch(
        batch_of(config),
        engine,
        FakeLeases(),
        tracker,
        FakeHistory(),
        TickingClock(),
        catalog=catalog,
    )
    seconds = time.perf_counter() - started
    if outcome.failed:
        raise RuntimeError(f"the benchmark's run failed: {outcome.as_json()}")
    return seconds


def measure(make_engine: Callable[[Path], Any]) -> tuple[float, float]:
    """(ours, naive) seconds, each from the same loaded table."""
    with tempfile.TemporaryDirectory(prefix="bench-glue-spark-") as directory:
        root = Path(directory)
        bucket = LocalBucket(root / "s3")
        full, changes = dms_files(bucket)
        with make_engine(root) as engine:
            engine.resolve_path = bucket.resolve
            for catalog in CATALOGS:
                engine.add_catalog(catalog, root / catalog)
                _run(engine, catalog, full)  # the starting table, untimed
            ours = _run(engine, CATALOGS[0], changes)
            naive = sum(_run(engine, CATALOGS[1], [file]) for file in changes)
            # Both ways must end with the same table, or the comparison means nothing.
            count = "SELECT COUNT(*), SUM(order_id) FROM `{}`.`sales`.`orders`"
            if engine.execute(count.format(CATALOGS[0])) != engine.execute(
                count.format(CATALOGS[1])
            ):
                raise RuntimeError("one MERGE and a MERGE per file left different tables")
    return ours, naive


def run() -> list[BenchResult]:
    from dev.glue_merge.spark_engine import SparkWorkerEngine  # noqa: PLC0415

    try:
        ours, naive = measure(lambda _: SparkWorkerEngine())
    except EngineMissingError as missing:
        print(f"glue_merge.spark_merge_s skipped: {missing}")
        return []
    return [
        BenchResult(
            name="glue_merge.spark_merge_s",
            value=round(ours, 1),
            unit="s",
            better="lower",
            baseline=round(naive, 1),
        )
    ]
