"""The merge job against a plain Python replay of the changes, on any engine.

Hypothesis draws runs of DMS files: an optional full load (one or two LOAD files) and CDC files
of inserts, updates and deletes, with repeated keys, repeated and out-of-order sequence values,
and keys full of quotes, commas, CR, LF, non-ASCII text, and empty strings (quoted "", unlike
NULL). After each run the table must hold what replaying the changes in (sequence, file, row)
order gives, and the run's counts must be the replay's. The unit tier runs this on DuckDB, the
engine tier on real Spark + Iceberg too: both equal to the replay, both agree.
"""

from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from glue_merge_fakes import FakeTracker, LocalBucket, table_config
from glue_merge_scenarios import Rig
from hypothesis import strategies as st

SOURCE_TABLE = "app.accounts"
COLUMNS = (
    ("k1", "string"),
    ("k2", "int"),
    ("name", "string"),
    ("amount", "decimal(12,2)"),
    ("flag", "boolean"),
    ("seen_at", "timestamp"),
    ("day", "date"),
)
PRIMARY_KEY = ("k1", "k2")
SEQUENCE_BASE = datetime(2026, 11, 23, 10, 0, 0)

Key = tuple[str, int]
Values = tuple[Any, ...]  # typed values of the non-key columns

# No surrogates (not UTF-8), no NUL, and a CR only in a CR LF (a lone CR fails the table: see
# glue_merge_csv_cases); LF and CR LF stay inside quoted values (rows end at LF), and "" is
# written quoted: the empty string, not NULL.
TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00\r"), max_size=6)
QUOTEY = st.sampled_from(
    ["'", '"', "`", "a'b", '"q"', "x,y", "new\nline", "cr\r\nlf", "é", "日本", "😀", ""]
)
KEY_TEXT = st.one_of(QUOTEY, TEXT)
VALUES = st.tuples(
    st.none() | TEXT,
    st.none() | st.integers(-(10**9), 10**9).map(lambda n: Decimal(n).scaleb(-2)),
    st.none() | st.booleans(),
    st.none()
    | st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31)).map(
        lambda moment: moment.replace(tzinfo=UTC)
    ),
    st.none() | st.dates(date(1970, 1, 1), date(2099, 12, 31)),
)


@dataclass(frozen=True)
class Change:
    op: str
    key: Key
    seq: int
    values: Values


@dataclass(frozen=True)
class Run:
    full_load: tuple[tuple[tuple[Key, Values], ...], ...]  # files of rows; empty = no full load
    cdc_files: tuple[tuple[Change, ...], ...]
    # False: the LOAD files continue a set an earlier run started (no LOAD00000001 among them),
    # so their rows are inserts that rank before every change instead of a new table.
    starts_full_load: bool = True

    def continuation_rows(self) -> list[tuple[Key, Values]]:
        if self.starts_full_load:
            return []
        return [row for file in self.full_load for row in file]

    def new_table(self) -> dict[Key, Values] | None:
        if not self.full_load or not self.starts_full_load:
            return None
        loaded: dict[Key, Values] = {}
        for file in self.full_load:
            for key, values in file:
                loaded[key] = values  # the last row of a key wins
        return loaded


@st.composite
def runs(draw: st.DrawFn, max_runs: int = 3) -> list[Run]:
    keys = draw(
        st.lists(st.tuples(KEY_TEXT, st.integers(-2, 2)), min_size=1, max_size=5, unique=True)
    )
    key = st.sampled_from(keys)
    change = st.builds(Change, st.sampled_from("IUD"), key, st.integers(0, 12), VALUES)
    row = st.tuples(key, VALUES)
    drawn = []
    for _ in range(draw(st.integers(1, max_runs))):
        full_load = draw(
            st.one_of(
                st.just(()),
                st.lists(st.lists(row, max_size=4).map(tuple), min_size=1, max_size=2).map(tuple),
            )
        )
        # A run has at least one file (a table without pending files is never in a batch).
        cdc_file_count = st.integers(0 if full_load else 1, 3)
        cdc = tuple(tuple(draw(st.lists(change, max_size=6))) for _ in range(draw(cdc_file_count)))
        drawn.append(Run(full_load, cdc, starts_full_load=draw(st.booleans())))
    return drawn


