"""Makes the workbooks in this folder (see README.md); the tests only read them.

    /usr/bin/python3 make_fixtures.py --libreoffice   # LibreOffice 7.4 through Python-UNO
    .venv/bin/python make_fixtures.py --openpyxl      # openpyxl, from the project's venv

The LibreOffice part starts a headless soffice with a throwaway profile, builds one workbook
(hidden rows and columns, a collapsed row group, a standard filter, DataPilot tables) and saves
it as .ods, as .xlsx ("Calc Office Open XML") and as a password-protected .ods.
"""

import argparse
import contextlib
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SOFFICE = "/usr/bin/soffice"
PORT = 2099
PASSWORD = "layout-fixture"  # the .ods is only protected, the value is no secret

HEADER = ("Region", "Product", "Quarter", "Amount")
ROWS = (
    ("North", "Apples", "Q1", 10),
    ("North", "Pears", "Q2", 20),
    ("South", "Apples", "Q1", 30),
    ("South", "Plums", "Q3", 40),
    ("East", "Pears", "Q1", 50),
    ("East", "Plums", "Q2", 60),
    ("West", "Apples", "Q3", 70),
    ("West", "Pears", "Q3", 80),
    ("North", "Plums", "Q1", 90),
    ("South", "Pears", "Q2", 100),
    ("East", "Apples", "Q3", 110),
    ("West", "Plums", "Q2", 120),
)


# ------------------------------------------------------------------------------- LibreOffice


def _connect(uno: Any, profile: Path) -> tuple[subprocess.Popen[bytes], Any]:
    process = subprocess.Popen(
        [
            SOFFICE,
            "--headless",
            "--invisible",
            "--norestore",
            "--nologo",
            f"-env:UserInstallation={profile.as_uri()}",
            f"--accept=socket,host=127.0.0.1,port={PORT};urp;",
        ]
    )
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local
    )
    url = f"uno:socket,host=127.0.0.1,port={PORT};urp;StarOffice.ComponentContext"
    for _ in range(120):
        try:
            context = resolver.resolve(url)
            break
        except Exception:  # NoConnectException until soffice listens
            time.sleep(0.5)
    else:
        process.kill()
        raise SystemExit("soffice did not start")
    desktop = context.ServiceManager.createInstanceWithContext(
        "com.sun.star.frame.Desktop", context
    )
    return process, desktop


def _properties(uno: Any, **values: Any) -> tuple[Any, ...]:
    properties = []
    for name, value in values.items():
        prop = uno.createUnoStruct("com.sun.star.beans.PropertyValue")
        prop.Name, prop.Value = name, value
        properties.append(prop)
    return tuple(properties)


def _fill(sheet: Any, top: int, left: int, rows: list[tuple[Any, ...]]) -> None:
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            cell = sheet.getCellByPosition(left + c, top + r)
            if isinstance(value, str):
                cell.setString(value)
            else:
                cell.setValue(value)


def _range(uno: Any, sheet: int, first: tuple[int, int], last: tuple[int, int]) -> Any:
    """A CellRangeAddress from (row, column) corners, 0-based."""
    address = uno.createUnoStruct("com.sun.star.table.CellRangeAddress")
    address.Sheet = sheet
    address.StartRow, address.StartColumn = first
    address.EndRow, address.EndColumn = last
    return address


