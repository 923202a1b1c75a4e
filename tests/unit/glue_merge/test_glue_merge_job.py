"""process_batch: each table on its own, under its lease, with its outcome recorded."""

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cdc_merge.file_tracker import PendingFile
from cdc_merge.job import FilePlan, plan_files, process_batch
from glue_merge_fakes import (
    FakeHistory,
    FakeLeases,
    FakeTracker,
    LocalBucket,
    TickingClock,
    batch_of,
    table_config,
)

from local_runtime.glue_duckdb import DuckDbEngine

ORDERS = "sales.orders"
CUSTOMERS = "crm.customers"
CUSTOMER_COLUMNS = (("customer_id", "int"), ("name", "string"))


@pytest.fixture
def bucket(tmp_path: Path) -> LocalBucket:
    return LocalBucket(tmp_path)


@pytest.fixture
def engine(bucket: LocalBucket) -> Iterator[DuckDbEngine]:
    with bucket.engine() as engine:
        yield engine


def customers_config() -> dict[str, Any]:
    return table_config(CUSTOMERS, columns=CUSTOMER_COLUMNS, primary_key=("customer_id",))


def run_batch(
    engine: DuckDbEngine,
    tracker: FakeTracker,
    *tables: dict[str, Any],
    leases: FakeLeases | None = None,
    history: FakeHistory | None = None,
) -> tuple[Any, FakeHistory, FakeLeases]:
    leases = leases or FakeLeases()
    history = history or FakeHistory()
    outcome = process_batch(batch_of(*tables), engine, leases, tracker, history, TickingClock())
    return outcome, history, leases


def test_a_cdc_only_table_is_created_and_merged(bucket: LocalBucket, engine: DuckDbEngine) -> None:
    # Given CDC files for a table that does not exist yet
    tracker = FakeTracker()
    tracker.add(
        bucket.write_csv(
            ORDERS,
            "20261123-1000.csv",
            [
                ["I", "2026-11-23 10:00:01", "1", "ann", "10.50"],
                ["I", "2026-11-23 10:00:02", "2", "bob", "3.00"],
                ["U", "2026-11-23 10:00:03", "1", "ann", "11.00"],
            ],
        )
    )
    # When the batch runs
    outcome, history, _ = run_batch(engine, tracker, table_config(ORDERS))
    # Then the table holds the latest row of each key, and the counts say so
    assert sorted(engine.table_rows("sales", "orders")) == [
        (1, "ann", Decimal("11.00")),
        (2, "bob", Decimal("3.00")),
    ]
    [table] = outcome.tables
    assert (table.status, table.files, table.counts.inserted, table.counts.updated) == (
        "succeeded",
        1,
        2,
        0,
    )
    assert history.records[0].inserted == 2
    assert tracker.pending_files(ORDERS) == []


def test_a_full_load_replaces_the_table_and_later_changes_apply_on_top(
    bucket: LocalBucket, engine: DuckDbEngine
) -> None:
    # Given a table merged before
    tracker = FakeTracker()
    tracker.add(
        bucket.write_csv(ORDERS, "old.csv", [["I", "2026-11-23 09:00:00", "9", "zed", "1"]])
    )
    run_batch(engine, tracker, table_config(ORDERS))
    # ... and now a new full load followed by a CDC file
    tracker.add(
        bucket.write_csv(ORDERS, "LOAD00000001.csv", [["1", "ann", "5.00"], ["2", "bob", "6.00"]]),
        bucket.write_csv(ORDERS, "cdc.csv", [["D", "2026-11-23 11:00:00", "2", "", ""]]),
    )
    # When the batch runs
    outcome, _, _ = run_batch(engine, tracker, table_config(ORDERS))
    # Then the old rows are gone, the load is in, and the delete applied after it
    assert engine.table_rows("sales", "orders") == [(1, "ann", Decimal("5.00"))]
    [table] = outcome.tables
    assert table.full_load
    assert (table.counts.inserted, table.counts.updated, table.counts.deleted) == (2, 0, 2)


