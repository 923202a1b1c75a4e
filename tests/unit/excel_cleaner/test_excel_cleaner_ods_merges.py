"""Merged cells of .ods sheets (``intake.ods_merges`` through ``intake.ods_layout``), which
calamine does not give: checked against calamine's own merges of the .xlsx twin and against the
positions where calamine puts the cells of hand-built sheets."""

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from excel_cleaner_books import ods_tables
from python_calamine import CalamineWorkbook

from excel_cleaner.intake.ods_layout import ods_sheet_facts

HERE = Path(__file__).parent
WORKBOOKS = HERE / "corpus" / "workbooks"
FIXTURES = HERE / "layout_fixtures"


def content_xml(data: bytes) -> bytes:
    return zipfile.ZipFile(io.BytesIO(data)).read("content.xml")


def merges_of(rows: str, *, hidden: bool = False) -> tuple[tuple[int, int, int, int], ...]:
    """The merged cells of sheet "S" holding ``rows`` as written."""
    return ods_sheet_facts(content_xml(ods_tables({"S": rows})), hidden=hidden)["S"].merged_cells


def calamine_position(data: bytes, sheet: str, value: str) -> tuple[int, int]:
    """Where calamine puts the cell holding ``value`` (0-based sheet position)."""
    read = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name(sheet)
    assert read.start is not None
    top, left = read.start
    values: list[list[Any]] = read.to_python()
    (found,) = [
        (top + row, left + column)
        for row, cells in enumerate(values)
        for column, cell in enumerate(cells)
        if cell == value
    ]
    return found


def cell(value: str = "", attributes: str = "") -> str:
    text = f'office:value-type="string"><text:p>{value}</text:p>' if value else ">"
    return f"<table:table-cell {attributes} {text}</table:table-cell>"


def row(cells: str, attributes: str = "") -> str:
    return f"<table:table-row {attributes}>{cells}</table:table-row>"


COVERED = "<table:covered-table-cell/>"


@pytest.mark.parametrize("hidden", [False, True])
def test_the_merged_header_ods_has_the_merges_calamine_gives_its_xlsx_twin(hidden: bool) -> None:
    # Given the corpus workbook with Q1 over Jan/Feb/Mar, as .ods and as .xlsx
    ods = (WORKBOOKS / "merged_header.ods").read_bytes()
    xlsx = CalamineWorkbook.from_path(str(WORKBOOKS / "merged_header.xlsx"))
    # When the .ods facts are read
    facts = ods_sheet_facts(content_xml(ods), hidden=hidden)
    # Then each sheet's merges are calamine's for the .xlsx, flattened
    assert set(facts) == set(xlsx.sheet_names)
    for name in xlsx.sheet_names:
        expected = xlsx.get_sheet_by_name(name).merged_cell_ranges or []
        flattened = [(top, left, bottom, right) for (top, left), (bottom, right) in expected]
        assert facts[name].merged_cells
        assert sorted(facts[name].merged_cells) == sorted(flattened)


def test_repeated_rows_and_header_rows_before_a_merge_shift_it_down() -> None:
    # Given a header row, two repeated rows in a row group, then a merge over two columns
    rows = (
        f"<table:table-header-rows>{row(cell('h'))}</table:table-header-rows>"
        f"<table:table-row-group>{row(cell('r'), 'table:number-rows-repeated="2"')}"
        f"</table:table-row-group>" + row(cell("m", 'table:number-columns-spanned="2"') + COVERED)
    )
    # When the merges are read
    merges = merges_of(rows)
    # Then the merge starts in the row where calamine puts its cell
    assert calamine_position(ods_tables({"S": rows}), "S", "m") == (3, 0)
    assert merges == ((3, 0, 3, 1),)


def test_repeated_cells_before_a_merge_shift_it_right() -> None:
    # Given three repeated empty cells and then a merge over two rows
    rows = row(
        cell(attributes='table:number-columns-repeated="3"')
        + cell("m", 'table:number-rows-spanned="2"')
    ) + row(cell(attributes='table:number-columns-repeated="3"') + COVERED + cell("x"))
    # When the merges are read
    merges = merges_of(rows)
    # Then the merge starts in the column where calamine puts its cell
    assert calamine_position(ods_tables({"S": rows}), "S", "m") == (0, 3)
    assert merges == ((0, 3, 1, 3),)


