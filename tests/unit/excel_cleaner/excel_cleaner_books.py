"""Messy workbooks for the tests, built in memory: openpyxl for .xlsx, small writers for the rest.

openpyxl writes formulas without their cached results (``<f>...</f><v/>``), which is what a
reader like calamine returns, so ``with_cached_results`` fills the ``<v>`` in as Excel would
have on save: a number, text (``t="str"``), a boolean or an error (``t="e"``).
"""

import io
import re
import struct
import zipfile
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

type CachedResult = float | str | bool | tuple[str, str]  # ("e", "#DIV/0!") for an error


def xlsx(build: Callable[[Workbook], None]) -> bytes:
    """A workbook saved to bytes after ``build`` filled it in (the default sheet is removed
    when ``build`` creates sheets of its own and leaves it empty)."""
    book = Workbook()
    default = book.active
    build(book)
    if (
        isinstance(default, Worksheet)
        and len(book.worksheets) > 1
        and default.max_row == 1
        and default["A1"].value is None
    ):
        book.remove(default)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cached(value: CachedResult) -> tuple[str, str]:
    if isinstance(value, tuple):
        return f' t="{value[0]}"', escape(value[1])
    if isinstance(value, bool):
        return ' t="b"', "1" if value else "0"
    if isinstance(value, str):
        return ' t="str"', escape(value)
    return "", repr(value)


def with_cached_results(data: bytes, results: Mapping[str, CachedResult], sheet: int = 1) -> bytes:
    """Fills in the cached result of formula cells of sheet ``sheet`` (``{"B7": 0.3}``)."""
    path = f"xl/worksheets/sheet{sheet}.xml"
    source = zipfile.ZipFile(io.BytesIO(data))
    xml = source.read(path).decode()
    for ref, value in results.items():
        type_attribute, text = _cached(value)
        pattern = re.compile(rf'<c r="{ref}"([^>]*?)( t="[^"]*")?><f>(.*?)</f><v\s*/>')
        xml, count = pattern.subn(
            lambda m, t=type_attribute, v=text, r=ref: (
                f'<c r="{r}"{m.group(1)}{t}><f>{m.group(3)}</f><v>{v}</v>'
            ),
            xml,
        )
        assert count == 1, f"no formula cell {ref} in {path}"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            body = xml.encode() if entry.filename == path else source.read(entry.filename)
            target.writestr(entry, body)
    return out.getvalue()


# ------------------------------------------------------------------------------ OpenDocument

type OdsCell = str | float | bool | date | datetime | None


def _ods_cell(value: OdsCell) -> str:
    if value is None:
        return "<table:table-cell/>"
    if isinstance(value, bool):
        flag = "true" if value else "false"
        return (
            f'<table:table-cell office:value-type="boolean" office:boolean-value="{flag}">'
            f"<text:p>{flag.upper()}</text:p></table:table-cell>"
        )
    if isinstance(value, datetime | date):
        return (
            f'<table:table-cell office:value-type="date" office:date-value="{value.isoformat()}">'
            f"<text:p>{value.isoformat()}</text:p></table:table-cell>"
        )
    if isinstance(value, float | int):
        return (
            f'<table:table-cell office:value-type="float" office:value="{value!r}">'
            f"<text:p>{value}</text:p></table:table-cell>"
        )
    return (
        f'<table:table-cell office:value-type="string"><text:p>{escape(value)}</text:p>'
        "</table:table-cell>"
    )


def ods(sheets: Mapping[str, Sequence[Sequence[OdsCell]]]) -> bytes:
    """A minimal OpenDocument spreadsheet: mimetype, manifest and content.xml."""
    return ods_tables(
        {
            name: "".join(
                "<table:table-row>"
                + "".join(_ods_cell(cell) for cell in row)
                + "</table:table-row>"
                for row in rows
            )
            for name, rows in sheets.items()
        }
    )