def render(value: object) -> str | None:
    """A typed value as DMS writes it in CSV (None -> empty field)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return str(value)


def render_seq(seq: int, sequence_type: str) -> str:
    if sequence_type == "timestamp":
        return (SEQUENCE_BASE + timedelta(seconds=seq)).strftime("%Y-%m-%d %H:%M:%S")
    if sequence_type == "bigint":
        return str(seq)
    return f"{seq:04d}"  # fixed width: sorts as text the way DMS sequence strings do


def data_row(key: Key, values: Values) -> list[str | None]:
    return [key[0], str(key[1]), *(render(value) for value in values)]


@dataclass
class Replay:
    """The expected table: changes applied one by one in (sequence, file, row) order."""

    current: dict[Key, Values]
    history: Counter[tuple[Any, ...]]

    def run(self, run: Run) -> tuple[int, int, int]:
        inserted = updated = deleted = 0
        loaded = run.new_table()
        if loaded is not None:
            deleted += len(self.current)
            inserted += len(loaded)
            self.current = loaded
        changes = [Change("I", key, -1, values) for key, values in run.continuation_rows()]
        changes += sorted((c for file in run.cdc_files for c in file), key=lambda c: c.seq)
        before = {change.key: change.key in self.current for change in changes}
        for change in changes:
            if change.op == "D":
                self.current.pop(change.key, None)
            else:
                self.current[change.key] = change.values
        for key, existed in before.items():
            exists = key in self.current
            inserted += exists and not existed
            updated += exists and existed
            deleted += existed and not exists
        return inserted, updated, deleted

    def run_history(self, run: Run, sequence_type: str) -> tuple[int, int, int]:
        inserted = updated = deleted = 0
        loaded = run.new_table()
        if loaded is not None:
            deleted += sum(self.history.values())
            inserted += len(loaded)
            self.history = Counter((*key, *values, "I", None) for key, values in loaded.items())
        for key, values in run.continuation_rows():
            self.history[(*key, *values, "I", None)] += 1
            inserted += 1
        for file in run.cdc_files:
            for change in file:
                seq = typed_seq(change.seq, sequence_type)
                self.history[(*change.key, *change.values, change.op, seq)] += 1
                inserted += change.op == "I"
                updated += change.op == "U"
                deleted += change.op == "D"
        return inserted, updated, deleted


def typed_seq(seq: int, sequence_type: str) -> object:
    if sequence_type == "timestamp":
        return (SEQUENCE_BASE + timedelta(seconds=seq)).replace(tzinfo=UTC)
    if sequence_type == "bigint":
        return seq
    return render_seq(seq, sequence_type)


def stage_run(bucket: LocalBucket, number: int, run: Run, sequence_type: str) -> list[Any]:
    files = []
    first = 1 if run.starts_full_load else 2
    for position, rows in enumerate(run.full_load, start=first):
        files.append(
            bucket.write_csv(
                SOURCE_TABLE,
                f"run{number}/LOAD{position:08d}.csv",
                [data_row(key, values) for key, values in rows],
            )
        )
    for position, changes in enumerate(run.cdc_files):
        files.append(
            bucket.write_csv(
                SOURCE_TABLE,
                f"run{number}/20261123-{position:04d}.csv",
                [
                    [c.op, render_seq(c.seq, sequence_type), *data_row(c.key, c.values)]
                    for c in changes
                ],
            )
        )
    return files


RigFactory = Callable[[], AbstractContextManager[Rig]]


def run_all(new_rig: RigFactory, drawn: list[Run], mode: str, sequence_type: str) -> None:
    """Merges each drawn run in turn on a fresh rig, checking table and counts after each."""
    config = table_config(
        SOURCE_TABLE,
        mode=mode,
        sequence_column_type=sequence_type,
        columns=COLUMNS,
        primary_key=PRIMARY_KEY,
    )
    replay = Replay({}, Counter())
    with new_rig() as rig:
        for number, run in enumerate(drawn):
            tracker = FakeTracker()
            tracker.add(*stage_run(rig.bucket, number, run, sequence_type))
            # When the job runs the batch
            outcome, _, _ = rig.run_batch(tracker, config, run_id=f"run-{number}")
            # Then the table and the counts are the replay's
            [table] = outcome.tables
            assert table.status == "succeeded", table.error
            rows = rig.rows("app", "accounts")
            if mode == "current":
                expected_counts = replay.run(run)
                assert {row[:2]: row[2:] for row in rows} == replay.current
                assert len(rows) == len(replay.current)
            else:
                expected_counts = replay.run_history(run, sequence_type)
                assert Counter(rows) == replay.history
            counts = (table.counts.inserted, table.counts.updated, table.counts.deleted)
            assert counts == expected_counts
            assert tracker.pending_files(SOURCE_TABLE) == []
