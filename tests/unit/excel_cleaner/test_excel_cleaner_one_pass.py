"""One pass over a sheet where the header window's plan holds; a second, knowing, where the rows
below prove it wrong (data in an unnamed column, a date-time below plain dates, text dates)."""

from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from excel_cleaner.sheet import CleanedSheet, MergedRange, clean_sheet
from excel_cleaner.sheet import table as sheet_table
from excel_cleaner.values import Cell

type Grid = list[list[Cell]]

ROWS_PAST_THE_FIRST_CHUNK = sheet_table.CHUNK_ROWS + 500


class CountedRows:
    """The rows as calamine gives them, counting the passes over them."""

    def __init__(self, rows: Grid) -> None:
        width = max(map(len, rows))
        self.rows = [[*row, *([""] * (width - len(row)))] for row in rows]
        self.width = width
        self.passes = 0

    def __call__(self) -> Iterator[list[Cell]]:
        self.passes += 1
        return iter(self.rows)


def clean(rows: CountedRows, merges: Sequence[MergedRange] = ()) -> CleanedSheet:
    sheet = clean_sheet("sheet", rows, rows.width, merges=merges)
    assert sheet is not None
    return sheet


def lines(sheet: CleanedSheet) -> list[str]:
    return sheet.csv.decode().splitlines()


def orders(count: int) -> Grid:
    return [
        ["id", "day"],
        *([float(n), date(2025, 1, 1) + timedelta(days=n % 300)] for n in range(count)),
    ]


def test_a_sheet_the_window_describes_is_read_once() -> None:
    # Given a long table whose columns are what its first rows show
    rows = CountedRows(orders(ROWS_PAST_THE_FIRST_CHUNK))
    # When cleaned
    sheet = clean(rows)
    # Then the rows were read once, and every row written
    assert (rows.passes, sheet.rows) == (1, ROWS_PAST_THE_FIRST_CHUNK)
    assert lines(sheet)[1:3] == ["0,2025-01-01", "1,2025-01-02"]


def test_data_in_an_unnamed_column_below_the_window_keeps_the_column() -> None:
    # Given an unnamed column, empty in the header window, holding a value far below
    grid = [[*row, ""] for row in orders(ROWS_PAST_THE_FIRST_CHUNK)]
    grid[-1][2] = "late note"
    rows = CountedRows(grid)
    # When cleaned
    sheet = clean(rows)
    # Then the column is kept and the sheet written again with it
    assert sheet.columns == ("id", "day", "column_3")
    assert rows.passes == 2
    assert lines(sheet)[1] == "0,2025-01-01,"
    assert lines(sheet)[-1].endswith(",late note")


def test_a_date_time_below_a_chunk_of_plain_dates_writes_every_date_at_midnight() -> None:
    # Given a day column holding plain dates for a whole chunk, then a date-time
    grid = orders(ROWS_PAST_THE_FIRST_CHUNK)
    grid[-1][1] = datetime(2025, 6, 1, 12, 30)
    rows = CountedRows(grid)
    # When cleaned
    sheet = clean(rows)
    # Then the column has one format: the first dates too are written at midnight
    assert lines(sheet)[1] == "0,2025-01-01T00:00:00"
    assert lines(sheet)[-1].endswith(",2025-06-01T12:30:00")
    assert rows.passes == 2


def test_text_dates_below_the_first_chunk_are_converted_in_the_second_pass() -> None:
    # Given a column of dates typed as text, one of which fixes the order far down
    grid: Grid = [
        ["id", "when"],
        *([float(n), "03/04/2025"] for n in range(ROWS_PAST_THE_FIRST_CHUNK)),
    ]
    grid[-1][1] = "25/04/2025"
    rows = CountedRows(grid)
    # When cleaned
    sheet = clean(rows)
    # Then every value is read day-first, the first ones included
    assert sheet.text_date_columns == ("when",)
    assert (lines(sheet)[1], lines(sheet)[-1]) == ("0,2025-04-03", f"{len(grid) - 2},2025-04-25")


def test_a_merged_value_is_filled_again_in_the_second_pass() -> None:
    # Given a value merged down the first data rows, and a late value in an unnamed column
    grid: Grid = [
        ["region", "id", ""],
        *(["", float(n), ""] for n in range(ROWS_PAST_THE_FIRST_CHUNK)),
    ]
    grid[1][0] = "North"
    grid[-1][2] = 1.0
    rows = CountedRows(grid)
    # When cleaned, the sheet written twice
    sheet = clean(rows, merges=[MergedRange(1, 0, 3, 0)])
    # Then the merged value fills its rows in the text that is kept
    assert rows.passes == 2
    assert lines(sheet)[1:5] == ["North,0,", "North,1,", "North,2,", ",3,"]


def test_a_footer_after_a_chunk_of_rows_is_dropped() -> None:
    grid = [*orders(ROWS_PAST_THE_FIRST_CHUNK), ["Total", float(ROWS_PAST_THE_FIRST_CHUNK)]]
    sheet = clean(CountedRows(grid))
    assert (sheet.rows, sheet.footer_rows) == (ROWS_PAST_THE_FIRST_CHUNK, 1)


# ------------------------------------------------------------------------------ any table

_cells = st.one_of(
    st.just(""),
    st.sampled_from(["  ", "Total", "#N/A", "a,b", "31/12/2025", "01/02/2025", "2025-03-04"]),
    st.floats(allow_nan=False, width=32),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 1, 1)),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2030, 1, 1)).map(
        lambda moment: moment.replace(microsecond=0)
    ),
    st.booleans(),
)


@st.composite
def grids(draw: st.DrawFn) -> Grid:
    width = draw(st.integers(min_value=1, max_value=4))
    header = draw(
        st.lists(st.sampled_from(["", "name", "qty", "when"]), min_size=width, max_size=width)
    )
    body = draw(st.lists(st.lists(_cells, min_size=width, max_size=width), min_size=1, max_size=40))
    return [header, *body]


@settings(max_examples=150, deadline=None)
@given(grids())
def test_any_table_written_in_small_chunks_reads_as_written_in_one(grid: Grid) -> None:
    # Given any small table / When cleaned in chunks of one row, and in one chunk
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(sheet_table, "CHUNK_ROWS", 1)
        chunked = clean_sheet("sheet", CountedRows(grid), len(grid[0]))
    whole = clean_sheet("sheet", CountedRows(grid), len(grid[0]))
    # Then both give the same sheet, byte for byte
    assert chunked == whole
