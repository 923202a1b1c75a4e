"""The merge job's scenarios, written once and run on every engine.

The unit tier runs each on DuckDB; the engine tier (tests/integration/engines/test_glue_merge_*)
runs each on DuckDB and on real Spark 3.5 + Iceberg 1.10 and requires both to end in the same
state. A scenario gets a Rig (an engine, a local bucket, the catalog to merge into), runs batches
through process_batch, asserts what the job must have done (Given/When/Then), and returns an
Observation of the end state: rows, outcomes, the files left pending, the file and column a
failure names.
"""

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from glue_merge_fakes import (
    FakeHistory,
    FakeLeases,
    FakeTracker,
    LocalBucket,
    TickingClock,
    batch_of,
    table_config,
)

from cdc_merge.engine import SqlEngine, StagingFile
from cdc_merge.file_tracker import PendingFile
from cdc_merge.job import BatchOutcome, process_batch
from cdc_merge.table_spec import TableSpec

ORDERS = "sales.orders"
CUSTOMERS = "crm.customers"
CUSTOMER_COLUMNS = (("customer_id", "int"), ("name", "string"))
TS = "2026-11-23 10:00:00"


class RecordingEngine:
    """An engine that notes which of its methods the job called (and on what)."""

    def __init__(self, inner: SqlEngine) -> None:
        self.inner = inner
        self.calls: list[tuple[str, str]] = []

    def execute(self, sql: str) -> list[tuple[Any, ...]]:
        self.calls.append(("execute", sql))
        return self.inner.execute(sql)

    def create_staging_view(self, name: str, files: Sequence[StagingFile], spec: TableSpec) -> None:
        self.calls.append(("create_staging_view", name))
        self.inner.create_staging_view(name, files, spec)

    def materialize_view(self, name: str, select_sql: str) -> None:
        self.calls.append(("materialize_view", name))
        self.inner.materialize_view(name, select_sql)

    def drop_view(self, name: str) -> None:
        self.calls.append(("drop_view", name))
        self.inner.drop_view(name)


def normalized(row: Sequence[Any]) -> tuple[Any, ...]:
    """A row with timestamps as UTC instants, whatever zone object the engine returned."""
    return tuple(value.astimezone(UTC) if isinstance(value, datetime) else value for value in row)


_LOCATION = re.compile(r"\[file: (?P<file>.*?)\](?: \[column: (?P<column>.*?)\])?$")


@dataclass(frozen=True)
class Observation:
    """What a scenario left behind, in terms both engines must agree on."""

    outcomes: tuple[tuple[Any, ...], ...]  # per table: name, status, files, counts, full load
    rows: tuple[tuple[str, tuple[tuple[Any, ...], ...]], ...]  # per target table, sorted
    pending: tuple[tuple[str, tuple[str, ...]], ...]  # per source table, file names
    failures: tuple[tuple[str, str | None], ...]  # per failed table: the file its error names


@dataclass
class Rig:
    """One engine under test, with its bucket and the catalog the job merges into."""

    bucket: LocalBucket
    engine: RecordingEngine
    catalog: str
    read_table: Callable[[str, str], list[tuple[Any, ...]]]
    outcomes: list[BatchOutcome] = field(default_factory=list)

    def rows(self, database: str, table: str) -> list[tuple[Any, ...]]:
        return sorted((normalized(row) for row in self.read_table(database, table)), key=repr)

    def run_batch(
        self,
        tracker: FakeTracker,
        *tables: dict[str, Any],
        leases: FakeLeases | None = None,
        history: FakeHistory | None = None,
        run_id: str = "hourly-run-1",
    ) -> tuple[BatchOutcome, FakeHistory, FakeLeases]:
        leases = FakeLeases() if leases is None else leases
        history = FakeHistory() if history is None else history
        outcome = process_batch(
            batch_of(*tables, run_id=run_id),
            self.engine,
            leases,
            tracker,
            history,
            TickingClock(),
            catalog=self.catalog,
        )
        self.outcomes.append(outcome)
        return outcome, history, leases

    def observe(self, tracker: FakeTracker, tables: Iterable[tuple[str, str]] = ()) -> Observation:
        outcomes = tuple(
            (t.source_table, t.status, t.files, t.counts, t.full_load)
            for outcome in self.outcomes
            for t in outcome.tables
        )
        failures = []
        for outcome in self.outcomes:
            for table in outcome.tables:
                if table.status == "failed":
                    found = _LOCATION.search(table.error or "")
                    failures.append((table.source_table, found and found["file"]))
        return Observation(
            outcomes=outcomes,
            rows=tuple((f"{db}.{name}", tuple(self.rows(db, name))) for db, name in tables),
            pending=tuple(
                (source, tuple(file.file_name for file in tracker.pending_files(source)))
                for source in sorted(tracker.files)
            ),
            failures=tuple(failures),
        )