def test_one_failing_table_does_not_stop_the_others(
    bucket: LocalBucket, engine: DuckDbEngine
) -> None:
    # Given two tables, the first one's file missing from the bucket
    tracker = FakeTracker()
    tracker.add(bucket.pending(CUSTOMERS, "crm/customers/vanished.csv"))
    tracker.add(bucket.write_csv(ORDERS, "f.csv", [["I", "2026-11-23 10:00:00", "1", "a", "1"]]))
    # When the batch runs
    outcome, history, leases = run_batch(engine, tracker, customers_config(), table_config(ORDERS))
    # Then the batch failed, the failing table is recorded with its error, the other merged
    assert outcome.failed
    assert outcome.failed_tables == [CUSTOMERS]
    records = history.by_table()
    assert records[CUSTOMERS].status == "failed"
    assert "vanished.csv" in (records[CUSTOMERS].error or "")
    assert records[ORDERS].status == "succeeded"
    assert engine.table_rows("sales", "orders") == [(1, "a", Decimal("1.00"))]
    # ... the failed table's files stay pending for the next run, and both leases were released
    assert len(tracker.pending_files(CUSTOMERS)) == 1
    assert leases.held == {}
    assert sorted(leases.released) == [CUSTOMERS, ORDERS]


def test_a_locked_table_is_skipped_and_recorded(bucket: LocalBucket, engine: DuckDbEngine) -> None:
    # Given another run holds the lease of one table
    tracker = FakeTracker()
    tracker.add(bucket.write_csv(ORDERS, "f.csv", [["I", "2026-11-23 10:00:00", "1", "a", "1"]]))
    tracker.add(bucket.write_csv(CUSTOMERS, "f.csv", [["I", "2026-11-23 10:00:00", "7", "x"]]))
    leases = FakeLeases(held={ORDERS: "another-run"})
    # When the batch runs
    outcome, history, _ = run_batch(
        engine, tracker, table_config(ORDERS), customers_config(), leases=leases
    )
    # Then that table is skipped (recorded, files untouched, lease left alone); the other merged
    statuses = {table.source_table: table.status for table in outcome.tables}
    assert statuses == {ORDERS: "skipped_locked", CUSTOMERS: "succeeded"}
    assert not outcome.failed
    assert history.by_table()[ORDERS].status == "skipped_locked"
    assert len(tracker.pending_files(ORDERS)) == 1
    assert leases.held == {ORDERS: "another-run"}


def test_an_invalid_table_spec_fails_that_table_only(
    bucket: LocalBucket, engine: DuckDbEngine
) -> None:
    tracker = FakeTracker()
    tracker.add(bucket.write_csv(ORDERS, "f.csv", [["I", "2026-11-23 10:00:00", "1", "a", "1"]]))
    broken = table_config(CUSTOMERS, columns=(("id", "money"),), primary_key=("id",))
    outcome, history, _ = run_batch(engine, tracker, broken, table_config(ORDERS))
    assert [table.status for table in outcome.tables] == ["failed", "succeeded"]
    assert "unsupported column type" in (history.by_table()[CUSTOMERS].error or "")


def test_full_load_files_with_the_dms_timestamp_column_are_read_by_layout(
    bucket: LocalBucket, engine: DuckDbEngine
) -> None:
    # Given full-load files that carry DMS's timestamp column first (TimestampColumnName)
    tracker = FakeTracker()
    tracker.add(
        bucket.write_csv(
            ORDERS,
            "LOAD00000001.csv",
            [["2026-11-23 10:00:00", "1", "a", "5"], ["2026-11-23 10:00:00", "2", "b", "6"]],
        ),
        bucket.write_csv(ORDERS, "f.csv", [["U", "2026-11-23 10:05:00", "1", "a", "7"]]),
    )
    # When the batch runs with full_load_layout "sequence"
    outcome, _, _ = run_batch(engine, tracker, table_config(ORDERS, full_load_layout="sequence"))
    # Then the columns line up and the later CDC change wins
    assert not outcome.failed
    assert sorted(engine.table_rows("sales", "orders")) == [
        (1, "a", Decimal("7.00")),
        (2, "b", Decimal("6.00")),
    ]


def test_a_row_without_its_primary_key_fails_the_table(
    bucket: LocalBucket, engine: DuckDbEngine
) -> None:
    # Given a CDC row whose key is empty (a NULL key would be inserted again on every run)
    tracker = FakeTracker()
    tracker.add(bucket.write_csv(ORDERS, "f.csv", [["I", "2026-11-23 10:00:00", "", "a", "1"]]))
    # When the batch runs / Then the table fails, naming the key
    outcome, history, _ = run_batch(engine, tracker, table_config(ORDERS))
    assert outcome.failed
    assert "primary key (NULL): 1" in (history.records[0].error or "")


