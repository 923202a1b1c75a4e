"""Writes the legacy .xls fixtures of test_excel_cleaner_biff.py with LibreOffice (not run by
the tests: they read the checked-in files).

Run with the system Python that has LibreOffice's ``uno`` module, from this folder:
``/usr/bin/python3 make_fixtures.py``. It starts its own headless ``soffice`` on a private pipe
and stops it at the end. See README.md for what each file holds.
"""

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import uno  # type: ignore[import-not-found]
from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]
from com.sun.star.connection import NoConnectException  # type: ignore[import-not-found]
from com.sun.star.table import CellAddress, CellRangeAddress  # type: ignore[import-not-found]

HERE = Path(__file__).resolve().parent
PIPE = f"biff_fixtures_{os.getpid()}"
EXCEL_97 = "MS Excel 97"


def prop(name: str, value: object) -> Any:
    return PropertyValue(Name=name, Value=value)


def connect(profile: str) -> tuple[subprocess.Popen[bytes], Any]:
    soffice = shutil.which("soffice")
    if soffice is None:
        raise RuntimeError("LibreOffice's soffice is not on the PATH")
    office = subprocess.Popen(
        [
            soffice,
            "--headless",
            "--invisible",
            "--norestore",
            "--nologo",
            f"-env:UserInstallation=file://{profile}",
            f"--accept=pipe,name={PIPE};urp;",
        ]
    )
    resolver = uno.getComponentContext().ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", uno.getComponentContext()
    )
    for _ in range(120):
        try:
            context = resolver.resolve(f"uno:pipe,name={PIPE};urp;StarOffice.ComponentContext")
            break
        except NoConnectException:
            time.sleep(0.5)
    else:
        office.kill()
        raise RuntimeError("soffice did not come up")
    desktop = context.ServiceManager.createInstanceWithContext(
        "com.sun.star.frame.Desktop", context
    )
    return office, desktop


def new_sheets(desktop: Any, names: list[str]) -> Any:
    hidden = (prop("Hidden", True),)
    doc = desktop.loadComponentFromURL("private:factory/scalc", "_blank", 0, hidden)
    sheets = doc.Sheets
    sheets.getByIndex(0).Name = names[0]
    for position, name in enumerate(names[1:], start=1):
        sheets.insertNewByName(name, position)
    return doc


def fill(sheet: Any, rows: list[list[object]], top: int = 0, left: int = 0) -> None:
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            cell = sheet.getCellByPosition(left + c, top + r)
            if isinstance(value, str):
                cell.String = value
            else:
                cell.Value = value


def hide(sheet: Any, rows: list[int], columns: list[int]) -> None:
    for row in rows:
        sheet.Rows.getByIndex(row).IsVisible = False
    for column in columns:
        sheet.Columns.getByIndex(column).IsVisible = False


def grid(height: int, width: int) -> list[list[object]]:
    """A header row ("c0", "c1"...) over rows of numbers row*100 + column."""
    header: list[object] = [f"c{c}" for c in range(width)]
    return [header] + [[float(r * 100 + c) for c in range(width)] for r in range(1, height)]


def save(doc: Any, name: str, filter_name: str, password: str | None = None) -> None:
    args = [prop("FilterName", filter_name), prop("Overwrite", True)]
    if password is not None:
        args.append(prop("Password", password))
    doc.storeToURL(uno.systemPathToFileUrl(str(HERE / name)), tuple(args))
    doc.close(True)


def hidden_rows_and_columns(desktop: Any) -> None:
    """Sheet "Data" (A1:H30 grid; rows 2, 5-7, 29 and columns 1, 4-5 hidden, 0-based), sheet
    "Kosten €" (hidden row 3, hidden column 0) and an untouched sheet "Übersicht"."""
    doc = new_sheets(desktop, ["Data", "Kosten €", "Übersicht"])
    data = doc.Sheets.getByName("Data")
    fill(data, grid(30, 8))
    hide(data, rows=[2, 5, 6, 7, 29], columns=[1, 4, 5])
    costs = doc.Sheets.getByName("Kosten €")
    fill(costs, grid(6, 3))
    hide(costs, rows=[3], columns=[0])
    save(doc, "hidden.xls", EXCEL_97)


def hidden_to_the_end(desktop: Any) -> None:
    """Sheet "Tail": A1:C10 filled, every row from 10 (0-based) down hidden."""
    doc = new_sheets(desktop, ["Tail"])
    tail = doc.Sheets.getByName("Tail")
    fill(tail, grid(10, 3))
    rows = tail.getCellRangeByPosition(0, 10, 0, 65535).Rows
    rows.IsVisible = False
    save(doc, "hidden_tail.xls", EXCEL_97)


def pivot(desktop: Any) -> None:
    """Sheet "Sales" (Region, Product, Amount over 12 rows) and sheet "Pivot" with a title in A1
    and a DataPilot table at B4: page field Product, row field Region, data Sum of Amount."""
    doc = new_sheets(desktop, ["Sales", "Pivot"])
    sales = doc.Sheets.getByName("Sales")
    regions = ["North", "South", "East", "West"]
    products = ["Tea", "Coffee", "Cocoa"]
    rows: list[list[object]] = [["Region", "Product", "Amount"]]
    rows += [[regions[i % 4], products[i % 3], float(10 * (i + 1))] for i in range(12)]
    fill(sales, rows)
    target = doc.Sheets.getByName("Pivot")
    fill(target, [["Sales by region"]])
    tables = target.DataPilotTables
    descriptor = tables.createDataPilotDescriptor()
    descriptor.SourceRange = CellRangeAddress(
        Sheet=0, StartColumn=0, StartRow=0, EndColumn=2, EndRow=len(rows) - 1
    )
    orientation = "com.sun.star.sheet.DataPilotFieldOrientation"
    fields = descriptor.DataPilotFields
    fields.getByIndex(0).Orientation = uno.Enum(orientation, "ROW")
    fields.getByIndex(1).Orientation = uno.Enum(orientation, "PAGE")
    amount = fields.getByIndex(2)
    amount.Orientation = uno.Enum(orientation, "DATA")
    amount.Function = uno.Enum("com.sun.star.sheet.GeneralFunction", "SUM")
    tables.insertNewByName("SalesPivot", CellAddress(Sheet=1, Column=1, Row=3), descriptor)
    save(doc, "pivot.xls", EXCEL_97)


def encrypted(desktop: Any) -> None:
    """A one-sheet workbook saved with the password "secret" (a FILEPASS record)."""
    doc = new_sheets(desktop, ["Secret"])
    fill(doc.Sheets.getByName("Secret"), grid(5, 3))
    save(doc, "encrypted.xls", EXCEL_97, password="secret")


def main() -> None:
    with tempfile.TemporaryDirectory() as profile:
        office, desktop = connect(profile)
        try:
            hidden_rows_and_columns(desktop)
            hidden_to_the_end(desktop)
            pivot(desktop)
            encrypted(desktop)
        finally:
            with contextlib.suppress(Exception):  # the bridge drops as soffice exits
                desktop.terminate()
            try:
                office.wait(timeout=30)
            except subprocess.TimeoutExpired:
                office.kill()


if __name__ == "__main__":
    main()