@contextmanager
def duckdb_rig(directory: Path) -> Iterator[Rig]:
    """A Rig on DuckDB (dev/glue_merge/duckdb_engine.py), its bucket in ``directory``."""
    bucket = LocalBucket(directory)
    with bucket.engine() as engine:
        yield Rig(bucket, RecordingEngine(engine), engine.catalog, engine.table_rows)


Scenario = Callable[[Rig], Observation]
JOB_SCENARIOS: dict[str, Scenario] = {}
LANDING_SCENARIOS: dict[str, Scenario] = {}


def _registered(registry: dict[str, Scenario]) -> Callable[[Scenario], Scenario]:
    def register(scenario: Scenario) -> Scenario:
        registry[scenario.__name__] = scenario
        return scenario

    return register


job_scenario = _registered(JOB_SCENARIOS)
landing_scenario = _registered(LANDING_SCENARIOS)


def customers_config() -> dict[str, Any]:
    return table_config(CUSTOMERS, columns=CUSTOMER_COLUMNS, primary_key=("customer_id",))


def write_parquet(path: Path, select_sql: str) -> None:
    """A Parquet file of the query's rows, written by DuckDB (both engines read the same file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as connection:
        connection.execute(f"COPY ({select_sql}) TO $path (FORMAT parquet)", {"path": str(path)})


# --- the job ---------------------------------------------------------------------------------


@job_scenario
def a_cdc_only_table_is_created_and_merged(rig: Rig) -> Observation:
    # Given CDC files for a table that does not exist yet
    tracker = FakeTracker()
    rows = [
        ["I", "2026-11-23 10:00:01", "1", "ann", "10.50"],
        ["I", "2026-11-23 10:00:02", "2", "bob", "3.00"],
        ["U", "2026-11-23 10:00:03", "1", "ann", "11.00"],
    ]
    tracker.add(rig.bucket.write_csv(ORDERS, "20261123-1000.csv", rows))
    # When the batch runs
    outcome, history, _ = rig.run_batch(tracker, table_config(ORDERS))
    # Then the table holds the latest row of each key, and the counts say so
    assert rig.rows("sales", "orders") == [
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
    return rig.observe(tracker, [("sales", "orders")])


@job_scenario
def a_full_load_replaces_the_table_and_later_changes_apply_on_top(rig: Rig) -> Observation:
    # Given a table merged before
    tracker = FakeTracker()
    tracker.add(
        rig.bucket.write_csv(ORDERS, "old.csv", [["I", "2026-11-23 09:00:00", "9", "z", "1"]])
    )
    rig.run_batch(tracker, table_config(ORDERS))
    # ... and now a new full load followed by a CDC file
    tracker.add(
        rig.bucket.write_csv(ORDERS, "LOAD00000001.csv", [["1", "ann", "5.00"], ["2", "bob", "6"]]),
        rig.bucket.write_csv(ORDERS, "cdc.csv", [["D", "2026-11-23 11:00:00", "2", None, None]]),
    )
    # When the batch runs
    outcome, _, _ = rig.run_batch(tracker, table_config(ORDERS))
    # Then the old rows are gone, the load is in, and the delete applied after it
    assert rig.rows("sales", "orders") == [(1, "ann", Decimal("5.00"))]
    [table] = outcome.tables
    assert table.full_load
    assert (table.counts.inserted, table.counts.updated, table.counts.deleted) == (2, 0, 2)
    return rig.observe(tracker, [("sales", "orders")])


@job_scenario
def one_failing_table_does_not_stop_the_others(rig: Rig) -> Observation:
    # Given two tables, the first one's file missing from the bucket
    tracker = FakeTracker()
    tracker.add(rig.bucket.pending(CUSTOMERS, "crm/customers/vanished.csv"))
    tracker.add(rig.bucket.write_csv(ORDERS, "f.csv", [["I", TS, "1", "a", "1"]]))
    # When the batch runs
    outcome, history, leases = rig.run_batch(tracker, customers_config(), table_config(ORDERS))
    # Then the batch failed, the failing table is recorded naming its file, the other merged
    assert outcome.failed_tables == [CUSTOMERS]
    records = history.by_table()
    assert records[CUSTOMERS].status == "failed"
    assert "[file: s3://staging/crm/customers/vanished.csv]" in (records[CUSTOMERS].error or "")
    assert records[ORDERS].status == "succeeded"
    assert rig.rows("sales", "orders") == [(1, "a", Decimal("1.00"))]
    # ... the failed table's files stay pending for the next run, and both leases were released
    assert len(tracker.pending_files(CUSTOMERS)) == 1
    assert leases.held == {}
    assert sorted(leases.released) == [CUSTOMERS, ORDERS]
    return rig.observe(tracker, [("sales", "orders")])


@job_scenario
def a_locked_table_is_skipped_and_recorded(rig: Rig) -> Observation:
    # Given another run holds the lease of one table
    tracker = FakeTracker()
    tracker.add(rig.bucket.write_csv(ORDERS, "f.csv", [["I", TS, "1", "a", "1"]]))
    tracker.add(rig.bucket.write_csv(CUSTOMERS, "f.csv", [["I", TS, "7", "x"]]))
    leases = FakeLeases(held={ORDERS: "another-run"})
    # When the batch runs
    outcome, history, _ = rig.run_batch(
        tracker, table_config(ORDERS), customers_config(), leases=leases
    )
    # Then that table is skipped (recorded, files untouched, lease left alone); the other merged
    statuses = {table.source_table: table.status for table in outcome.tables}
    assert statuses == {ORDERS: "skipped_locked", CUSTOMERS: "succeeded"}
    assert not outcome.failed
    assert history.by_table()[ORDERS].status == "skipped_locked"
    assert len(tracker.pending_files(ORDERS)) == 1
    assert leases.held == {ORDERS: "another-run"}
    return rig.observe(tracker, [("crm", "customers")])


@job_scenario
def an_invalid_table_spec_fails_that_table_only(rig: Rig) -> Observation:
    # Given a config with a type no engine knows, next to a valid one
    tracker = FakeTracker()
    tracker.add(rig.bucket.write_csv(ORDERS, "f.csv", [["I", TS, "1", "a", "1"]]))
    broken = table_config(CUSTOMERS, columns=(("id", "money"),), primary_key=("id",))
    # When the batch runs / Then that table fails on its config and the other merges
    outcome, history, _ = rig.run_batch(tracker, broken, table_config(ORDERS))
    assert [table.status for table in outcome.tables] == ["failed", "succeeded"]
    assert "unsupported column type" in (history.by_table()[CUSTOMERS].error or "")
    return rig.observe(tracker, [("sales", "orders")])


@job_scenario
def full_load_files_with_the_dms_timestamp_column_are_read_by_layout(rig: Rig) -> Observation:
    # Given full-load files that carry DMS's timestamp column first (TimestampColumnName)
    tracker = FakeTracker()
    tracker.add(
        rig.bucket.write_csv(
            ORDERS, "LOAD00000001.csv", [[TS, "1", "a", "5"], [TS, "2", "b", "6"]]
        ),
        rig.bucket.write_csv(ORDERS, "f.csv", [["U", "2026-11-23 10:05:00", "1", "a", "7"]]),
    )
    # When the batch runs with full_load_layout "sequence"
    outcome, _, _ = rig.run_batch(tracker, table_config(ORDERS, full_load_layout="sequence"))
    # Then the columns line up and the later CDC change wins
    assert not outcome.failed
    assert rig.rows("sales", "orders") == [(1, "a", Decimal("7.00")), (2, "b", Decimal("6.00"))]
    return rig.observe(tracker, [("sales", "orders")])


@job_scenario
def a_row_without_its_primary_key_fails_the_table(rig: Rig) -> Observation:
    # Given a CDC row whose key field is empty (NULL: it would be inserted again on every run)
    tracker = FakeTracker()
    tracker.add(rig.bucket.write_csv(ORDERS, "f.csv", [["I", TS, None, "a", "1"]]))
    # When the batch runs / Then the table fails, naming the key and the file
    outcome, history, _ = rig.run_batch(tracker, table_config(ORDERS))
    assert outcome.failed
    error = history.records[0].error or ""
    assert "s3://staging/sales/orders/f.csv: primary key (NULL): 1" in error
    return rig.observe(tracker)


@job_scenario
def a_table_whose_config_is_gone_fails_alone(rig: Rig) -> Observation:
    # Given a batch where one table's config could not be read
    tracker = FakeTracker()
    tracker.add(rig.bucket.write_csv(ORDERS, "f.csv", [["I", TS, "1", "a", "1"]]))
    gone = {"source_table": CUSTOMERS, "config_error": "no config for cadence 'hourly'"}
    # When the batch runs / Then that table fails with the reason and the other merges
    outcome, history, _ = rig.run_batch(tracker, gone, table_config(ORDERS))
    assert [table.status for table in outcome.tables] == ["failed", "succeeded"]
    assert history.by_table()[CUSTOMERS].error == "no config for cadence 'hourly'"
    return rig.observe(tracker, [("sales", "orders")])


@job_scenario
def values_that_are_not_of_their_types_fail_the_table_naming_file_and_column(
    rig: Rig,
) -> Observation:
    # Given a CDC file with an amount that is not a number and an unknown operation
    tracker = FakeTracker()
    rows = [["I", TS, "1", "a", "lots"], ["X", TS, "2", "b", "1"]]
    tracker.add(rig.bucket.write_csv(ORDERS, "f.csv", rows))
    # When the batch runs / Then nothing is merged and the error says what is wrong where
    outcome, history, _ = rig.run_batch(tracker, table_config(ORDERS))
    error = history.records[0].error or ""
    assert error.startswith("InvalidDataError: ")
    assert "s3://staging/sales/orders/f.csv: operation: 1, amount: 1" in error
    assert error.endswith("[file: s3://staging/sales/orders/f.csv] [column: operation]")
    assert outcome.failed
    assert rig.rows("sales", "orders") == []
    return rig.observe(tracker, [("sales", "orders")])


@job_scenario
def a_table_without_pending_files_succeeds_without_touching_the_engine(rig: Rig) -> Observation:
    # Given no pending file / When the batch runs / Then the table succeeds with no engine call
    tracker = FakeTracker()
    outcome, history, _ = rig.run_batch(tracker, table_config(ORDERS))
    assert outcome.tables[0].status == "succeeded"
    assert history.records[0].files == 0
    assert rig.engine.calls == []
    return rig.observe(tracker)


@job_scenario
def a_history_write_failure_fails_the_table(rig: Rig) -> Observation:
    class BrokenHistory(FakeHistory):
        def record(self, record: Any) -> None:
            raise ConnectionError("dynamodb unreachable")

    # Given a history table that cannot be written
    tracker = FakeTracker()
    tracker.add(rig.bucket.write_csv(ORDERS, "f.csv", [["I", TS, "1", "a", "1"]]))
    # When the batch runs / Then the merged table fails for want of its record; the lease is back
    outcome, _, leases = rig.run_batch(tracker, table_config(ORDERS), history=BrokenHistory())
    assert outcome.failed
    assert "history not recorded: ConnectionError: dynamodb unreachable" in (
        outcome.tables[0].error or ""
    )
    assert leases.held == {}
    return rig.observe(tracker, [("sales", "orders")])


@job_scenario
def history_mode_appends_each_change_with_its_operation(rig: Rig) -> Observation:
    # Given an insert and a delete of one key
    tracker = FakeTracker()
    rows = [["I", TS, "1", "a", "1"], ["D", "2026-11-23 10:00:01", "1", None, None]]
    tracker.add(rig.bucket.write_csv(ORDERS, "f.csv", rows))
    # When the batch runs in history mode / Then both changes are kept, with their operation
    outcome, _, _ = rig.run_batch(tracker, table_config(ORDERS, mode="history"))
    assert sorted((row[0], row[3]) for row in rig.rows("sales", "orders")) == [(1, "D"), (1, "I")]
    counts = outcome.tables[0].counts
    assert (counts.inserted, counts.updated, counts.deleted) == (1, 0, 1)
    return rig.observe(tracker, [("sales", "orders")])


@job_scenario
def parquet_files_are_read_by_column_name(rig: Rig) -> Observation:
    # Given a DMS Parquet CDC file whose columns come in another order than the config's
    write_parquet(
        rig.bucket.root / "sales" / "orders" / "f.parquet",
        "SELECT 'x' AS customer, 'I' AS Op, 4 AS order_id, TIMESTAMP '2026-11-23 10:00:00'"
        " AS change_ts, 2.5 AS amount",
    )
    tracker = FakeTracker()
    tracker.add(rig.bucket.pending(ORDERS, "sales/orders/f.parquet"))
    # When the batch runs / Then the row lands typed in its columns
    outcome, _, _ = rig.run_batch(tracker, table_config(ORDERS, file_format="parquet"))
    assert not outcome.failed, outcome.tables[0].error
    assert rig.rows("sales", "orders") == [(4, "x", Decimal("2.50"))]
    return rig.observe(tracker, [("sales", "orders")])


@job_scenario
def a_batch_without_run_id_is_refused(rig: Rig) -> Observation:
    # Given a batch with no run id / When processed / Then it is refused before any table
    tracker = FakeTracker()
    with pytest.raises(ValueError, match="run_id"):
        process_batch(
            {"batch_id": "b", "tables": []},
            rig.engine,
            FakeLeases(),
            tracker,
            FakeHistory(),
            TickingClock(),
        )
    assert rig.engine.calls == []
    return rig.observe(tracker)


@job_scenario
def the_latest_change_of_a_key_wins_by_sequence_then_file_then_row(rig: Rig) -> Observation:
    # Given changes of one key: an older sequence in a later file, and ties within a file
    tracker = FakeTracker()
    first = [
        ["I", "2026-11-23 10:00:05", "1", "tie-1", "1"],
        ["U", "2026-11-23 10:00:05", "1", "tie-2", "2"],
    ]
    second = [["U", "2026-11-23 10:00:01", "1", "older", "3"], ["I", TS, "2", "b", "4"]]
    tracker.add(
        rig.bucket.write_csv(ORDERS, "a.csv", first), rig.bucket.write_csv(ORDERS, "b.csv", second)
    )
    # When the batch runs / Then the greatest sequence wins, and of equal ones the later row
    rig.run_batch(tracker, table_config(ORDERS))
    assert rig.rows("sales", "orders") == [(1, "tie-2", Decimal("2.00")), (2, "b", Decimal("4.00"))]
    return rig.observe(tracker, [("sales", "orders")])


# --- landing order: what a full load supersedes ------------------------------------------------


def _same_second(
    rig: Rig, name: str, rows: Sequence[Sequence[object]], file_id: str
) -> PendingFile:
    written = rig.bucket.write_csv(ORDERS, name, rows)
    return replace(written, file_id=file_id, event_time="2026-11-23T10:15:00Z")


@landing_scenario
def files_of_one_second_apply_the_full_load_first_then_the_changes_by_name(rig: Rig) -> Observation:
    # Given a full load of two files and two CDC files stamped with the same second, their ids
    # in the opposite order
    tracker = FakeTracker()
    tracker.add(
        _same_second(rig, "20261123-101500900.csv", [["U", TS, "1", "late", "3"]], "a"),
        _same_second(rig, "LOAD00000002.csv", [["2", "b", "2"]], "b"),
        _same_second(rig, "20261123-101500100.csv", [["U", TS, "1", "early", "2"]], "c"),
        _same_second(rig, "LOAD00000001.csv", [["1", "a", "1"]], "d"),
    )
    # When the batch runs
    outcome, _, _ = rig.run_batch(tracker, table_config(ORDERS))
    # Then the load makes the table and the changes apply on top, the later-named one last
    assert rig.rows("sales", "orders") == [(1, "late", Decimal("3.00")), (2, "b", Decimal("2.00"))]
    assert outcome.tables[0].full_load
    return rig.observe(tracker, [("sales", "orders")])


@landing_scenario
def a_change_landed_a_second_before_a_full_load_is_superseded(rig: Rig) -> Observation:
    # Given a CDC file that landed a second before a full load
    tracker = FakeTracker()
    early = rig.bucket.write_csv(ORDERS, "20261123-101459000.csv", [["I", TS, "9", "gone", "9"]])
    load = _same_second(rig, "LOAD00000001.csv", [["1", "a", "1"]], "z")
    tracker.add(load, replace(early, event_time="2026-11-23T10:14:59Z"))
    # When the batch runs / Then only the load is in the table, and both files are processed
    outcome, _, _ = rig.run_batch(tracker, table_config(ORDERS))
    assert rig.rows("sales", "orders") == [(1, "a", Decimal("1.00"))]
    assert (outcome.tables[0].files, tracker.pending_files(ORDERS)) == (2, [])
    return rig.observe(tracker, [("sales", "orders")])
