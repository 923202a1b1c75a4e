"""Hidden rows, hidden columns and pivot tables of .xlsx and .ods sheets (``intake.xlsx_layout``,
``intake.ods_layout``), which calamine reads past.

Checked against files LibreOffice 7.4 and openpyxl wrote (layout_fixtures/, see its README.md)
and against calamine itself: a hidden row must be the row where calamine puts the cells it
hides, a pivot's header row the row calamine reads its column titles from.
"""

import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from excel_cleaner_books import ods_tables, sheet_xlsx
from python_calamine import CalamineWorkbook

from excel_cleaner.intake import xlsx_layout
from excel_cleaner.intake.ods_layout import ods_is_encrypted, ods_sheet_facts
from excel_cleaner.intake.xlsx_layout import xlsx_sheet_facts
from excel_cleaner.sheet_facts import IndexRanges, PivotArea, SheetFacts

FIXTURES = Path(__file__).parent / "layout_fixtures"
LIBREOFFICE_FILES = ("libreoffice_layout.xlsx", "libreoffice_layout.ods")
LAST_ROW = 1_048_575

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE = "http://schemas.openxmlformats.org/package/2006"
CONTENT_TYPES = (
    f'<Types xmlns="{PACKAGE}/content-types"><Default Extension="rels" ContentType="application/'
    'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="'
    'application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>'
)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def content_xml(data: bytes) -> bytes:
    return zipfile.ZipFile(io.BytesIO(data)).read("content.xml")


def facts_of(name: str, *, hidden: bool = True, data: bytes = b"") -> dict[str, SheetFacts]:
    """The facts of fixture ``name``, or of ``data`` (an .ods when ``name`` ends so)."""
    data = data or fixture(name)
    if name.endswith(".ods"):
        return ods_sheet_facts(content_xml(data), hidden=hidden)
    return xlsx_sheet_facts(data, hidden=hidden)


def calamine_cells(data: bytes, sheet: str) -> dict[tuple[int, int], Any]:
    """The sheet's non-empty values by 0-based sheet position, as calamine reads them."""
    read = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name(sheet)
    if read.start is None:
        return {}
    top, left = read.start
    return {
        (top + row, left + column): value
        for row, values in enumerate(read.to_python())
        for column, value in enumerate(values)
        if value != ""
    }


def calamine_sheet_names(data: bytes) -> list[str]:
    return list(CalamineWorkbook.from_filelike(io.BytesIO(data)).sheet_names)