def ods_tables(tables: Mapping[str, str]) -> bytes:
    """An OpenDocument spreadsheet whose sheets hold the given rows, as written (repeated rows
    and cells, covered cells, comments...)."""
    body = "".join(
        f'<table:table table:name="{escape(name)}">{rows}</table:table>'
        for name, rows in tables.items()
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f"<office:body><office:spreadsheet>{body}</office:spreadsheet></office:body>"
        "</office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
        ' manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/"'
        ' manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    return out.getvalue()


# ------------------------------------------------------------------------------ raw SpreadsheetML

_MAIN_NAMESPACE = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE = "http://schemas.openxmlformats.org/package/2006"


def sheet_xlsx(sheet_data: str, *, prefix: str = "") -> bytes:
    """A one-sheet .xlsx (sheet "Sheet") whose ``sheetData`` holds ``sheet_data`` as written:
    cells without ``r``, odd quoting, far references... that no writer would produce.
    ``prefix`` (e.g. "x:") binds the SpreadsheetML namespace to a prefix, as .NET writers do."""
    bind = f"xmlns:{prefix[:-1]}" if prefix else "xmlns"
    parts = {
        "[Content_Types].xml": (
            f'<Types xmlns="{_PACKAGE}/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{_PACKAGE}/relationships"><Relationship Id="rId1" '
            f'Type="{_RELATIONSHIPS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{_MAIN_NAMESPACE}" xmlns:r="{_RELATIONSHIPS}"><sheets>'
            '<sheet name="Sheet" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{_PACKAGE}/relationships"><Relationship Id="rId1" '
            f'Type="{_RELATIONSHIPS}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><{prefix}worksheet {bind}="{_MAIN_NAMESPACE}">'
            f"<{prefix}sheetData>{sheet_data}</{prefix}sheetData></{prefix}worksheet>"
        ),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return out.getvalue()


# ------------------------------------------------------------------------------ bad files

_FREE = 0xFFFFFFFF
_END_OF_CHAIN = 0xFFFFFFFE
_FAT_SECTOR = 0xFFFFFFFD


def compound_file(stream_names: Sequence[str]) -> bytes:
    """A minimal OLE2 compound file (512-byte sectors: header, one FAT sector, one directory
    sector) whose directory lists the given (empty) streams. An Office file encrypted with a
    password is such a file with EncryptionInfo and EncryptedPackage streams."""
    assert len(stream_names) <= 3
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<I", header, 44, 1)  # one FAT sector
    struct.pack_into("<I", header, 48, 1)  # the directory starts in sector 1
    struct.pack_into("<I", header, 56, 4096)  # mini stream cutoff
    struct.pack_into("<III", header, 60, _END_OF_CHAIN, 0, _END_OF_CHAIN)
    struct.pack_into("<109I", header, 76, 0, *([_FREE] * 108))
    fat = struct.pack("<128I", _FAT_SECTOR, _END_OF_CHAIN, *([_FREE] * 126))
    directory = bytearray(512)
    entries = [("Root Entry", 5), *((name, 2) for name in stream_names)]
    for position, (name, kind) in enumerate(entries):
        entry = bytearray(128)
        encoded = name.encode("utf-16-le") + b"\x00\x00"
        entry[: len(encoded)] = encoded
        struct.pack_into("<HBB", entry, 64, len(encoded), kind, 1)
        sibling = position + 1 if 0 < position < len(entries) - 1 else _FREE
        child = 1 if position == 0 and len(entries) > 1 else _FREE
        struct.pack_into("<III", entry, 68, _FREE, sibling, child)
        struct.pack_into("<IQ", entry, 116, _END_OF_CHAIN, 0)
        directory[position * 128 : (position + 1) * 128] = entry
    return bytes(header) + fat + bytes(directory)


def password_protected_xlsx() -> bytes:
    return compound_file(["EncryptionInfo", "EncryptedPackage"])


def zip_bomb(unpacked_bytes: int = 20 * 1024 * 1024) -> bytes:
    """An .xlsx-shaped zip whose sheet inflates ~1000x (a run of spaces)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            block = b" " * (1024 * 1024)
            for _ in range(unpacked_bytes // len(block)):
                sheet.write(block)
    return out.getvalue()


def corrupt_zip(valid: bytes) -> bytes:
    """A real .xlsx with bytes of its largest entry's compressed data overwritten."""
    archive = zipfile.ZipFile(io.BytesIO(valid))
    entry = max(archive.infolist(), key=lambda info: info.compress_size)
    # The local header is 30 bytes plus the name and extra field; damage the data after it.
    start = entry.header_offset + 30 + len(entry.filename.encode()) + len(entry.extra)
    damaged = bytearray(valid)
    for offset in range(start + 10, start + 40):
        damaged[offset] ^= 0xFF
    return bytes(damaged)


CSV_TEXT = "order_id,customer,amount\n1,Alice,10.5\n2,Bob,20\n"


# ------------------------------------------------------------------------------ messy workbooks


def _sales(book: Workbook) -> None:
    sheet = book.active
    assert isinstance(sheet, Worksheet)
    sheet.title = "Q3 Sales"
    sheet["A1"] = "ACME Corp — Quarterly sales"  # title, merged across the table
    sheet.merge_cells("A1:I1")
    sheet["A2"] = "Generated on 2026-11-20"  # subtitle
    sheet["A4"] = "Region:"  # a labelled note
    sheet["B4"] = "All"
    sheet["C5"].number_format = "0.00"  # a formatting-only row
    header = [
        "  Order ID ",
        "Customer Name",
        "Order Date",
        "Amount (€)",
        "Discount %",
        "Paid?",
        None,  # an empty spacer column
        "Notes",
        "Shipped At",
    ]
    for column, title in enumerate(header, 1):
        sheet.cell(row=6, column=column, value=title)
    rows: list[list[object]] = [
        [
            1001,
            "  Zoë Müller ",
            date(2026, 7, 1),
            1250.5,
            0.1,
            True,
            None,
            "first order",
            datetime(2026, 7, 2, 14, 30),
        ],
        [
            1002,
            "東京商事",
            date(2026, 7, 15),
            980,
            0.25,
            False,
            None,
            "line one\nline two",
            date(2026, 7, 16),
        ],
        [],  # a blank row inside the table
        [1003, "O'Brien, Ltd", date(2026, 8, 2), None, 0, True, None, "#N/A", None],
        [
            1004,
            'Acme "Best" Co',
            date(2026, 9, 30),
            "=D7*2",
            0.125,
            False,
            None,
            "  ",
            datetime(2026, 10, 1, 8, 0, 0, 250000),
        ],
    ]
    for offset, values in enumerate(rows):
        for column, value in enumerate(values, 1):
            sheet.cell(row=7 + offset, column=column, value=value)
    sheet["H10"].data_type = "s"  # "#N/A" typed as text (openpyxl would store an error cell)
    for row in sheet.iter_rows(min_row=7, max_row=11):
        row[2].number_format = "dd/mm/yyyy"
        row[4].number_format = "0.0%"
    sheet["A12"] = "Total"  # footer: totals row
    sheet["D12"] = "=SUM(D7:D11)"
    sheet["A14"] = "* Amounts exclude VAT"  # footer: a footnote after a blank row


def sales_report_xlsx() -> bytes:
    """Title, subtitle, a labelled note, a formatting-only row, messy headers, a spacer column,
    dates, percentages, booleans, unicode, a newline, a blank row, formulas, totals, a footnote."""
    return with_cached_results(xlsx(_sales), {"D11": 2501.0, "D12": 4731.5})


SALES_REPORT_CSV = (
    "order_id,customer_name,order_date,amount,discount_pct,paid,notes,shipped_at\n"
    "1001,Zoë Müller,2026-07-01,1250.5,0.1,true,first order,2026-07-02T14:30:00\n"
    '1002,東京商事,2026-07-15,980,0.25,false,"line one\nline two",2026-07-16T00:00:00\n'
    '1003,"O\'Brien, Ltd",2026-08-02,,0,true,,\n'
    '1004,"Acme ""Best"" Co",2026-09-30,2501,0.125,false,,2026-10-01T08:00:00.250\n'
)


def _regions(book: Workbook) -> None:
    summary = book.create_sheet("Summary")
    summary["A1"] = "Regional summary"
    summary["A3"] = "Region"
    summary.merge_cells("A3:A4")  # merged down the two header rows
    summary["B3"] = "Q1"
    summary.merge_cells("B3:D3")
    summary["E3"] = "Q2"
    summary.merge_cells("E3:F3")
    for column, month in enumerate(["Jan", "Feb", "Mar", "Apr", "May"], 2):
        summary.cell(row=4, column=column, value=month)
    summary.append(["North", 10, 11, 12, 13, 14.5])
    summary.append(["South", 20, 21, 22, 23, 24.5])
    summary.append(["Grand Total:", 30, 32, 34, 36, 39])

    book.create_sheet("Empty")

    notes = book.create_sheet("Read me")
    notes["B2"] = (
        "This workbook is exported every Monday by the finance team from the regional "
        "reporting tool; figures are provisional until the month is closed."
    )

    data = book.create_sheet("Données 2024")
    data.append(["Città", "Größe", "数量", "Amount", "amount", "2024", "OrderID"])
    data.append(["Zürich", 1.5, 3, 0.1, 0.2, 0.30000000000000004, "A-1"])
    data.append(["Kraków", 2, 4, 1e-7, 123456789012.345, 1e16, "B-2"])

    lookup = book.create_sheet("Lookup")
    lookup.append(["code", "label"])
    lookup.append(["N", "North"])
    lookup.sheet_state = "hidden"


def regions_xlsx() -> bytes:
    """Several sheets: a two-row header with merged cells and a totals row, an empty sheet,
    a notes-only sheet, unicode names and values with duplicate headers, a hidden sheet."""
    return xlsx(_regions)


SUMMARY_CSV = (
    "region,q1_jan,q1_feb,q1_mar,q2_apr,q2_may\nNorth,10,11,12,13,14.5\nSouth,20,21,22,23,24.5\n"
)
DONNEES_CSV = (
    "citta,grosse,column_3,amount,amount_2,col_2024,order_id\n"
    "Zürich,1.5,3,0.1,0.2,0.3,A-1\n"
    "Kraków,2,4,1e-07,123456789012.345,1e+16,B-2\n"
)


def _calculations(book: Workbook) -> None:
    sheet = book.active
    assert isinstance(sheet, Worksheet)
    sheet.title = "Calc"
    sheet.append(["x", "y", "ratio", "label", "due", "bigger"])
    sheet.append([1, 3, "=A2/B2*0.9", '="id-"&A2', "=DATE(2026,1,31)", "=A2>B2"])
    sheet.append([2, 0, "=A3/B3", '="id-"&A3', "=DATE(2026,2,28)+0.5", "=A3>B3"])
    sheet["E2"].number_format = "yyyy-mm-dd"
    sheet["E3"].number_format = "yyyy-mm-dd hh:mm"


def formulas_xlsx() -> bytes:
    """Formulas with the results Excel caches: float noise, text, a date, a boolean, #DIV/0!."""
    return with_cached_results(
        xlsx(_calculations),
        {
            "C2": 0.30000000000000004,
            "D2": "id-1",
            "E2": 46053.0,
            "F2": False,
            "C3": ("e", "#DIV/0!"),
            "D3": "id-2",
            "E3": 46081.5,
            "F3": True,
        },
    )


FORMULAS_CSV = (
    "x,y,ratio,label,due,bigger\n"
    "1,3,0.3,id-1,2026-01-31T00:00:00,false\n"
    "2,0,,id-2,2026-02-28T12:00:00,true\n"
)


def headcount_ods() -> bytes:
    return ods(
        {
            "Headcount": [
                ["Headcount by team", None, None, None],
                [None, None, None, None],
                ["Team", "Lead", "Start", "Share", "Remote"],
                ["Data", "Zoë", date(2024, 2, 29), 0.125, True],
                ["Ops", " Ana ", datetime(2025, 3, 1, 9, 15), 0.5, False],
                ["Totals", None, None, 0.625, None],
            ]
        }
    )


HEADCOUNT_CSV = (
    "team,lead,start,share,remote\n"
    "Data,Zoë,2024-02-29T00:00:00,0.125,true\n"
    "Ops,Ana,2025-03-01T09:15:00,0.5,false\n"
)
