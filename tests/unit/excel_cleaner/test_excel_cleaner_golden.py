"""Golden tests: each messy workbook, built in the test, cleans to exactly the expected CSV."""

import pytest
from excel_cleaner_books import (
    DONNEES_CSV,
    FORMULAS_CSV,
    HEADCOUNT_CSV,
    SALES_REPORT_CSV,
    SUMMARY_CSV,
    formulas_xlsx,
    headcount_ods,
    regions_xlsx,
    sales_report_xlsx,
)

from excel_cleaner.rejection import Limits
from excel_cleaner.workbook import CleanedWorkbook, clean_workbook


@pytest.fixture(scope="module")
def sales() -> CleanedWorkbook:
    return clean_workbook(sales_report_xlsx(), Limits())


@pytest.fixture(scope="module")
def regions() -> CleanedWorkbook:
    return clean_workbook(regions_xlsx(), Limits())


def csv_of(workbook: CleanedWorkbook, file_name: str) -> str:
    [table] = [t for t in workbook.tables if t.file_name == file_name]
    return table.sheet.csv.decode("utf-8")


def test_sales_report_cleans_to_the_golden_csv(sales: CleanedWorkbook) -> None:
    # Given a report with a title, notes, messy headers, a spacer column, a blank row, formulas,
    # a totals row and a footnote / When cleaned / Then the CSV is exactly the table
    assert csv_of(sales, "q3_sales") == SALES_REPORT_CSV


def test_sales_report_counts_what_it_dropped(sales: CleanedWorkbook) -> None:
    # Given the same report / Then the header was row 6, two footer rows went, one #N/A was emptied
    [table] = sales.tables
    sheet = table.sheet
    assert (sheet.header_row, sheet.rows, sheet.footer_rows, sheet.error_cells) == (6, 4, 2, 1)
    assert len(sheet.columns) == 8


def test_two_row_merged_header_cleans_to_the_golden_csv(regions: CleanedWorkbook) -> None:
    # Given "Region" merged down two header rows and Q1/Q2 merged over their months
    # Then names are parent_child, Region keeps its own, and the "Grand Total:" row is dropped
    assert csv_of(regions, "summary") == SUMMARY_CSV


def test_unicode_sheet_and_duplicate_headers_clean_to_the_golden_csv(
    regions: CleanedWorkbook,
) -> None:
    # Given "Données 2024" with accented, CJK, duplicate and year headers and noisy floats
    # Then ASCII snake_case names, unicode values kept, numbers as numbers
    assert csv_of(regions, "donnees_2024") == DONNEES_CSV


def test_only_visible_sheets_with_a_table_are_written(regions: CleanedWorkbook) -> None:
    # Given five sheets / Then two CSVs, and the empty, notes-only and hidden ones are reported
    assert [t.file_name for t in regions.tables] == ["summary", "donnees_2024"]
    assert {s.sheet: s.reason for s in regions.skipped} == {
        "Empty": "empty",
        "Read me": "no table (only titles or notes)",
        "Lookup": "hidden",
    }


def test_formulas_are_written_as_their_cached_values() -> None:
    # Given formulas whose results Excel cached (noise, text, dates, booleans, #DIV/0!)
    [table] = clean_workbook(formulas_xlsx(), Limits()).tables
    # Then the CSV holds the values, noise removed and the error empty
    assert table.sheet.csv.decode() == FORMULAS_CSV


def test_opendocument_spreadsheet_cleans_to_the_golden_csv() -> None:
    # Given an .ods with a title, a blank row, dates, a percentage, booleans and a totals row
    workbook = clean_workbook(headcount_ods(), Limits())
    # Then it is read as ODS and cleaned like the Excel formats
    assert workbook.format == "ods"
    assert csv_of(workbook, "headcount") == HEADCOUNT_CSV


def test_output_is_utf8_without_a_byte_order_mark(sales: CleanedWorkbook) -> None:
    [table] = sales.tables
    assert not table.sheet.csv.startswith(b"\xef\xbb\xbf")
    assert "Zoë Müller".encode() in table.sheet.csv


def test_cleaning_is_deterministic() -> None:
    # Given the same bytes twice / Then byte-identical CSVs (re-uploads overwrite identically)
    data = regions_xlsx()
    first, second = clean_workbook(data, Limits()), clean_workbook(data, Limits())
    assert [t.sheet.csv for t in first.tables] == [t.sheet.csv for t in second.tables]