def package(sheets: str, parts: dict[str, str], *, prefix: str = "") -> bytes:
    """An .xlsx package: a workbook part listing ``sheets`` (``<sheet>`` elements) beside
    ``parts``, a .rels part given by its Relationship elements; ``prefix`` (e.g. "x:") binds
    SpreadsheetML to it, and the relationships namespace to "pr:"."""
    bind, wrap = (f"xmlns:{prefix[:-1]}", "pr:") if prefix else ("xmlns", "")
    files = {
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": relationship("rId1", "officeDocument", "xl/workbook.xml"),
        "xl/workbook.xml": (
            f'<{prefix}workbook {bind}="{MAIN}" xmlns:r="{RELATIONSHIPS}"><{prefix}sheets>'
            f"{sheets}</{prefix}sheets></{prefix}workbook>"
        ),
        **parts,
    }
    rels = (
        f'<{wrap}Relationships xmlns{wrap and ":pr"}="{PACKAGE}/relationships">'
        f"{{}}</{wrap}Relationships>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            wrapped = rels.format(text.replace("<Relationship ", f"<{wrap}Relationship "))
            archive.writestr(name, wrapped if name.endswith(".rels") else text)
    return out.getvalue()


def relationship(rid: str, kind: str, target: str) -> str:
    return f'<Relationship Id="{rid}" Type="{RELATIONSHIPS}/{kind}" Target="{target}"/>'


def one_sheet_xlsx(
    sheet_part: str, *, target: str = "worksheets/s.xml", part: str = "xl/worksheets/s.xml"
) -> bytes:
    """Sheet "S", its relationship's target ``target``, its part ``part`` holding
    ``sheet_part`` whole."""
    rels = relationship("rId1", "worksheet", target)
    sheet = '<sheet name="S" sheetId="1" r:id="rId1"/>'
    return package(sheet, {"xl/_rels/workbook.xml.rels": rels, part: sheet_part})


def label_numbers(cells: dict[tuple[int, int], Any], where: Any) -> set[tuple[int, int]]:
    """(r, c) of the "r{r}c{c}" labels at the positions ``where(row, column)`` accepts."""
    found = set()
    for (row, column), value in cells.items():
        match = re.fullmatch(r"r(\d+)c(\d+)", str(value))
        if match and where(row, column):
            found.add((int(match.group(1)), int(match.group(2))))
    return found


# ------------------------------------------------------------------- hidden rows and columns

# (file, sheet, labels' row numbers on hidden rows, labels' column numbers on hidden columns):
# LibreOffice's "Hidden" holds "r{row}c{n}" at B3:G14 (n = 1..6 from column B) with rows 5, 6,
# 10 and a folded group 12-13 hidden, and columns C and F; openpyxl's holds "r{row}c{column}"
# at B2:F11 with rows 4, 7, 8 and columns C, E:F hidden.
LABELLED_SHEETS = [
    ("libreoffice_layout.xlsx", "Hidden", {5, 6, 10, 12, 13}, {2, 5}),
    ("libreoffice_layout.ods", "Hidden", {5, 6, 10, 12, 13}, {2, 5}),
    ("openpyxl_hidden.xlsx", "Sheet", {4, 7, 8}, {3, 5, 6}),
]


@pytest.mark.parametrize(("name", "sheet", "rows", "columns"), LABELLED_SHEETS)
def test_hidden_rows_and_columns_are_where_calamine_reads_the_hidden_cells(
    name: str, sheet: str, rows: set[int], columns: set[int]
) -> None:
    # Given a sheet a real writer saved with some rows and columns hidden
    facts = facts_of(name)[sheet]
    # When its values are read by calamine
    cells = calamine_cells(fixture(name), sheet)
    # Then exactly the labels of the hidden rows and columns sit where the facts say
    on_rows = label_numbers(cells, lambda row, _: row in facts.hidden_rows)
    in_columns = label_numbers(cells, lambda _, column: column in facts.hidden_columns)
    assert {row for row, _ in on_rows} == rows
    assert {column for _, column in in_columns} == columns


@pytest.mark.parametrize("name", LIBREOFFICE_FILES)
def test_far_hidden_rows_and_columns_are_kept_as_ranges(name: str) -> None:
    # Given LibreOffice's "Hidden" sheet, with rows 101-2000 and columns T:ALL hidden, empty
    # When its facts are read
    facts = facts_of(name)["Hidden"]
    # Then each run is one range, 0-based
    assert facts.hidden_rows.ranges[-1] == (100, 1999)
    assert facts.hidden_columns.ranges[-1] == (19, 999)


@pytest.mark.parametrize("name", LIBREOFFICE_FILES)
def test_rows_a_standard_filter_hides_are_hidden(name: str) -> None:
    # Given a sheet whose standard filter keeps the rows of region "North"
    facts = facts_of(name)["Filtered"]
    # When the rows calamine reads are split by the facts
    cells = calamine_cells(fixture(name), "Filtered")
    shown = {cells[row, 0] for row, column in cells if column == 0 and row not in facts.hidden_rows}
    # Then the header and the "North" rows are all that is shown
    assert shown == {"Region", "North"}


@pytest.mark.parametrize("name", [*LIBREOFFICE_FILES, "openpyxl_hidden.xlsx", "escaped.ods"])
def test_facts_are_keyed_by_calamines_sheet_names(name: str) -> None:
    # Given a workbook a real writer saved, or sheets whose names need escaping in XML
    escaped = ods_tables({"A & B": "<table:table-row/>", "<It's>": "<table:table-row/>"})
    data = escaped if name == "escaped.ods" else fixture(name)
    # When its facts are read
    facts = facts_of(name, data=data)
    # Then there is one per sheet, under the name calamine gives it
    assert list(facts) == calamine_sheet_names(data)


def test_a_row_without_r_follows_the_row_before_as_in_calamine() -> None:
    # Given rows without r after a row r="2" and after an empty row r="7"
    data = sheet_xlsx(
        '<row r="2"><c r="A2"><v>1</v></c></row><row hidden="1"><c><v>2</v></c></row>'
        '<row><c><v>3</v></c></row><row r="7" hidden="true"/><row hidden="1"><c><v>5</v></c></row>'
    )
    # When the hidden rows are read
    facts = xlsx_sheet_facts(data, hidden=True)["Sheet"]
    # Then they are the rows calamine places those cells on
    cells = calamine_cells(data, "Sheet")
    assert facts.hidden_rows == IndexRanges(((2, 2), (6, 7)))
    assert (cells[2, 0], cells[7, 0]) == (2.0, 5.0)


def test_a_row_inside_a_comment_or_cdata_is_not_read() -> None:
    # Given sheets whose comments or CDATA hold text looking like hidden rows
    xlsx = sheet_xlsx(
        '<!-- <row r="9" hidden="1"> --><row r="1"/><row r="2" hidden="1"><c r="A2" t="inlineStr">'
        '<is><t><![CDATA[<row r="5" hidden="1">]]></t></is></c></row>'
    )
    hidden = '<table:table-row table:visibility="collapse"/>'
    ods = ods_tables({"S": f"<!-- {hidden} --><table:table-row/>{hidden}"})
    # When their hidden rows are read
    xlsx_rows = xlsx_sheet_facts(xlsx, hidden=True)["Sheet"].hidden_rows
    ods_rows = ods_sheet_facts(content_xml(ods), hidden=True)["S"].hidden_rows
    # Then only the real row is hidden
    assert xlsx_rows == ods_rows == IndexRanges(((1, 1),))


def test_rows_hidden_by_default_are_the_rows_not_shown() -> None:
    # Given a sheet whose rows are hidden by default (zeroHeight), rows 1-3 shown, 5 hidden
    data = one_sheet_xlsx(
        f'<worksheet xmlns="{MAIN}"><sheetFormatPr defaultRowHeight="15" zeroHeight="1"/>'
        '<sheetData><row r="1" ht="15" customHeight="1"><c r="A1"><v>1</v></c></row>'
        '<row r="2"/><row r="3"/><row r="5" hidden="1"/></sheetData></worksheet>'
    )
    # When the hidden rows are read
    facts = xlsx_sheet_facts(data, hidden=True)["S"]
    # Then every row but the shown ones is hidden
    assert facts.hidden_rows == IndexRanges(((3, LAST_ROW),))


def test_any_namespace_prefix_is_read() -> None:
    # Given a package written with prefixes everywhere (x:, and pr: for relationships)
    pivot_target = "../pivotTables/pivotTable1.xml"
    data = package(
        '<x:sheet name="S" sheetId="1" r:id="rId1"/>',
        {
            "xl/_rels/workbook.xml.rels": relationship("rId1", "worksheet", "worksheets/s.xml"),
            "xl/worksheets/s.xml": (
                f'<x:worksheet xmlns:x="{MAIN}"><x:cols><x:col min="2" max="2" hidden="true"/>'
                '</x:cols><x:sheetData><x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c></x:row>'
                '<x:row r="2" hidden="1"/></x:sheetData></x:worksheet>'
            ),
            "xl/worksheets/_rels/s.xml.rels": relationship("rId1", "pivotTable", pivot_target),
            "xl/pivotTables/pivotTable1.xml": (
                f'<x:pivotTableDefinition xmlns:x="{MAIN}"><x:location ref="A3:C8" '
                'firstHeaderRow="1" firstDataRow="2" firstDataCol="1"/></x:pivotTableDefinition>'
            ),
        },
        prefix="x:",
    )
    # When its facts are read
    facts = xlsx_sheet_facts(data, hidden=True)
    # Then the sheet calamine names has its hidden row and column and its pivot table
    assert list(facts) == calamine_sheet_names(data)
    assert facts["S"] == SheetFacts(
        IndexRanges(((1, 1),)), IndexRanges(((1, 1),)), (PivotArea(2, 0, 7, 2, 3),)
    )


def test_part_names_match_in_any_case_and_with_backslashes() -> None:
    # Given a sheet part named with backslashes and another case than its target says
    data = one_sheet_xlsx(
        f'<worksheet xmlns="{MAIN}"><sheetData><row r="4" hidden="1"><c r="A4"><v>4</v></c>'
        "</row></sheetData></worksheet>",
        target="/xl/worksheets/Sheet1.XML",
        part="XL\\Worksheets\\sheet1.xml",
    )
    # When its facts are read
    facts = xlsx_sheet_facts(data, hidden=True)
    # Then the part calamine reads is the one read
    assert calamine_cells(data, "S") == {(3, 0): 4.0}
    assert facts["S"].hidden_rows == IndexRanges(((3, 3),))


def test_without_hidden_no_sheet_part_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a workbook with hidden rows and pivot tables, and a record of the parts opened
    opened: list[str] = []
    open_part = zipfile.ZipFile.open

    def recording(self: zipfile.ZipFile, name: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(name if isinstance(name, str) else name.filename)
        return open_part(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", recording)
    # When its facts are read without hidden rows and columns
    facts = xlsx_sheet_facts(fixture("libreoffice_layout.xlsx"), hidden=False)
    # Then no sheet part was opened, yet the pivot tables are there
    assert [name for name in opened if re.fullmatch(r"xl/worksheets/[^/]+\.xml", name)] == []
    assert not facts["Hidden"].hidden_rows
    assert facts["Pivot Sheet"].pivot_tables


@pytest.mark.parametrize("before", ["", "<!-- walked tag by tag -->"])
def test_a_large_sheet_part_is_read_in_chunks(before: str) -> None:
    # Given a 20,000 x 20 sheet (~18 MB of XML), every 7th row hidden, read quickly or, after
    # a comment, tag by tag
    rows = "".join(
        f'<row r="{r}" spans="1:20"{' hidden="1"' if r % 7 == 0 else ""}>'
        + "".join(f'<c r="{chr(65 + c)}{r}" s="1"><v>{c}</v></c>' for c in range(20))
        + "</row>"
        for r in range(1, 20_001)
    )
    data = sheet_xlsx(before + rows)
    # When the hidden rows are read
    facts = xlsx_sheet_facts(data, hidden=True)["Sheet"]
    # Then every one is found, each where its r says
    assert facts.hidden_rows.count() == 20_000 // 7
    assert all((row, row) in facts.hidden_rows.ranges for row in range(6, 20_000, 7))


@pytest.mark.parametrize("size", [1, 7, 64])
@pytest.mark.parametrize("before", ["", "<!-- walked tag by tag -->"])
def test_a_tag_cut_between_chunks_is_read_whole(
    monkeypatch: pytest.MonkeyPatch, size: int, before: str
) -> None:
    # Given a sheet part inflated a few bytes at a time, read quickly or tag by tag
    monkeypatch.setattr(xlsx_layout, "_CHUNK", size)
    data = sheet_xlsx(
        before + '<row r="1"><c r="A1" t="inlineStr"><is><t>hidden="1"</t></is></c></row>'
        '<row r=\'2\' spans="1:1" hidden = \'true\' ht="a>b"/><row r="3" hidden="0"/>'
        '<row r="4" hidden="1"><c r="A4"><v>4</v></c></row>'
    )
    # When the hidden rows are read
    facts = xlsx_sheet_facts(data, hidden=True)["Sheet"]
    # Then every tag is read whole, wherever the chunks end
    assert facts.hidden_rows == IndexRanges(((1, 1), (3, 3)))


# ------------------------------------------------------------------------------ pivot tables


@pytest.mark.parametrize("name", LIBREOFFICE_FILES)
def test_a_pivots_header_row_is_the_row_calamine_reads_its_column_titles_from(name: str) -> None:
    # Given LibreOffice's DataPilots: page, row and column fields; none but a row field; two
    # page fields; two column fields and no filter button; two data fields ("Data" in rows,
    # in columns); one data field with "Data" in columns. The row field is always "Product".
    pivots = [(sheet, p) for sheet, f in facts_of(name).items() for p in f.pivot_tables]
    assert len(pivots) == 8
    for sheet, pivot in pivots:
        # When the sheet is read by calamine
        cells = calamine_cells(fixture(name), sheet)
        # Then the header row names the row field, and the first item follows it
        assert cells[pivot.header_row, pivot.first_column] == "Product", (sheet, pivot)
        assert cells[pivot.header_row + 1, pivot.first_column] == "Apples", (sheet, pivot)


@pytest.mark.parametrize("name", LIBREOFFICE_FILES)
def test_a_pivots_area_holds_its_page_fields_and_totals(name: str) -> None:
    # Given a DataPilot with a page field "Region" above it and a grand total row and column
    (pivot,) = facts_of(name)["Pivot Sheet"].pivot_tables
    # When the sheet is read by calamine
    cells = calamine_cells(fixture(name), "Pivot Sheet")
    # Then the page field lies inside the area, above the header, and the totals end it
    above = [
        cells.get((row, pivot.first_column)) for row in range(pivot.first_row, pivot.header_row)
    ]
    assert "Region" in above
    assert cells[pivot.last_row, pivot.first_column] == "Total Result"
    assert cells[pivot.header_row, pivot.last_column] == "Total Result"


def ods_pilot(attributes: str, fields: list[tuple[str, str]]) -> bytes:
    """content.xml with sheet "It's" and one DataPilot at A1:F20 of it; fields: (source field
    name, orientation), "" naming the data layout field."""
    pilot_fields = "".join(
        f'<table:data-pilot-field table:source-field-name="{name}" table:orientation="{where}"'
        f"{'' if name else ' table:is-data-layout-field="true"'}/>"
        for name, where in fields
    )
    return (
        "<office:document-content><office:body><office:spreadsheet><table:table table:name="
        '"It&apos;s"><table:table-row/></table:table><table:data-pilot-tables><table:data-pilot'
        '-table table:target-range-address="&apos;It&apos;&apos;s&apos;.A1:&apos;It&apos;&apos;'
        f's&apos;.$F$20" {attributes}>{pilot_fields}</table:data-pilot-table>'
        "</table:data-pilot-tables></office:spreadsheet></office:body></office:document-content>"
    ).encode()


@pytest.mark.parametrize(
    ("attributes", "fields", "header_row"),
    [
        # filter button, blank row, caption row: the row field names' row
        ("", [("R", "row"), ("A", "data")], 2),
        # no button: the caption row is the first
        ('table:show-filter-button="false"', [("R", "row"), ("A", "data")], 0),
        # header grid layout without column fields: two caption rows
        ('table:header-grid-layout="true"', [("R", "row"), ("A", "data")], 3),
        # a page field: button, page, blank, caption, column items
        ("", [("P", "page"), ("R", "row"), ("C", "column"), ("A", "data")], 4),
        # the "Data" field among the column fields with two data fields is one more
        ("", [("R", "row"), ("C", "column"), ("A", "data"), ("B", "data"), ("", "column")], 4),
        # ... and with one data field it shows nothing
        ("", [("R", "row"), ("C", "column"), ("A", "data"), ("", "column")], 3),
    ],
)
def test_an_ods_pivots_header_row_follows_libreoffices_layout(
    attributes: str, fields: list[tuple[str, str]], header_row: int
) -> None:
    # Given a DataPilot at A1 of sheet "It's" (quoted 'It''s' in its address), these fields
    content = ods_pilot(attributes, fields)
    # When its facts are read
    (pivot,) = ods_sheet_facts(content, hidden=False)["It's"].pivot_tables
    # Then its header row is below the filter, page and caption rows and the column items
    assert pivot == PivotArea(0, 0, 19, 5, header_row)


# ------------------------------------------------------------------------------ OpenDocument


def test_ods_rows_and_columns_count_inside_headers_and_groups_in_order() -> None:
    # Given hidden rows and columns inside header, group and columns elements
    def row(value: str, attributes: str = "") -> str:
        return (
            f'<table:table-row {attributes}><table:table-cell office:value-type="string">'
            f"<text:p>{value}</text:p></table:table-cell></table:table-row>"
        )

    hide = 'table:visibility="collapse"'
    data = ods_tables(
        {
            "S": "<table:table-header-columns><table:table-column/></table:table-header-columns>"
            f"<table:table-column-group><table:table-column {hide} table:number-columns-repeated"
            f'="2"/></table:table-column-group><table:table-columns><table:table-column/>'
            f"<table:table-column {hide}/></table:table-columns><table:table-header-rows>"
            f"{row('h')}</table:table-header-rows><table:table-row-group>{row('a', hide)}"
            f"{row('b', 'table:number-rows-repeated="2"')}</table:table-row-group>"
            f"{row('c', 'table:visibility="filter"')}"
        }
    )
    # When the facts are read
    facts = ods_sheet_facts(content_xml(data), hidden=True)["S"]
    # Then rows and columns count in document order, repeats included
    cells = calamine_cells(data, "S")
    assert [cells[row, 0] for row in (1, 4)] == ["a", "c"]
    assert facts.hidden_rows == IndexRanges(((1, 1), (4, 4)))
    assert facts.hidden_columns == IndexRanges(((1, 2), (4, 4)))


def test_a_million_repeated_hidden_ods_rows_are_one_range_read_at_once() -> None:
    # Given a row repeated to the sheet's end, and one repeated 10**15 times, hidden
    rows = (
        '<table:table-row><table:table-cell office:value="1"/></table:table-row>'
        '<table:table-row table:visibility="collapse" table:number-rows-repeated="1048575">'
        '<table:table-cell table:number-columns-repeated="16384"/></table:table-row>'
    )
    content = content_xml(ods_tables({"S": rows, "T": rows.replace("1048575", "1000000000000000")}))
    # When the facts are read
    facts = ods_sheet_facts(content, hidden=True)
    # Then each is one range: nothing was expanded
    assert facts["S"].hidden_rows == IndexRanges(((1, LAST_ROW),))
    assert facts["T"].hidden_rows == IndexRanges(((1, 10**15),))


@pytest.mark.parametrize(
    ("name", "encrypted"),
    [("libreoffice_encrypted.ods", True), ("libreoffice_layout.ods", False)],
)
def test_a_password_protected_ods_is_told_by_its_manifest(name: str, encrypted: bool) -> None:
    # Given a document LibreOffice saved with or without a password
    manifest = zipfile.ZipFile(io.BytesIO(fixture(name))).read("META-INF/manifest.xml")
    # When its manifest is read
    # Then content.xml's encryption data tells
    assert ods_is_encrypted(manifest) is encrypted


# ---------------------------------------------------------------------------- damaged files

XLSX_SHEET = f'<worksheet xmlns="{MAIN}">'


@pytest.mark.parametrize(
    "read",
    [
        lambda: xlsx_sheet_facts(package('<sheet name="S" r:id="rId1">', {}), hidden=False),
        lambda: xlsx_sheet_facts(one_sheet_xlsx(XLSX_SHEET + '<row r="5" hidd'), hidden=True),
        lambda: xlsx_sheet_facts(one_sheet_xlsx(XLSX_SHEET + "<!---->" + "<row r"), hidden=True),
        lambda: xlsx_sheet_facts(b"PK\x03\x04 not a zip", hidden=False),
        lambda: ods_sheet_facts(content_xml(ods_tables({"S": ""}))[:-60], hidden=True),
        lambda: ods_sheet_facts(b"\x00\x01 binary", hidden=False),
        lambda: ods_is_encrypted(b"<manifest:manifest"),
    ],
    ids=[
        "workbook.xml",
        "sheet part cut in a tag",
        "walked sheet part cut in a tag",
        "not a zip",
        "content.xml cut short",
        "content.xml not xml",
        "manifest cut short",
    ],
)
def test_damaged_xml_raises_value_error(read: Callable[[], object]) -> None:
    # Given a damaged package or part
    # When it is read
    # Then ValueError says so (the caller then has no facts)
    with pytest.raises(ValueError, match=r"damaged|well-formed|ends inside"):
        read()
