"""A Spark failure as the job records and logs it: the history keeps a short, bounded cause (the
Java root cause's class and first line, the file), the log keeps the whole error and its stack."""

import logging
from pathlib import Path
from typing import Any

import pytest

from dev.glue_merge.spark_engine import SparkWorkerEngine

from .glue_merge_engines import (
    fakes,
    spark_fixture,  # noqa: F401 - the session's worker
    spark_rig,
)

ORDERS = "sales.orders"
# A CDC row one field short: Spark's CSV reader fails the read (FAILFAST) deep in a task.
SHORT_ROW = b"I,2026-11-23 10:00:00,1,ann\n"


def merge_short_row(worker: SparkWorkerEngine, directory: Path) -> tuple[Any, str]:
    with spark_rig(worker, directory) as rig:
        tracker = fakes.FakeTracker()
        tracker.add(rig.bucket.write_bytes(ORDERS, "short.csv", SHORT_ROW))
        outcome, history, _ = rig.run_batch(tracker, fakes.table_config(ORDERS))
    return outcome, history.records[0].error or ""


def test_the_history_keeps_the_java_root_cause_and_the_file_in_short(
    spark: SparkWorkerEngine, tmp_path: Path
) -> None:
    # Given a file Spark's reader fails on / When merged
    outcome, error = merge_short_row(spark, tmp_path)
    # Then the table failed and its record is the Java root cause in one line, naming the file
    assert outcome.failed
    assert len(error) <= 1_000
    assert "\n" not in error
    assert error.startswith("org.apache.spark.SparkRuntimeException: [MALFORMED_CSV_RECORD]")
    assert error.endswith("[file: s3://staging/sales/orders/short.csv]")


def test_the_log_keeps_the_whole_spark_error_with_its_stack(
    spark: SparkWorkerEngine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a file Spark's reader fails on / When merged
    with caplog.at_level(logging.ERROR, logger="cdc_merge"):
        merge_short_row(spark, tmp_path)
    # Then the job logged the failure with the Java stack in full
    [failure] = [record for record in caplog.records if record.getMessage() == f"{ORDERS} failed"]
    logged = logging.Formatter().formatException(failure.exc_info) if failure.exc_info else ""
    assert "Caused by: org.apache.spark.SparkRuntimeException: [MALFORMED_CSV_RECORD]" in logged
    assert "\tat org.apache.spark." in logged