def test_covered_cells_take_a_column_each_repeats_included() -> None:
    # Given a merge over three columns, its two covered cells as one repeated element, a cell,
    # a covered cell and another merge
    rows = row(
        cell("a", 'table:number-columns-spanned="3"')
        + '<table:covered-table-cell table:number-columns-repeated="2"/>'
        + cell("b")
        + COVERED
        + cell("c", 'table:number-columns-spanned="2" table:number-rows-spanned="3"')
    )
    # When the merges are read
    merges = merges_of(rows)
    # Then the second merge starts after every covered cell
    assert calamine_position(ods_tables({"S": rows}), "S", "c") == (0, 5)
    assert merges == ((0, 0, 0, 2), (0, 5, 2, 6))


def test_merges_are_read_without_hidden_rows() -> None:
    # Given a merge on an .ods sheet
    rows = row(cell("m", 'table:number-columns-spanned="2"') + COVERED)
    # When the facts are read with and without hidden rows and columns
    without, with_hidden = merges_of(rows, hidden=False), merges_of(rows, hidden=True)
    # Then both give the merge
    assert without == with_hidden == ((0, 0, 0, 1),)


def test_a_repeated_row_repeats_its_merge() -> None:
    # Given a row holding a merge over two columns, repeated three times
    rows = row(
        cell("m", 'table:number-columns-spanned="2"') + COVERED, 'table:number-rows-repeated="3"'
    )
    # When the merges are read
    merges = merges_of(rows)
    # Then each repetition has its merge
    assert merges == ((0, 0, 0, 1), (1, 0, 1, 1), (2, 0, 2, 1))


def test_a_span_of_one_is_no_merge() -> None:
    # Given a cell spanning one column and one row, as written
    rows = row(cell("a", 'table:number-columns-spanned="1" table:number-rows-spanned="1"'))
    # When the merges are read
    merges = merges_of(rows)
    # Then there is none
    assert merges == ()


def test_a_table_in_a_cell_counts_for_nothing() -> None:
    # Given a cell holding a table with a merge and many rows, then a merge on the sheet
    inner = (
        '<table:table table:name="inner">'
        + row(cell("i", 'table:number-columns-spanned="2"'), 'table:number-rows-repeated="9"')
        + "</table:table>"
    )
    rows = row(f"<table:table-cell>{inner}</table:table-cell>" + cell("x")) + row(
        cell("m", 'table:number-columns-spanned="2"') + COVERED
    )
    # When the merges are read
    facts = ods_sheet_facts(content_xml(ods_tables({"S": rows})), hidden=False)
    # Then only the sheet's own merge counts, in the row after the one holding the table
    assert set(facts) == {"S"}
    assert facts["S"].merged_cells == ((1, 0, 1, 1),)


def test_merges_are_found_past_comments_that_look_like_cells() -> None:
    # Given a comment holding a merging cell and a row, before a real merge
    fake = row(cell("f", 'table:number-columns-spanned="5"'))
    rows = f"<!-- {fake} -->" + row(cell("a")) + row(cell("m", 'table:number-rows-spanned="2"'))
    # When the merges are read
    merges = merges_of(rows)
    # Then the comment counts for nothing
    assert calamine_position(ods_tables({"S": rows}), "S", "m") == (1, 0)
    assert merges == ((1, 0, 2, 0),)


def test_merges_stay_on_their_own_sheet() -> None:
    # Given two sheets, a merge on the second only
    data = ods_tables(
        {"A": row(cell("a")), "B": row(cell("b")) + row(cell("m", 'table:number-rows-spanned="2"'))}
    )
    # When the facts are read
    facts = ods_sheet_facts(content_xml(data), hidden=False)
    # Then each sheet has its own merges, rows counted from its own top
    assert facts["A"].merged_cells == ()
    assert facts["B"].merged_cells == ((1, 0, 2, 0),)


@pytest.mark.parametrize("name", ["libreoffice_layout.ods", "../corpus/workbooks/hidden.ods"])
def test_a_workbook_without_spans_has_no_merges(name: str) -> None:
    # Given real .ods files with no merged cell
    content = content_xml((FIXTURES / name).read_bytes())
    # When the facts are read
    facts = ods_sheet_facts(content, hidden=True)
    # Then no sheet has a merge
    assert all(sheet.merged_cells == () for sheet in facts.values())


def test_more_than_100000_merges_on_a_sheet_is_refused() -> None:
    # Given a merging row repeated a million times
    rows = row(
        cell("m", 'table:number-columns-spanned="2"') + COVERED,
        'table:number-rows-repeated="1000000"',
    )
    # When the facts are read, then they are refused before any repetition is expanded
    with pytest.raises(ValueError, match="too many merged ranges"):
        merges_of(rows)
