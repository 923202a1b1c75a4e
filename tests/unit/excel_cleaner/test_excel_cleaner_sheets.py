"""Header detection, data rows, footers and columns of one sheet (rows as calamine gives them)."""

from collections.abc import Sequence
from datetime import date, datetime

import pytest

from excel_cleaner.sheet import (
    CleanedSheet,
    HeaderRowMissingError,
    MergedRange,
    SheetOverrides,
    clean_sheet,
)
from excel_cleaner.sheet.hidden import HiddenCells
from excel_cleaner.sheet_facts import IndexRanges
from excel_cleaner.specs import ColumnType

type Grid = list[list[object]]


def clean(
    rows: Grid,
    merges: Sequence[MergedRange] = (),
    overrides: SheetOverrides | None = None,
    first_column: int = 0,
) -> CleanedSheet:
    """Cleans the grid (rows padded to the widest, as calamine pads them)."""
    width = max(len(row) for row in rows)
    padded = [[*row, *([""] * (width - len(row)))] for row in rows]
    sheet = clean_sheet(
        "sheet",
        lambda: padded,  # type: ignore[arg-type,return-value]
        width,
        first_column=first_column,
        merges=merges,
        overrides=overrides,
    )
    assert sheet is not None
    return sheet


def lines(sheet: CleanedSheet) -> list[str]:
    return sheet.csv.decode().splitlines()


# ------------------------------------------------------------------------------ header row


def test_title_subtitle_and_blank_rows_above_the_header_are_skipped() -> None:
    # Given a title, a subtitle and blank rows above the header
    sheet = clean(
        [
            ["Monthly report", "", ""],
            ["", "", ""],
            ["", "exported 2026-11-20", ""],
            ["Name", "Qty", "Price"],
            ["Pen", 2.0, 1.5],
        ]
    )
    # Then the fourth row is the header
    assert sheet.header_row == 4
    assert lines(sheet) == ["name,qty,price", "Pen,2,1.5"]


def test_labelled_notes_above_the_header_are_skipped() -> None:
    # Given "Region:" / "North" above a table of three columns (as wide as half the table)
    sheet = clean([["Region:", "North", ""], ["Name", "Qty", "Price"], ["Pen", 2.0, 1.5]])
    # Then the note is not taken for the header
    assert lines(sheet)[0] == "name,qty,price"