def _pivot(
    uno: Any,
    doc: Any,
    target: tuple[int, int, int],
    fields: dict[str, str],
    *,
    name: str,
    filter_button: bool = True,
    data_layout: str = "",
) -> None:
    """A DataPilot over Data!A1:D13 at target (sheet, row, column); fields: name → orientation
    ("PAGE", "ROW", "COLUMN", "DATA" summing, "DATA COUNT"), in the order given; data_layout:
    where the "Data" field goes (its default otherwise)."""
    sheet_index, row, column = target
    tables = doc.Sheets.getByIndex(sheet_index).getDataPilotTables()
    descriptor = tables.createDataPilotDescriptor()
    descriptor.setSourceRange(_range(uno, 0, (0, 0), (len(ROWS), len(HEADER) - 1)))
    descriptor.ShowFilterButton = filter_button
    for field_name, orientation in fields.items():
        field = descriptor.getDataPilotFields().getByIndex(HEADER.index(field_name))
        kind, _, function = orientation.partition(" ")
        field.Orientation = uno.Enum("com.sun.star.sheet.DataPilotFieldOrientation", kind)
        if kind == "DATA":
            field.Function = uno.Enum("com.sun.star.sheet.GeneralFunction", function or "SUM")
    if data_layout:
        field = descriptor.getDataPilotFields().getByName("Data")
        field.Orientation = uno.Enum("com.sun.star.sheet.DataPilotFieldOrientation", data_layout)
    address = uno.createUnoStruct("com.sun.star.table.CellAddress")
    address.Sheet, address.Row, address.Column = sheet_index, row, column
    tables.insertNewByName(name, address, descriptor)


def _hide_rows(sheet: Any, first: int, last: int) -> None:
    rows = sheet.getRows()
    for index in range(first, last + 1):
        rows.getByIndex(index).IsVisible = False


def _hide_columns(sheet: Any, first: int, last: int) -> None:
    columns = sheet.getColumns()
    for index in range(first, last + 1):
        columns.getByIndex(index).IsVisible = False


def _build(uno: Any, doc: Any) -> None:
    sheets = doc.Sheets
    sheets.getByIndex(0).setName("Data")
    for index, name in enumerate(
        ("Hidden", "Filtered", "Pivot Sheet", "Pivot Plain", "Pivot Pages", "Pivot More"),
        start=1,
    ):
        sheets.insertNewByName(name, index)
    _fill(sheets.getByName("Data"), 0, 0, [HEADER, *ROWS])

    # Hidden: a grid at B3:G14 (rows 1-2 and column A empty); rows 5, 6, 10 (1-based) hidden,
    # rows 12-13 grouped and collapsed, columns C and F hidden, and far, empty ones hidden too:
    # rows 101-2000 and columns T:ALL.
    hidden = sheets.getByName("Hidden")
    _fill(hidden, 2, 1, [tuple(f"r{r}c{c}" for c in range(1, 7)) for r in range(3, 15)])
    _hide_rows(hidden, 4, 5)
    _hide_rows(hidden, 9, 9)
    group = _range(uno, 1, (11, 0), (12, 0))
    hidden.group(group, uno.Enum("com.sun.star.table.TableOrientation", "ROWS"))
    hidden.hideDetail(group)
    _hide_columns(hidden, 2, 2)
    _hide_columns(hidden, 5, 5)
    hidden.getCellRangeByPosition(0, 100, 0, 1_999).getRows().IsVisible = False
    hidden.getCellRangeByPosition(19, 0, 999, 0).getColumns().IsVisible = False

    # Filtered: the data with a standard filter keeping Region = "North".
    filtered = sheets.getByName("Filtered")
    _fill(filtered, 0, 0, [HEADER, *ROWS])
    cells = filtered.getCellRangeByPosition(0, 0, len(HEADER) - 1, len(ROWS))
    descriptor = cells.createFilterDescriptor(True)
    condition = uno.createUnoStruct("com.sun.star.sheet.TableFilterField")
    condition.Field, condition.IsNumeric, condition.StringValue = 0, False, "North"
    condition.Operator = uno.Enum("com.sun.star.sheet.FilterOperator", "EQUAL")
    descriptor.FilterFields = (condition,)
    descriptor.ContainsHeader = True
    cells.filter(descriptor)

    # Pivots: a page, a row and a column field; row and column fields at B3; a row field only
    # at H3; two page fields and a row field; no filter button and two column fields; two data
    # fields, their "Data" layout field among the row fields, then among the column fields; one
    # data field with the "Data" field among the column fields (where it shows nothing).
    _pivot(
        uno,
        doc,
        (3, 0, 0),
        {"Region": "PAGE", "Product": "ROW", "Quarter": "COLUMN", "Amount": "DATA"},
        name="PageRowColumn",
    )
    rows_and_columns = {"Product": "ROW", "Quarter": "COLUMN", "Amount": "DATA"}
    _pivot(uno, doc, (4, 2, 1), rows_and_columns, name="RowColumn")
    _pivot(uno, doc, (4, 2, 7), {"Product": "ROW", "Amount": "DATA"}, name="RowOnly")
    _pivot(
        uno,
        doc,
        (5, 0, 0),
        {"Region": "PAGE", "Quarter": "PAGE", "Product": "ROW", "Amount": "DATA"},
        name="TwoPages",
    )
    _pivot(
        uno,
        doc,
        (6, 0, 0),
        {"Product": "ROW", "Region": "COLUMN", "Quarter": "COLUMN", "Amount": "DATA"},
        name="NoButton",
        filter_button=False,
    )
    _pivot(
        uno,
        doc,
        (6, 10, 0),
        {"Product": "ROW", "Quarter": "COLUMN", "Amount": "DATA", "Region": "DATA COUNT"},
        name="TwoDataInRows",
        data_layout="ROW",
    )
    _pivot(
        uno,
        doc,
        (6, 25, 0),
        {"Product": "ROW", "Quarter": "COLUMN", "Amount": "DATA", "Region": "DATA COUNT"},
        name="TwoDataInColumns",
        data_layout="COLUMN",
    )
    _pivot(
        uno,
        doc,
        (6, 25, 12),
        {"Product": "ROW", "Amount": "DATA"},
        name="OneDataInColumns",
        data_layout="COLUMN",
    )


