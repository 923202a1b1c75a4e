"""Workbook checks before and around calamine: formats, limits, sheets, cleaning specs."""

import io
import zipfile

import pytest
from excel_cleaner_books import (
    CSV_TEXT,
    compound_file,
    password_protected_xlsx,
    regions_xlsx,
    sales_report_xlsx,
    xlsx,
    zip_bomb,
)
from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from excel_cleaner.intake import CheckedWorkbook, check_key, detect_format
from excel_cleaner.intake.compound_file import cfb_stream_names
from excel_cleaner.intake.formats import describe_content
from excel_cleaner.rejection import Limits, RejectReason, WorkbookRejectedError
from excel_cleaner.specs import CleaningSpec
from excel_cleaner.workbook import clean_workbook
from excel_cleaner.workbook_facts import read_sheet_facts


def rejection(data: bytes, limits: Limits | None = None, spec: CleaningSpec | None = None) -> str:
    with pytest.raises(WorkbookRejectedError) as raised:
        clean_workbook(data, limits or Limits(), spec)
    return raised.value.reason.value


def rows_xlsx(count: int) -> bytes:
    def build(book: Workbook) -> None:
        sheet = book.active
        assert isinstance(sheet, Worksheet)
        sheet.append(["n"])
        for number in range(count):
            sheet.append([number])

    return xlsx(build)


@pytest.mark.parametrize(
    ("key", "ok"),
    [
        ("a/b.xlsx", True),
        ("a/B.XLSM", True),
        ("legacy.xls", True),
        ("team.ods", True),
        ("data.csv", False),
        ("a.b/noext", False),
        (".xlsx", False),
    ],
)
def test_only_spreadsheet_extensions_are_accepted(key: str, ok: bool) -> None:
    if ok:
        check_key(key)
    else:
        with pytest.raises(WorkbookRejectedError) as raised:
            check_key(key)
        assert raised.value.reason is RejectReason.UNSUPPORTED_TYPE


def test_content_decides_the_format_not_the_name() -> None:
    # Given a real .xlsx (whatever it is called) / Then it is read as one
    assert detect_format(sales_report_xlsx(), Limits()) == "xlsx"


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (CSV_TEXT.encode(), "a CSV file renamed?"),
        (b"\xef\xbb\xbf<html><table><tr><td>1</td></tr></table></html>", "HTML or XML"),
        (b"%PDF-1.7\n", "PDF"),
        (b"just some words\n", "plain text"),
        (b"\x00\x01\x02\x03binary", "binary"),
    ],
)
def test_non_workbooks_are_described(content: bytes, kind: str) -> None:
    assert kind in describe_content(content)
    assert rejection(content) == "not_a_workbook"


def test_workbook_over_the_uncompressed_limit_is_too_large() -> None:
    assert rejection(regions_xlsx(), Limits(max_uncompressed_bytes=10_000)) == "too_large"


def test_workbook_over_the_ratio_limit_is_a_zip_bomb() -> None:
    assert rejection(regions_xlsx(), Limits(max_decompression_ratio=1.5)) == "zip_bomb"


def test_file_over_the_size_limit_is_too_large() -> None:
    assert rejection(regions_xlsx(), Limits(max_object_bytes=1000)) == "too_large"


def test_sheet_over_the_row_limit_rejects_the_workbook() -> None:
    # Given a sheet of 1 header + 5 rows and a limit of 5 rows
    with pytest.raises(WorkbookRejectedError) as raised:
        clean_workbook(rows_xlsx(5), Limits(max_rows=5))
    # Then the whole file is refused (half a workbook would be a silent partial dataset)
    assert raised.value.reason is RejectReason.TOO_MANY_ROWS
    assert "6 rows; the limit is 5" in raised.value.message


def test_zip_with_encrypted_entries_is_encrypted() -> None:
    data = bytearray(sales_report_xlsx())
    # Set the "encrypted" flag of every central directory entry (and local header).
    for signature, flag_offset in ((b"PK\x01\x02", 8), (b"PK\x03\x04", 6)):
        start = 0
        while (start := data.find(signature, start)) != -1:
            data[start + flag_offset] |= 0x1
            start += 4
    assert rejection(bytes(data)) == "encrypted"


def test_zip_bomb_over_the_size_limit_too_is_a_zip_bomb() -> None:
    # Given a bomb unpacking ~1000x, to more than the uncompressed size limit as well (as a
    # 2 GB bomb is over the default 512 MiB)
    bomb = zip_bomb(unpacked_bytes=4 * 1024 * 1024)
    limits = Limits(max_uncompressed_bytes=1024 * 1024)
    # When checked / Then the ratio rule names it, not the size
    assert rejection(bomb, limits) == "zip_bomb"


