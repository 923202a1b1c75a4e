"""The writer's column-at-a-time formatting writes exactly what value-by-value formatting would."""

import csv
import io
import math
from collections.abc import Collection, Sequence
from datetime import date, datetime
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from excel_cleaner.sheet.csv_writer import CsvTable
from excel_cleaner.values import Cell, format_cell, format_cell_in_datetime_column

texts = st.one_of(
    st.just(""),
    st.sampled_from(["  padded ", "a,b", 'say "hi"', "two\nlines", "#N/A", "#DIV/0!", "nan", "-0"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")),
)
floats = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.1 + 0.2, -0.0, 1e15, 1e-7, 1250.5]),
)
dates = st.dates(min_value=date(1900, 3, 1), max_value=date(9999, 12, 31))
datetimes = st.datetimes(min_value=datetime(1900, 3, 1)).map(
    lambda moment: moment.replace(microsecond=moment.microsecond // 1000 * 1000)
)
column_kinds = st.sampled_from(
    [
        st.one_of(floats),
        st.one_of(floats, st.just("")),
        st.one_of(texts),
        st.one_of(dates),
        st.one_of(dates, datetimes),
        st.one_of(datetimes, st.just("")),
        st.booleans(),
        st.integers(min_value=-(10**12), max_value=10**12),
        st.one_of(floats, texts, st.booleans(), dates),
    ]
)


@st.composite
def tables(draw: st.DrawFn, max_rows: int = 12) -> list[list[Cell]]:
    columns = draw(st.lists(column_kinds, min_size=1, max_size=5))
    # Some columns repeat a few values (the quantity, the day): they are formatted per value.
    pools = [
        draw(st.lists(column, min_size=1, max_size=3)) if draw(st.booleans()) else None
        for column in columns
    ]
    rows = draw(st.integers(min_value=1, max_value=max_rows))
    return [
        [
            draw(column if pool is None else st.sampled_from(pool))
            for column, pool in zip(columns, pools, strict=True)
        ]
        for _ in range(rows)
    ]


def expected_rows(rows: list[list[Cell]]) -> list[list[str]]:
    with_datetimes = date_time_columns(rows)
    formatted = [
        [
            format_cell_in_datetime_column(value) if c in with_datetimes else format_cell(value)
            for c, value in enumerate(row)
        ]
        for row in rows
    ]
    return [row for row in formatted if any(row)]


def written_rows(
    rows: list[list[Cell]], chunks: Sequence[int] = (), date_times: Collection[int] = ()
) -> tuple[list[list[str]], CsvTable]:
    """The rows written in chunks starting at ``chunks`` (one chunk if none), read back."""
    width = len(rows[0])
    names = [f"c{c}" for c in range(width)]
    table = CsvTable(names, list(range(width)), [None] * width, date_times=date_times)
    starts = [0, *sorted(set(chunks) - {0}), len(rows)]
    for start, end in pairwise(starts):
        table.write(rows[start:end])
    parsed = list(csv.reader(io.StringIO(table.csv().decode(), newline="")))
    assert parsed[0] == names
    return parsed[1:], table


def date_time_columns(rows: list[list[Cell]]) -> set[int]:
    return {c for c in range(len(rows[0])) if any(isinstance(row[c], datetime) for row in rows)}


@settings(max_examples=200, deadline=None)
@given(tables())
def test_fast_formatting_writes_what_value_by_value_formatting_would(
    rows: list[list[Cell]],
) -> None:
    # Given any table of calamine-like values / When written
    parsed, _ = written_rows(rows)
    # Then the CSV reads back as format_cell of every value, blank rows left out
    assert parsed == expected_rows(rows)


@settings(max_examples=150, deadline=None)
@given(tables(max_rows=40), st.lists(st.integers(min_value=0, max_value=40), max_size=4))
def test_chunks_written_knowing_the_date_time_columns_read_as_one_table(
    rows: list[list[Cell]], chunks: list[int]
) -> None:
    # Given any table, cut into chunks, and its date-time columns known (as a second pass
    # over a sheet knows them) / When written chunk after chunk
    parsed, table = written_rows(rows, chunks, date_times=date_time_columns(rows))
    # Then it reads back as format_cell of every value, and nothing is to be written again
    assert parsed == expected_rows(rows)
    assert table.plain_dates.isdisjoint(table.date_times)


def test_a_date_time_below_plain_dates_in_an_earlier_chunk_is_reported() -> None:
    # Given a column of dates, then a date-time in the next chunk
    rows: list[list[Cell]] = [[date(2025, 1, 2)], [datetime(2025, 1, 3, 4, 5)]]
    # When written in two chunks, the plan knowing no date-time column
    _, table = written_rows(rows, chunks=[1])
    # Then the column's plain dates are reported, for the sheet to be written again
    assert (table.plain_dates, table.date_times) == ({0}, {0})


def test_a_date_time_above_dates_writes_them_at_midnight() -> None:
    rows: list[list[Cell]] = [[datetime(2025, 1, 3, 4, 5)], [date(2025, 1, 2)]]
    parsed, table = written_rows(rows, chunks=[1])
    assert (parsed, table.plain_dates) == (
        [["2025-01-03T04:05:00"], ["2025-01-02T00:00:00"]],
        set(),
    )


def test_suspect_numbers_take_the_exact_path() -> None:
    rows: list[list[Cell]] = [[math.nan], [math.inf], [-0.0], [0.30000000000000004]]
    parsed, _ = written_rows(rows)
    assert parsed == [["0"], ["0.3"]]


def test_error_codes_in_a_text_column_are_emptied_and_counted() -> None:
    parsed, table = written_rows([["#N/A", "x"], ["ok", " #REF! "]])
    assert (parsed, table.cells.errors) == ([["", "x"], ["ok", ""]], 2)


def test_an_error_code_beside_a_number_to_redo_is_counted_once() -> None:
    # Given a row holding an error code (text) and -0 (formatted again, value by value)
    _, table = written_rows([["#N/A", -0.0], [1.0, 2.0]])
    # Then the error code is counted once
    assert table.cells.errors == 1


def test_text_of_a_str_subclass_is_quoted() -> None:
    class Text(str):
        __slots__ = ()

    parsed, _ = written_rows([[Text("x, y"), 1.0], [Text('say "hi"'), 2.0]])
    assert parsed == [["x, y", "1"], ['say "hi"', "2"]]


def test_columns_can_be_picked() -> None:
    table = CsvTable(["b", "d"], [1, 3], [None, None])
    table.write([["x", 1.0, "y", " z "], ["x", 2.5, "y", "w"]])
    assert table.csv() == b"b,d\n1,z\n2.5,w\n"