def make_libreoffice(out: Path) -> None:
    import uno  # type: ignore[import-not-found]  # noqa: PLC0415 - the system python's

    profile = Path(tempfile.mkdtemp(prefix="layout-fixtures-"))
    process, desktop = _connect(uno, profile)
    try:
        doc = desktop.loadComponentFromURL(
            "private:factory/scalc", "_blank", 0, _properties(uno, Hidden=True)
        )
        _build(uno, doc)
        doc.calculateAll()
        for name, options in (
            ("libreoffice_layout.ods", {"FilterName": "calc8"}),
            ("libreoffice_layout.xlsx", {"FilterName": "Calc Office Open XML"}),
            ("libreoffice_encrypted.ods", {"FilterName": "calc8", "Password": PASSWORD}),
        ):
            doc.storeToURL((out / name).as_uri(), _properties(uno, Overwrite=True, **options))
        doc.close(True)
    finally:
        with contextlib.suppress(Exception):  # the bridge drops as soffice quits
            desktop.terminate()
        process.wait(timeout=60)
        shutil.rmtree(profile, ignore_errors=True)


# ---------------------------------------------------------------------------------- openpyxl


def make_openpyxl(out: Path) -> None:
    from openpyxl import Workbook  # noqa: PLC0415 - only the venv has it

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Sheet"
    for r in range(2, 12):  # B2:F11, row 1 and column A empty
        for c in range(2, 7):
            sheet.cell(row=r, column=c, value=f"r{r}c{c}")
    for r in (4, 7, 8):
        sheet.row_dimensions[r].hidden = True
    sheet.column_dimensions["C"].hidden = True
    sheet.column_dimensions.group("E", "F", hidden=True)  # <col min="5" max="6" hidden="1">
    book.save(out / "openpyxl_hidden.xlsx")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--libreoffice", action="store_true")
    parser.add_argument("--openpyxl", action="store_true")
    parser.add_argument("--out", type=Path, default=HERE)
    arguments = parser.parse_args()
    if not (arguments.libreoffice or arguments.openpyxl):
        parser.error("say --libreoffice (system python3) or --openpyxl (venv)")
    if arguments.libreoffice:
        make_libreoffice(arguments.out)
    if arguments.openpyxl:
        make_openpyxl(arguments.out)
    sys.stdout.write(f"written to {arguments.out}\n")


if __name__ == "__main__":
    main()
