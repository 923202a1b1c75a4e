"""Sheets whose dense grid would not fit: refused (``too_many_cells``) before calamine loads them.

calamine allocates rows x columns cells for a sheet, so a few KB holding values at A1 and at
XFD1048576 would ask for hundreds of GB. The bound is read from the sheet's XML while the zip is
checked; calamine itself serves as the oracle for where cells land.
"""

import io
import time
from typing import Any

import pytest
from eventbridge_fake import RecordingPublisher
from excel_cleaner_books import ods_tables, sheet_xlsx, xlsx
from excel_cleaner_fakes import CLEAN_BUCKET, RAW_BUCKET, FakeStore, FakeTopic, app, uploaded
from hypothesis import given, settings
from hypothesis import strategies as st
from lambda_support import FakeLambdaContext
from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet
from python_calamine import CalamineWorkbook

from datalake_shared.settings import SettingsError, load_settings
from excel_cleaner import reader
from excel_cleaner.intake import detect_format, xlsx_cells, zip_container
from excel_cleaner.intake.cell_limit import column_letters
from excel_cleaner.rejection import Limits, RejectReason, WorkbookRejectedError
from excel_cleaner.service import ExcelCleaner
from excel_cleaner.settings import ExcelCleanerSettings
from excel_cleaner.workbook import clean_workbook

V = "<v>1</v>"
FAR_APART = sheet_xlsx(
    f'<row r="1"><c r="A1">{V}</c></row><row r="1048576"><c r="XFD1048576">{V}</c></row>'
)


def refusal(data: bytes, max_cells: int = 20_000_000) -> WorkbookRejectedError:
    with pytest.raises(WorkbookRejectedError) as raised:
        detect_format(data, Limits(max_cells=max_cells))
    return raised.value


def passes(data: bytes, max_cells: int) -> bool:
    """Whether the workbook passes the limit; any other rejection fails the test."""
    try:
        detect_format(data, Limits(max_cells=max_cells))
    except WorkbookRejectedError as error:
        if error.reason is not RejectReason.TOO_MANY_CELLS:
            raise
        return False
    return True


def calamine_span(data: bytes) -> tuple[int, int]:
    """Rows and columns up to the farthest cell calamine loads (0, 0 for an empty sheet)."""
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("Sheet")
    return (0, 0) if sheet.end is None else (sheet.end[0] + 1, sheet.end[1] + 1)


class NoCalamine:
    @staticmethod
    def from_filelike(*_: Any) -> None:
        raise AssertionError("calamine must not read this workbook")


# ------------------------------------------------------------------------------ .xlsx