def test_rows_filling_less_than_half_the_table_are_notes() -> None:
    sheet = clean(
        [
            ["Prepared by", "Finance", "", "", "", ""],
            ["a", "b", "c", "d", "e", "f"],
            [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        ]
    )
    assert lines(sheet) == ["a,b,c,d,e,f", "1,2,3,4,5,6"]


def test_year_headers_count_as_text() -> None:
    # Given a header of a region and three years / Then it is the header
    sheet = clean([["Region", 2024.0, 2025.0, 2026.0], ["North", 1.0, 2.0, 3.0]])
    assert lines(sheet) == ["region,col_2024,col_2025,col_2026", "North,1,2,3"]


def test_without_a_text_row_every_column_is_named_by_its_position() -> None:
    # Given only numbers, starting in spreadsheet column C
    sheet = clean([[1.0, 2.0], [3.0, 4.0]], first_column=2)
    # Then no row is lost and columns are named after C and D
    assert (sheet.header_row, lines(sheet)) == (None, ["column_3,column_4", "1,2", "3,4"])


def test_title_is_skipped_even_without_a_header() -> None:
    sheet = clean([["Readings", "", ""], [1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert lines(sheet) == ["column_1,column_2,column_3", "1,2,3", "4,5,6"]


def test_a_sheet_of_sentences_holds_no_table() -> None:
    # Given a "Read me" sheet: one long sentence per row
    sentence = "Figures are provisional until the month is closed by the finance team. " * 2
    rows = [[sentence], [sentence]]
    # Then there is no table to write
    assert clean_sheet("notes", lambda: rows, 1) is None  # type: ignore[arg-type,return-value]


def test_single_column_table_keeps_its_header() -> None:
    sheet = clean([["Customer"], ["Alice"], ["Bob"]])
    assert lines(sheet) == ["customer", "Alice", "Bob"]


def test_headerless_rows_of_names_and_fractions_are_all_data() -> None:
    # Given rows of a name, an amount and a city, with no header row
    sheet = clean([["Alice", 1.5, "Paris"], ["Bob", 2.5, "Lyon"], ["Carl", 3.25, "Nice"]])
    # Then the first row is data too: a fraction over numbers is no column title
    assert (sheet.header_row, sheet.rows) == (None, 3)
    assert lines(sheet)[:2] == ["column_1,column_2,column_3", "Alice,1.5,Paris"]


def test_header_with_whole_number_titles_over_numbers_stays_the_header() -> None:
    # Given a header naming two age bands by their numbers, over numeric data
    rows: Grid = [
        ["Country", "City", "Code", 18.0, 65.0],
        ["FR", "Paris", "P", 1.5, 2.5],
        ["FR", "Lyon", "L", 3.5, 4.5],
    ]
    # Then it is still the header: a whole number may title a column
    sheet = clean(rows)
    assert (sheet.header_row, lines(sheet)[0]) == (1, "country,city,code,col_18,col_65")


def test_single_headerless_row_with_a_number_is_one_data_row() -> None:
    sheet = clean([["Alice", 30.0, "Paris"]])
    assert lines(sheet) == ["column_1,column_2,column_3", "Alice,30,Paris"]


def test_header_over_a_numeric_column_is_still_the_header() -> None:
    # Given a header of texts over rows whose second column is numbers
    sheet = clean([["name", "age"], ["Alice", 30.0], ["Bob", 40.0]])
    # Then the header is kept: its cells are text, not numbers
    assert (sheet.header_row, lines(sheet)[0]) == (1, "name,age")


def test_headerless_single_column_of_numbers_is_a_table() -> None:
    # Given one column of ids, no header
    sheet = clean([[101.0], [102.0], [103.0]])
    # Then it is a one-column table, not a "Read me" sheet
    assert lines(sheet) == ["column_1", "101", "102", "103"]


def test_spec_header_row_zero_says_the_sheet_has_no_header() -> None:
    # Given a sheet of text only, whose first row would be taken for a header
    rows: Grid = [["", ""], ["Alice", "Paris"], ["Bob", "Lyon"]]
    # When the spec says there is no header row
    sheet = clean(rows, overrides=SheetOverrides(header_row=0))
    # Then every non-blank row is data
    assert lines(sheet) == ["column_1,column_2", "Alice,Paris", "Bob,Lyon"]


def test_merged_title_counts_as_one_value() -> None:
    # Given a title merged across the table's three columns
    rows: Grid = [["Big title", "", ""], ["a", "b", "c"], [1.0, 2.0, 3.0]]
    sheet = clean(rows, merges=[MergedRange(0, 0, 0, 2)])
    # Then it is still a title, not the header
    assert lines(sheet)[0] == "a,b,c"


def test_merged_header_cell_without_sub_header_fills_across() -> None:
    # Given "Amount" merged over two columns, data right below
    rows: Grid = [["Item", "Amount", ""], ["Pen", 1.0, 2.0]]
    sheet = clean(rows, merges=[MergedRange(0, 1, 0, 2)])
    # Then both columns carry the name, the second numbered
    assert lines(sheet) == ["item,amount,amount_2", "Pen,1,2"]


def test_merged_cells_in_the_data_fill_down() -> None:
    # Given a category merged down two data rows
    rows: Grid = [["Category", "Item"], ["Office", "Pen"], ["", "Paper"], ["Tech", "Mouse"]]
    sheet = clean(rows, merges=[MergedRange(1, 0, 2, 0)])
    # Then each row shows it, as Excel does
    assert lines(sheet) == ["category,item", "Office,Pen", "Office,Paper", "Tech,Mouse"]


# ------------------------------------------------------------------------------ data rows


def test_blank_rows_are_dropped_anywhere() -> None:
    sheet = clean([["a", "b"], ["", ""], [1.0, 2.0], ["", "  "], ["", ""], [3.0, 4.0]])
    assert lines(sheet) == ["a,b", "1,2", "3,4"]


@pytest.mark.parametrize("label", ["Total", "TOTALS", "Grand total", "sum", "Total:", " total "])
def test_trailing_totals_rows_are_dropped(label: str) -> None:
    sheet = clean([["item", "qty"], ["Pen", 2.0], [label, 2.0]])
    assert (lines(sheet), sheet.footer_rows) == (["item,qty", "Pen,2"], 1)


def test_totals_rows_inside_the_table_are_data() -> None:
    # Given a subtotal followed by more data / Then it stays
    sheet = clean([["item", "qty"], ["Pen", 2.0], ["Total", 2.0], ["Ink", 1.0]])
    assert lines(sheet) == ["item,qty", "Pen,2", "Total,2", "Ink,1"]


def test_a_total_row_with_text_in_another_cell_is_data() -> None:
    sheet = clean([["item", "note"], ["Pen", "blue"], ["Total", "see below"]])
    assert lines(sheet)[-1] == "Total,see below"


def test_space_only_row_after_the_totals_does_not_bring_them_back() -> None:
    sheet = clean([["item", "qty"], ["Pen", 2.0], ["Total", 2.0], [" ", ""]])
    assert lines(sheet) == ["item,qty", "Pen,2"]


def test_footnote_after_a_blank_row_is_dropped() -> None:
    sheet = clean(
        [["item", "qty", "price"], ["Pen", 2.0, 1.0], ["", "", ""], ["Source: ERP export"]]
    )
    assert (lines(sheet), sheet.footer_rows) == (["item,qty,price", "Pen,2,1"], 1)


def test_single_value_row_right_after_the_data_is_data() -> None:
    # Given a last row with only its first cell filled, no blank row before it
    sheet = clean([["item", "qty", "price"], ["Pen", 2.0, 1.0], ["Paper"]])
    # Then it is a data row, not a footnote
    assert lines(sheet)[-1] == "Paper,,"


# ------------------------------------------------------------------------------ columns


def test_empty_unnamed_columns_are_dropped_and_named_empty_ones_kept() -> None:
    # Given a spacer column without header and a "comment" column nobody filled in
    sheet = clean([["a", "", "b", "comment"], [1.0, "", 2.0, ""], [3.0, "", 4.0, ""]])
    # Then the spacer goes, the comment column stays (the schema does not depend on the data)
    assert lines(sheet) == ["a,b,comment", "1,2,", "3,4,"]


def test_unnamed_column_with_data_is_kept_under_its_position() -> None:
    sheet = clean([["a", "b", ""], [1.0, 2.0, "x"]])
    assert lines(sheet) == ["a,b,column_3", "1,2,x"]


def test_dates_in_a_column_of_date_times_are_written_at_midnight() -> None:
    # Given calamine's date for a midnight value in a date-time column
    sheet = clean(
        [["at", "day"], [datetime(2026, 1, 2, 3, 4), date(2026, 1, 2)], [date(2026, 1, 3), ""]]
    )
    # Then the column has one format; a date-only column keeps plain dates
    assert lines(sheet)[1:] == ["2026-01-02T03:04:00,2026-01-02", "2026-01-03T00:00:00,"]


def test_text_error_codes_are_emptied_and_counted() -> None:
    sheet = clean([["a", "b"], ["#N/A", 1.0], ["x", "#VALUE!"]])
    assert (lines(sheet), sheet.error_cells) == (["a,b", ",1", "x,"], 2)


# ------------------------------------------------------------------------------ spec overrides


def test_spec_header_row_overrides_detection() -> None:
    # Given a sheet whose first row would be taken for the header
    rows: Grid = [["junk", "junk"], ["id", "name"], [1.0, "a"]]
    # When the spec says the header is row 2
    sheet = clean(rows, overrides=SheetOverrides(header_row=2))
    # Then row 2 names the columns and only the rows below it are data
    assert (sheet.header_row, lines(sheet)) == (2, ["id,name", "1,a"])


def test_spec_header_row_below_the_sheet_is_an_error() -> None:
    with pytest.raises(HeaderRowMissingError):
        clean([["a"], [1.0]], overrides=SheetOverrides(header_row=9))


def test_spec_renames_match_header_text_or_snake_name() -> None:
    overrides = SheetOverrides(renames={"Cost Centre": "cost_center", "amount_eur": "amount"})
    sheet = clean(
        [["Cost Centre", "Amount (EUR)", "amount"], ["CC1", 1.0, 2.0]], overrides=overrides
    )
    # Then both renames apply and the column that was already "amount" yields its name
    assert lines(sheet)[0] == "cost_center,amount,amount_2"
    assert sheet.renames_used == {"Cost Centre", "amount_eur"}


def test_spec_types_convert_and_count_what_they_cannot() -> None:
    overrides = SheetOverrides(
        types={
            "n": ColumnType.INTEGER,
            "d": ColumnType.DATE,
            "ok": ColumnType.BOOLEAN,
            "x": ColumnType.NUMBER,
        }
    )
    sheet = clean(
        [
            ["n", "d", "ok", "x"],
            [3.0, 46053.0, "yes", "1,234.5"],
            ["7", "2026-02-01", 0.0, "12.5%"],
            [1.5, "soon", "maybe", "n/a"],
        ],
        overrides=overrides,
    )
    assert lines(sheet)[1:] == [
        "3,2026-01-31,true,1234.5",
        "7,2026-02-01,false,0.125",
        ",,,",
    ]
    assert sheet.invalid_values == 4


# ------------------------------------------------------------------------------ hidden cells


def test_hidden_rows_are_dropped_when_asked() -> None:
    # Given a table whose third row (sheet row 2) is hidden
    rows: Grid = [["id", "name"], [1.0, "a"], [2.0, "hidden"], [3.0, "c"]]
    hidden = HiddenCells(rows=IndexRanges.of([(2, 2)]))
    # When cleaned with the hidden rows dropped
    sheet = clean_hidden(rows, hidden)
    # Then the row is gone and counted
    assert lines(sheet) == ["id,name", "1,a", "3,c"]
    assert sheet.hidden_rows_dropped == 1


def test_hidden_header_row_is_not_taken_for_the_header() -> None:
    # Given a hidden helper row above the real header
    rows: Grid = [["x", "y"], ["id", "name"], [1.0, "a"]]
    sheet = clean_hidden(rows, HiddenCells(rows=IndexRanges.of([(0, 0)])))
    assert (sheet.header_row, lines(sheet)) == (2, ["id,name", "1,a"])


def test_hidden_column_with_a_header_is_left_out() -> None:
    rows: Grid = [["id", "secret", "name"], [1.0, "s1", "a"], [2.0, "s2", "b"]]
    sheet = clean_hidden(rows, HiddenCells(columns=frozenset({1})))
    assert lines(sheet) == ["id,name", "1,a", "2,b"]
    assert sheet.hidden_columns_dropped == 1


def test_without_hidden_cells_to_drop_every_row_is_kept() -> None:
    rows: Grid = [["id"], [1.0], [2.0]]
    assert lines(clean_hidden(rows, HiddenCells())) == ["id", "1", "2"]


def clean_hidden(rows: Grid, hidden: HiddenCells) -> CleanedSheet:
    width = max(len(row) for row in rows)
    sheet = clean_sheet("sheet", lambda: rows, width, hidden=hidden)  # type: ignore[arg-type,return-value]
    assert sheet is not None
    return sheet


def test_hidden_row_inside_a_merged_range_stays_dropped() -> None:
    # Given "N" merged down three rows, the middle one hidden
    rows: Grid = [["region", "name"], ["N", "a"], ["", "b"], ["", "c"]]
    hidden = HiddenCells(rows=IndexRanges.of([(2, 2)]))
    width = 2
    sheet = clean_sheet(
        "sheet",
        lambda: rows,  # type: ignore[arg-type,return-value]
        width,
        merges=[MergedRange(1, 0, 3, 0)],
        hidden=hidden,
    )
    # Then the merged value is not filled back into the hidden row
    assert sheet is not None
    assert lines(sheet) == ["region,name", "N,a", "N,c"]
