"""The second pass's fast formatting writes exactly what value-by-value formatting would."""

import csv
import io
import math
from datetime import date, datetime

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
def tables(draw: st.DrawFn) -> list[list[Cell]]:
    columns = draw(st.lists(column_kinds, min_size=1, max_size=5))
    rows = draw(st.integers(min_value=1, max_value=12))
    return [[draw(column) for column in columns] for _ in range(rows)]


def expected_rows(rows: list[list[Cell]]) -> list[list[str]]:
    width = len(rows[0])
    with_datetimes = [any(isinstance(row[c], datetime) for row in rows) for c in range(width)]
    formatted = [
        [
            format_cell_in_datetime_column(value) if with_datetimes[c] else format_cell(value)
            for c, value in enumerate(row)
        ]
        for row in rows
    ]
    return [row for row in formatted if any(row)]


def written_rows(rows: list[list[Cell]]) -> tuple[list[list[str]], CsvTable]:
    width = len(rows[0])
    kinds = [{type(row[c]) for row in rows} for c in range(width)]
    names = [f"c{c}" for c in range(width)]
    table = CsvTable(names, list(range(width)), kinds, [None] * width)
    table.write(rows)
    parsed = list(csv.reader(io.StringIO(table.text(), newline="")))
    assert parsed[0] == names
    return parsed[1:], table


@settings(max_examples=200, deadline=None)
@given(tables())
def test_fast_formatting_writes_what_value_by_value_formatting_would(
    rows: list[list[Cell]],
) -> None:
    # Given any table of calamine-like values / When written by the second pass
    parsed, _ = written_rows(rows)
    # Then the CSV reads back as format_cell of every value, blank rows left out
    assert parsed == expected_rows(rows)


def test_suspect_numbers_take_the_exact_path() -> None:
    rows: list[list[Cell]] = [[math.nan], [math.inf], [-0.0], [0.30000000000000004]]
    parsed, _ = written_rows(rows)
    assert parsed == [["0"], ["0.3"]]


def test_error_codes_in_a_text_column_are_emptied_and_counted() -> None:
    parsed, table = written_rows([["#N/A", "x"], ["ok", " #REF! "]])
    assert (parsed, table.cells.errors) == ([["", "x"], ["ok", ""]], 2)


def test_columns_can_be_picked() -> None:
    table = CsvTable(["b", "d"], [1, 3], [{float}, {str}], [None, None])
    table.write([["x", 1.0, "y", " z "], ["x", 2.5, "y", "w"]])
    assert table.text() == "b,d\n1,z\n2.5,w\n"