def test_far_apart_values_are_refused_before_calamine_reads_the_workbook(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a 1 KB .xlsx with values at A1 and XFD1048576 (17 billion cells once loaded)
    monkeypatch.setattr(reader, "CalamineWorkbook", NoCalamine)
    started = time.perf_counter()
    # When it is cleaned
    with pytest.raises(WorkbookRejectedError) as raised:
        clean_workbook(FAR_APART, Limits())
    # Then it is refused at once, naming the far row and column, calamine never involved
    assert time.perf_counter() - started < 0.5
    assert raised.value.reason is RejectReason.TOO_MANY_CELLS
    assert "row 1048576" in raised.value.message
    assert "column XFD" in raised.value.message
    assert len(FAR_APART) < 2_000


def test_far_apart_upload_is_quarantined_and_reported_failed(
    cleaner: ExcelCleaner, store: FakeStore, topic: FakeTopic, events: RecordingPublisher
) -> None:
    # Given the upload / When its notification is handled
    key = "uploads/stray-cell.xlsx"
    store.add(key, FAR_APART)
    response = app.lambda_handler(
        uploaded(key, len(FAR_APART)), FakeLambdaContext(), cleaner=cleaner
    )
    # Then it is quarantined with the reason, reported failed, and the invocation succeeds
    assert response["results"] == [
        {"outcome": "failed", "bucket": RAW_BUCKET, "key": key, "reason": "too_many_cells"}
    ]
    assert store.objects[(CLEAN_BUCKET, f"quarantine/{key}")].metadata["quarantine-reason"] == (
        "too_many_cells"
    )
    assert topic.only()["reason"] == "too_many_cells"
    [(detail_type, detail, _)] = events.published
    assert (detail_type, detail["reason"]) == ("Workbook Failed", "too_many_cells")


def test_a_wide_sheet_within_the_limit_is_cleaned() -> None:
    # Given 100 rows x 30 columns (AA..AD among them), written by openpyxl
    def build(book: Workbook) -> None:
        sheet = book.active
        assert isinstance(sheet, Worksheet)
        sheet.append([f"column {n}" for n in range(30)])
        for row in range(99):
            sheet.append([row * 30 + n for n in range(30)])

    # When cleaned with a limit just above 100 x 30
    [table] = clean_workbook(xlsx(build), Limits(max_cells=3_000)).tables
    # Then every row and column is there
    assert (len(table.sheet.columns), table.sheet.rows) == (30, 99)


def test_the_limit_is_rows_times_columns_up_to_the_farthest_value() -> None:
    # Given values at A1 and AD100: a 100 x 30 grid
    data = sheet_xlsx(f'<row r="1"><c r="A1">{V}</c></row><row r="100"><c r="AD100">{V}</c></row>')
    # Then 3,000 cells pass and 2,999 do not
    assert passes(data, 3_000)
    assert not passes(data, 2_999)


def test_formatting_only_far_cells_do_not_count() -> None:
    # Given a value at A1 and styled empty cells at XFD1048576 (calamine leaves them out)
    data = sheet_xlsx(
        f'<row r="1"><c r="A1">{V}</c></row>'
        '<row r="1048576"><c r="XFD1048575" s="1"/><c r="XFD1048576" s="1"></c></row>'
    )
    # Then the sheet passes even a 1-cell limit, and calamine loads it as one cell
    assert passes(data, 1)
    assert calamine_span(data) == (1, 1)


def test_cells_on_rows_without_r_are_placed_by_their_references() -> None:
    # Given rows without r attributes whose cells have references down to D5000
    rows = "".join(f'<row><c r="A{n}">{V}</c></row>' for n in range(1, 4)) + (
        f'<row><c r="D5000">{V}</c></row>'
    )
    data = sheet_xlsx(rows)
    # Then the bound is 5,000 x 4, as calamine places them
    assert calamine_span(data) == (5_000, 4)
    assert passes(data, 20_000)
    assert not passes(data, 19_999)


def test_cells_without_references_follow_one_another() -> None:
    # Given a far value and then a row of 40 cells without references (columns 1..40)
    rows = f'<row r="5000"><c r="A5000">{V}</c></row><row r="1">' + f"<c>{V}</c>" * 40 + "</row>"
    data = sheet_xlsx(rows)
    # Then they are counted the way calamine places them: 5,000 x 40
    assert calamine_span(data) == (5_000, 40)
    assert passes(data, 200_000)
    assert not passes(data, 199_999)


def test_rows_without_r_count_one_after_another() -> None:
    # Given a value at XFD1 and 5,000 empty rows without r before a value without references
    rows = f'<row><c r="XFD1">{V}</c></row>' + "<row/>" * 5_000 + f"<row><c>{V}</c></row>"
    # Then the 5,002nd row counts
    assert refusal(sheet_xlsx(rows), 16_384 * 5_001).reason is RejectReason.TOO_MANY_CELLS


@pytest.mark.parametrize(
    ("sheet_data", "prefix"),
    [
        (f"<row r='1'><c r='A1'>{V}</c><c r='AD300'>{V}</c></row>", ""),  # single quotes
        (f'<row r="1"><c r="A1">{V}</c><c r = "AD300">{V}</c></row>', ""),  # spaces around =
        (f'<row r="1"><c r="A1">{V}</c><c s="0" r="AD300">{V}</c></row>', ""),  # r after s
        (f'<row r="1"><c r="A1">{V}</c><c r="B1" r="AD300">{V}</c></row>', ""),  # r twice
        (f'<row r="1"><c r="A1">{V}</c><c r="ad300">{V}</c></row>', ""),  # lower case
        (f'<row r="1"><c r="A1">{V}</c><c r="AD000300">{V}</c></row>', ""),  # leading zeros
        (
            '<x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c><x:c r="AD300"><x:v>1</x:v></x:c></x:row>',
            "x:",
        ),
    ],
)
def test_values_written_unusually_are_bounded_too(sheet_data: str, prefix: str) -> None:
    # Given a value at AD300 written the way no writer does, but calamine reads
    data = sheet_xlsx(sheet_data, prefix=prefix)
    assert calamine_span(data) == (300, 30)
    # Then it is bounded as 300 x 30 all the same
    assert passes(data, 9_000)
    assert not passes(data, 8_999)


@pytest.mark.parametrize("chunk", [3, 7, 16, 61])
def test_a_cell_cut_by_a_chunk_boundary_is_read_whole(
    monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    # Given the XML streamed in chunks smaller than a tag
    monkeypatch.setattr(zip_container, "_SHEET_CHUNK", chunk)
    empty_far = sheet_xlsx(f'<row r="1"><c r="A1">{V}</c><c r="XFD1048576" s="1"></c></row>')
    # Then a far value is found, and a far empty cell (its end tag in a later chunk) is not
    assert refusal(FAR_APART).reason is RejectReason.TOO_MANY_CELLS
    assert passes(empty_far, 1)


def test_a_column_widening_late_is_checked_against_every_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given 300 rows of one column, then a value in column AD, read in small chunks
    monkeypatch.setattr(zip_container, "_SHEET_CHUNK", 64)
    rows = "".join(f'<row r="{n}"><c r="A{n}">{V}</c></row>' for n in range(1, 301))
    data = sheet_xlsx(rows + f'<row r="301"><c r="AD301">{V}</c></row>')
    # Then the earlier rows count against the wider grid: 301 x 30
    assert passes(data, 9_030)
    assert not passes(data, 9_029)


def test_a_long_run_without_markup_sends_the_part_to_the_walk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given text longer than the gap the streaming check keeps, then a value at AD300
    monkeypatch.setattr(xlsx_cells, "_MAX_MARKUP_GAP", 100)
    monkeypatch.setattr(zip_container, "_SHEET_CHUNK", 32)
    long_text = "x" * 500
    data = sheet_xlsx(
        f'<row r="1"><c r="A1" t="inlineStr"><is><t>{long_text}</t></is></c>'
        f'<c r="AD300">{V}</c></row>'
    )
    # Then the part is walked and bounded all the same: 300 x 30
    assert passes(data, 9_000)
    assert not passes(data, 8_999)


_CELL = st.tuples(
    st.one_of(st.none(), st.tuples(st.integers(1, 40), st.integers(1, 60))),  # (column, row)
    st.sampled_from(["value", "styled", "closed"]),
)
_ROW = st.tuples(st.one_of(st.none(), st.integers(1, 60)), st.lists(_CELL, max_size=6))


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(_ROW, min_size=1, max_size=12), chunk=st.sampled_from([5, 23, 97, 1 << 18]))
def test_the_bound_matches_where_calamine_puts_cells(
    rows: list[tuple[int | None, list[tuple[tuple[int, int] | None, str]]]], chunk: int
) -> None:
    # Given any small sheet, rows and cells with or without references, read in any chunks
    xml = ""
    for number, cells in rows:
        xml += f'<row r="{number}">' if number else "<row>"
        for place, kind in cells:
            reference = f' r="{column_letters(place[0])}{place[1]}"' if place else ""
            xml += {
                "value": f"<c{reference}>{V}</c>",
                "styled": f'<c{reference} s="1"/>',
                "closed": f"<c{reference}></c>",
            }[kind]
        xml += "</row>"
    data = sheet_xlsx(xml)
    grid = calamine_span(data)[0] * calamine_span(data)[1]
    original = zip_container._SHEET_CHUNK
    zip_container._SHEET_CHUNK = chunk
    try:
        # Then a limit of exactly calamine's rows x columns passes, one less does not
        assert passes(data, max(grid, 1))
        assert grid == 0 or not passes(data, grid - 1)
    finally:
        zip_container._SHEET_CHUNK = original


# ------------------------------------------------------------------------------ .ods

VALUE = (
    '<table:table-cell office:value-type="float" office:value="1">'
    "<text:p>1</text:p></table:table-cell>"
)


def test_repeated_ods_cells_count_as_often_as_they_repeat(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given 300 bytes repeating one value 16,384 x 1,048,576 times (calamine would fill them all)
    repeated = (
        '<table:table-row table:number-rows-repeated="1048576">'
        '<table:table-cell table:number-columns-repeated="16384" office:value-type="float"'
        ' office:value="1"/></table:table-row>'
    )
    monkeypatch.setattr(reader, "CalamineWorkbook", NoCalamine)
    # When cleaned / Then refused before calamine opens it
    with pytest.raises(WorkbookRejectedError) as raised:
        clean_workbook(ods_tables({"Sheet": repeated}), Limits())
    assert raised.value.reason is RejectReason.TOO_MANY_CELLS
    assert "17179869184 cells" in raised.value.message


def test_trailing_empty_ods_rows_and_cells_do_not_count() -> None:
    # Given LibreOffice's padding: empty cells to the right, empty rows below, repeated
    padded = (
        f'<table:table-row>{VALUE}<table:table-cell table:number-columns-repeated="16383"/>'
        '</table:table-row><table:table-row table:number-rows-repeated="1048575">'
        '<table:table-cell table:number-columns-repeated="16384"/></table:table-row>'
    )
    # Then the sheet is one cell
    assert passes(ods_tables({"Sheet": padded}), 1)


@pytest.mark.parametrize(
    "disguise",
    [
        'foo="&gt;</table:table-row><table:table-row>" ',
        "><![CDATA[</table:table-cell></table:table-row><table:table-row>]]></table:table-cell",
    ],
)
def test_a_row_cannot_be_split_by_markup_hidden_in_a_cell(disguise: str) -> None:
    # Given a row of 301 values with row markup hidden in the middle one, and 50 short rows
    if disguise.startswith("foo"):
        middle = f'<table:table-cell {disguise}office:value-type="float" office:value="1"/>'
    else:
        middle = f'<table:table-cell office:value-type="string"{disguise}>'
    rows = (
        f"<table:table-row>{VALUE * 150}{middle}{VALUE * 150}</table:table-row>"
        + f"<table:table-row>{VALUE}</table:table-row>" * 50
    )
    # Then the long row counts whole: 51 x 301
    assert not passes(ods_tables({"Sheet": rows}), 51 * 301 - 1)


def test_a_table_inside_a_cell_is_skipped_as_calamine_skips_it() -> None:
    # Given a cell holding a table of its own, then 5 values in the same row
    rows = (
        '<table:table-row><table:table-cell><table:table table:name="inner">'
        f"<table:table-row>{VALUE * 40}</table:table-row></table:table></table:table-cell>"
        f"{VALUE * 5}</table:table-row>"
    )
    # Then the row counts its own 6 cells, not the inner table's 40
    assert passes(ods_tables({"Sheet": rows}), 6)
    assert not passes(ods_tables({"Sheet": rows}), 5)


# ------------------------------------------------------------------------------ the setting


def settings_from(monkeypatch: pytest.MonkeyPatch, **env: str) -> ExcelCleanerSettings:
    monkeypatch.setenv("CLEAN_BUCKET", "clean-bucket")
    monkeypatch.setenv("RESULT_TOPIC_ARN", "arn:aws:sns:us-east-1:1:r")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return load_settings(ExcelCleanerSettings)


def test_max_cells_defaults_to_twenty_million(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MAX_CELLS", raising=False)
    assert settings_from(monkeypatch).cleaner_config().limits.max_cells == 20_000_000


def test_max_cells_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert settings_from(monkeypatch, MAX_CELLS="5000000").limits().max_cells == 5_000_000


@pytest.mark.parametrize("value", ["0", "-1", "lots", "1.5"])
def test_an_invalid_max_cells_fails_fast_with_its_name(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    with pytest.raises(SettingsError, match="MAX_CELLS"):
        settings_from(monkeypatch, MAX_CELLS=value)