def test_a_table_whose_config_is_gone_fails_alone(
    bucket: LocalBucket, engine: DuckDbEngine
) -> None:
    # Given a batch where one table's config could not be read
    tracker = FakeTracker()
    tracker.add(bucket.write_csv(ORDERS, "f.csv", [["I", "2026-11-23 10:00:00", "1", "a", "1"]]))
    gone = {"source_table": CUSTOMERS, "config_error": "no config for cadence 'hourly'"}
    # When the batch runs / Then that table fails with the reason and the other merges
    outcome, history, _ = run_batch(engine, tracker, gone, table_config(ORDERS))
    assert [table.status for table in outcome.tables] == ["failed", "succeeded"]
    assert history.by_table()[CUSTOMERS].error == "no config for cadence 'hourly'"


def test_values_that_do_not_convert_fail_the_table_naming_the_columns(
    bucket: LocalBucket, engine: DuckDbEngine
) -> None:
    # Given a CDC file with an amount that is not a number and an unknown operation
    tracker = FakeTracker()
    tracker.add(
        bucket.write_csv(
            ORDERS,
            "f.csv",
            [
                ["I", "2026-11-23 10:00:00", "1", "a", "lots"],
                ["X", "2026-11-23 10:00:00", "2", "b", "1"],
            ],
        )
    )
    # When the batch runs / Then nothing is merged and the error says what is wrong where
    outcome, history, _ = run_batch(engine, tracker, table_config(ORDERS))
    error = history.records[0].error or ""
    assert "InvalidDataError" in error
    assert "operation: 1" in error
    assert "amount: 1" in error
    assert outcome.failed
    assert engine.table_rows("sales", "orders") == []


def test_a_table_without_pending_files_succeeds_without_touching_the_engine(
    engine: DuckDbEngine,
) -> None:
    outcome, history, _ = run_batch(engine, FakeTracker(), table_config(ORDERS))
    assert outcome.tables[0].status == "succeeded"
    assert history.records[0].files == 0
    assert engine.statements == []


def test_a_history_write_failure_fails_the_table(bucket: LocalBucket, engine: DuckDbEngine) -> None:
    class BrokenHistory(FakeHistory):
        def record(self, record: Any) -> None:
            raise ConnectionError("dynamodb unreachable")

    tracker = FakeTracker()
    tracker.add(bucket.write_csv(ORDERS, "f.csv", [["I", "2026-11-23 10:00:00", "1", "a", "1"]]))
    outcome, _, leases = run_batch(engine, tracker, table_config(ORDERS), history=BrokenHistory())
    assert outcome.failed
    assert "history not recorded" in (outcome.tables[0].error or "")
    assert leases.held == {}


def test_history_mode_appends_each_change_with_its_operation(
    bucket: LocalBucket, engine: DuckDbEngine
) -> None:
    tracker = FakeTracker()
    tracker.add(
        bucket.write_csv(
            ORDERS,
            "f.csv",
            [
                ["I", "2026-11-23 10:00:00", "1", "a", "1"],
                ["D", "2026-11-23 10:00:01", "1", "", ""],
            ],
        )
    )
    outcome, _, _ = run_batch(engine, tracker, table_config(ORDERS, mode="history"))
    rows = sorted(engine.table_rows("sales", "orders"), key=lambda row: row[3])
    assert [(row[0], row[3]) for row in rows] == [(1, "D"), (1, "I")]
    counts = outcome.tables[0].counts
    assert (counts.inserted, counts.updated, counts.deleted) == (1, 0, 1)


def test_parquet_files_are_read_by_column_name(bucket: LocalBucket, engine: DuckDbEngine) -> None:
    # Given a DMS Parquet CDC file whose columns come in another order than the config's
    path = bucket.root / "sales" / "orders" / "f.parquet"
    path.parent.mkdir(parents=True)
    engine.connection.execute(
        "COPY (SELECT 'x' AS customer, 'I' AS Op, 4 AS order_id, TIMESTAMP '2026-11-23 10:00:00'"
        " AS change_ts, 2.5 AS amount) TO $path (FORMAT parquet)",
        {"path": str(path)},
    )
    tracker = FakeTracker()
    tracker.add(bucket.pending(ORDERS, "sales/orders/f.parquet"))
    # When the batch runs / Then the row lands typed in its columns
    outcome, _, _ = run_batch(engine, tracker, table_config(ORDERS, file_format="parquet"))
    assert not outcome.failed, outcome.tables[0].error
    assert engine.table_rows("sales", "orders") == [(4, "x", Decimal("2.50"))]


def test_a_batch_without_run_id_is_refused(engine: DuckDbEngine) -> None:
    with pytest.raises(ValueError, match="run_id"):
        process_batch(
            {"batch_id": "b", "tables": []},
            engine,
            FakeLeases(),
            FakeTracker(),
            FakeHistory(),
            TickingClock(),
        )


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
