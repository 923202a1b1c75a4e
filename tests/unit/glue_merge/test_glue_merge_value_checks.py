"""What the value check (merge_sql.invalid_values_sql) refuses, run on DuckDB through the job:
values the job cannot convert fail their table, naming the file and the column, before anything
is merged. Spark's non-ANSI CAST would turn them into NULLs, and a NULL sequence value ranks
last: the wrong change of a key would silently win."""

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from glue_merge_fakes import FakeTracker, table_config
from glue_merge_scenarios import ORDERS, Rig, duckdb_rig, write_parquet

from cdc_merge.job import BatchOutcome

GOOD_TS = "2026-11-23 10:00:00"


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    with duckdb_rig(tmp_path) as rig:
        yield rig


def run(rig: Rig, tracker: FakeTracker, **config: Any) -> tuple[BatchOutcome, str]:
    outcome, history, _ = rig.run_batch(tracker, table_config(ORDERS, **config))
    return outcome, history.records[0].error or ""


@pytest.mark.parametrize(
    ("sequence_type", "sequence"),
    [("timestamp", "not a time"), ("timestamp", "2026-11-31 10:00:00"), ("bigint", "12x")],
)
def test_a_csv_sequence_value_that_does_not_convert_fails_the_table(
    rig: Rig, sequence_type: str, sequence: str
) -> None:
    # Given two changes of one key: a valid one, then a later one whose sequence value is not a
    # value of the sequence type (read as NULL, it would lose to the older change)
    valid = "1" if sequence_type == "bigint" else GOOD_TS
    tracker = FakeTracker()
    tracker.add(
        rig.bucket.write_csv(
            ORDERS, "changes.csv", [["I", valid, "1", "old", "1"], ["U", sequence, "1", "new", "2"]]
        )
    )
    # When merged
    outcome, error = run(rig, tracker, sequence_column_type=sequence_type)
    # Then the table fails naming the file and the sequence column; nothing is merged and the
    # file stays pending
    assert outcome.tables[0].status == "failed"
    assert error.endswith("[file: s3://staging/sales/orders/changes.csv] [column: change_ts]")
    assert rig.rows("sales", "orders") == []
    assert [file.file_name for file in tracker.pending_files(ORDERS)] == ["changes.csv"]


def test_a_parquet_sequence_value_that_does_not_convert_fails_the_table(rig: Rig) -> None:
    # Given a Parquet CDC file whose sequence column holds text that is no timestamp
    write_parquet(
        rig.bucket.root / "sales" / "orders" / "f.parquet",
        "SELECT 'U' AS Op, 'later' AS change_ts, 1 AS order_id, 'x' AS customer, 2.5 AS amount",
    )
    tracker = FakeTracker()
    tracker.add(rig.bucket.pending(ORDERS, "sales/orders/f.parquet"))
    # When merged / Then the table fails naming the file and the sequence column
    outcome, error = run(rig, tracker, file_format="parquet")
    assert outcome.tables[0].status == "failed"
    assert error.endswith("[file: s3://staging/sales/orders/f.parquet] [column: change_ts]")
    assert rig.rows("sales", "orders") == []


def test_a_valid_sequence_value_orders_the_changes(rig: Rig) -> None:
    # Given the same two changes with valid sequence values, the later one first in the file
    tracker = FakeTracker()
    tracker.add(
        rig.bucket.write_csv(
            ORDERS,
            "changes.csv",
            [["U", "2026-11-23 10:00:02", "1", "new", "2"], ["I", GOOD_TS, "1", "old", "1"]],
        )
    )
    # When merged / Then the greatest sequence wins
    outcome, error = run(rig, tracker)
    assert outcome.tables[0].status == "succeeded", error
    assert rig.rows("sales", "orders") == [(1, "new", Decimal("2.00"))]


def test_an_unknown_operation_fails_the_table_naming_it(rig: Rig) -> None:
    # Given a CDC row whose operation is none of I, U, D
    tracker = FakeTracker()
    tracker.add(rig.bucket.write_csv(ORDERS, "c.csv", [["X", GOOD_TS, "1", "a", "1"]]))
    # When merged / Then the table fails on the operation, merging nothing
    outcome, error = run(rig, tracker)
    assert outcome.tables[0].status == "failed"
    assert error.endswith("[file: s3://staging/sales/orders/c.csv] [column: operation]")
    assert rig.rows("sales", "orders") == []


def test_a_row_without_its_key_fails_the_table(rig: Rig) -> None:
    # Given a CDC row whose key field is empty (NULL)
    tracker = FakeTracker()
    tracker.add(rig.bucket.write_csv(ORDERS, "c.csv", [["I", GOOD_TS, None, "a", "1"]]))
    # When merged / Then the table fails on the key, merging nothing
    outcome, error = run(rig, tracker)
    assert outcome.tables[0].status == "failed"
    assert error.endswith("[file: s3://staging/sales/orders/c.csv] [column: primary key (NULL)]")
    assert rig.rows("sales", "orders") == []


def merge_values(rig: Rig, column_type: str, *texts: str) -> tuple[BatchOutcome, str]:
    """One CDC file whose rows each hold one value of a ``column_type`` column."""
    tracker = FakeTracker()
    rows = [["I", GOOD_TS, str(key), text] for key, text in enumerate(texts)]
    tracker.add(rig.bucket.write_csv(ORDERS, "c.csv", rows))
    return run(rig, tracker, columns=(("order_id", "bigint"), ("value", column_type)))


def test_a_decimal_of_fraction_digits_only_takes_zeros_before_its_point(rig: Rig) -> None:
    # Given a DECIMAL(2,2) column (no integer digits) / When values with zero integer parts merge
    outcome, error = merge_values(rig, "decimal(2,2)", "0.25", "00.5", "-0.05", "0.1200")
    # Then they are read as written
    assert outcome.tables[0].status == "succeeded", error
    assert [row[1] for row in rig.rows("sales", "orders")] == [
        Decimal("0.25"),
        Decimal("0.50"),
        Decimal("-0.05"),
        Decimal("0.12"),
    ]


@pytest.mark.parametrize("text", ["1.5", ".5", "0.125"])
def test_a_decimal_of_fraction_digits_only_refuses_what_does_not_fit(rig: Rig, text: str) -> None:
    outcome, error = merge_values(rig, "decimal(2,2)", text)
    assert outcome.tables[0].status == "failed"
    assert error.endswith("[column: value]")
    assert rig.rows("sales", "orders") == []


def test_a_decimal_without_fraction_digits_takes_only_zeros_after_its_point(rig: Rig) -> None:
    # Given a DECIMAL(5,0) column / When whole numbers merge, some with a zero fraction
    outcome, error = merge_values(rig, "decimal(5,0)", "12.00", "7", "-99999")
    # Then they are read as the whole numbers they are
    assert outcome.tables[0].status == "succeeded", error
    assert [row[1] for row in rig.rows("sales", "orders")] == [
        Decimal(12),
        Decimal(7),
        Decimal(-99999),
    ]


@pytest.mark.parametrize("text", ["12.5", "123456", "1."])
def test_a_decimal_without_fraction_digits_refuses_a_fraction(rig: Rig, text: str) -> None:
    outcome, error = merge_values(rig, "decimal(5,0)", text)
    assert outcome.tables[0].status == "failed"
    assert error.endswith("[column: value]")
    assert rig.rows("sales", "orders") == []