def test_large_workbook_within_the_ratio_is_too_large() -> None:
    # Given an ordinary workbook over a (small) uncompressed size limit
    data = sales_report_xlsx()
    # When checked / Then it is too large, not a bomb
    assert rejection(data, Limits(max_uncompressed_bytes=1000)) == "too_large"


def test_zip_without_a_workbook_is_not_a_workbook() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    assert rejection(out.getvalue()) == "not_a_workbook"


def test_compound_file_directory_lists_its_streams() -> None:
    assert cfb_stream_names(password_protected_xlsx()) == {
        "Root Entry",
        "EncryptionInfo",
        "EncryptedPackage",
    }


def test_damaged_compound_file_is_corrupt() -> None:
    data = bytearray(password_protected_xlsx())
    data[48:52] = (9999).to_bytes(4, "little")  # the directory "starts" past the end
    assert rejection(bytes(data)) == "corrupt"


def test_compound_file_with_an_empty_workbook_stream_is_read_as_xls_and_holds_no_data() -> None:
    # Given an .xls-shaped file whose Workbook stream is empty
    data = compound_file(["Workbook"])
    # Then it passes the checks as an .xls, and calamine finds no sheet in it
    assert detect_format(data, Limits()) == "xls"
    assert rejection(data) == "no_data"


def test_workbook_with_only_empty_sheets_holds_no_data() -> None:
    def build(book: Workbook) -> None:
        book.create_sheet("One")
        book.create_sheet("Two")

    with pytest.raises(WorkbookRejectedError) as raised:
        clean_workbook(xlsx(build), Limits())
    assert raised.value.reason is RejectReason.NO_DATA
    assert "'One' (empty)" in raised.value.message


# ------------------------------------------------------------------------------ specs


def test_spec_sheet_cleans_only_that_sheet() -> None:
    spec = CleaningSpec(prefix="", sheet="summary ")
    workbook = clean_workbook(regions_xlsx(), Limits(), spec)
    # Then the sheet is found ignoring case and spaces; the others are reported as skipped
    assert [t.sheet.sheet for t in workbook.tables] == ["Summary"]
    assert {s.reason for s in workbook.skipped} == {"not the sheet the cleaning spec names"}


def test_spec_can_name_a_hidden_sheet() -> None:
    workbook = clean_workbook(regions_xlsx(), Limits(), CleaningSpec(prefix="", sheet="Lookup"))
    assert workbook.tables[0].sheet.csv == b"code,label\nN,North\n"


def test_spec_naming_a_missing_sheet_rejects_the_workbook() -> None:
    assert rejection(regions_xlsx(), spec=CleaningSpec(prefix="", sheet="Budget")) == (
        "sheet_not_found"
    )


def test_spec_naming_unknown_columns_rejects_the_workbook() -> None:
    spec = CleaningSpec(prefix="", sheet="Summary", renames={"Revenue": "revenue"})
    with pytest.raises(WorkbookRejectedError) as raised:
        clean_workbook(regions_xlsx(), Limits(), spec)
    assert raised.value.reason is RejectReason.SPEC_MISMATCH
    assert "['Revenue']" in raised.value.message


def test_spec_types_naming_unknown_columns_rejects_the_workbook() -> None:
    spec = CleaningSpec.model_validate({"prefix": "", "sheet": "Summary", "types": {"q9": "date"}})
    assert rejection(regions_xlsx(), spec=spec) == "spec_mismatch"


def test_spec_header_row_below_the_sheet_rejects_the_workbook() -> None:
    assert rejection(rows_xlsx(2), spec=CleaningSpec(prefix="", header_row=50)) == "spec_mismatch"


def test_unreadable_sheet_facts_are_none_when_no_hidden_cells_are_dropped() -> None:
    # Given bytes whose structure cannot be read as an .xls / When read for pivots only
    # Then there are no facts (calamine's own reading decides the rest)
    assert read_sheet_facts(b"\x00" * 600, CheckedWorkbook("xls"), hidden=False) == {}


def test_unreadable_sheet_facts_fail_a_spec_that_drops_hidden_cells() -> None:
    # Given the same bytes, and a spec dropping hidden rows / Then the workbook is corrupt,
    # never cleaned with the rows the spec said to drop
    with pytest.raises(WorkbookRejectedError) as raised:
        read_sheet_facts(b"\x00" * 600, CheckedWorkbook("xls"), hidden=True)
    assert raised.value.reason is RejectReason.CORRUPT
