"""Builds the real-workbook corpus with LibreOffice: each workbook through the UNO API, saved as
.xlsx, .xls and .ods into ``workbooks/`` beside this file.

Run with the system Python, the one that has LibreOffice's ``uno`` module (not the project's venv):

    /usr/bin/python3 tests/unit/excel_cleaner/corpus/make_corpus.py

It starts its own headless soffice (a throwaway profile, a named pipe), builds every workbook,
stores it, and stops soffice. The content is fixed (no NOW(), no random values); the bytes still
differ from run to run by the times LibreOffice writes (zip entries, the save date, the .ods
encryption salts); the author and creation date are fixed.
"""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final

import uno  # LibreOffice's Python bridge: on /usr/bin/python3 (Debian's python3-uno)

HERE: Final = Path(__file__).resolve().parent
OUTPUT: Final = HERE / "workbooks"
PASSWORD: Final = "corpus-secret"
CONNECT_SECONDS: Final = 60.0
NULL_DATE: Final = date(1899, 12, 30)  # Calc's default day 0

# LibreOffice filter names: .xlsx, .xls (BIFF8) and .ods.
FILTERS: Final = {
    "xlsx": "Calc Office Open XML",
    "xls": "MS Excel 97",
    "ods": "calc8",
}
ALL_FORMATS: Final = ("xlsx", "xls", "ods")


# ------------------------------------------------------------------------------ UNO helpers


def _property(name: str, value: Any) -> Any:
    prop = uno.createUnoStruct("com.sun.star.beans.PropertyValue")
    prop.Name = name
    prop.Value = value
    return prop


def _named(name: str, value: Any) -> Any:
    pair = uno.createUnoStruct("com.sun.star.beans.NamedValue")
    pair.Name = name
    pair.Value = value
    return pair


def _enum(type_name: str, value: str) -> Any:
    return uno.Enum(f"com.sun.star.{type_name}", value)


@dataclass(frozen=True)
class Formula:
    """A cell formula (``=SUM(E5:E16)``); LibreOffice computes it and saves its result."""

    text: str


@dataclass(frozen=True)
class Text:
    """A value stored as a text cell whatever it looks like (no number or date recognition)."""

    text: str


@dataclass(frozen=True)
class Formatted:
    """A number shown with a number format code (``0%``, ``#,##0.00``)."""

    value: float
    code: str


class Book:
    """One Calc document being built: sheets, cells and number formats."""

    def __init__(self, document: Any) -> None:
        self.document = document
        self._locale = uno.createUnoStruct("com.sun.star.lang.Locale")
        self._locale.Language = "en"
        self._locale.Country = "US"
        self._first_sheet_named = False

    def format_key(self, code: str) -> int:
        formats = self.document.getNumberFormats()
        key = formats.queryKey(code, self._locale, False)
        if key == -1:
            key = formats.addNew(code, self._locale)
        return int(key)

    def sheet(self, name: str) -> Any:
        """A new sheet at the end (the document's default sheet is renamed for the first)."""
        sheets = self.document.getSheets()
        if not self._first_sheet_named:
            self._first_sheet_named = True
            first = sheets.getByIndex(0)
            first.setName(name)
            return first
        sheets.insertNewByName(name, sheets.getCount())
        return sheets.getByName(name)

    def put(self, sheet: Any, row: int, column: int, value: object) -> None:
        """One cell (0-based row and column) from a Python value; None leaves it empty."""
        cell = sheet.getCellByPosition(column, row)
        if value is None:
            return
        if isinstance(value, Formula):
            cell.setFormula(value.text)
        elif isinstance(value, Text):
            cell.setString(value.text)
        elif isinstance(value, str):
            cell.setString(value)
        elif isinstance(value, bool):  # as Calc stores a typed TRUE: 1 in the BOOLEAN format
            cell.setValue(1 if value else 0)
            cell.NumberFormat = self.format_key("BOOLEAN")
        elif isinstance(value, date):
            cell.setValue((value - NULL_DATE).days)
            cell.NumberFormat = self.format_key("YYYY-MM-DD")
        elif isinstance(value, Formatted):
            cell.setValue(value.value)
            cell.NumberFormat = self.format_key(value.code)
        elif isinstance(value, int | float):
            cell.setValue(value)
        else:
            raise TypeError(f"no cell for {value!r}")

    def rows(self, sheet: Any, first_row: int, rows: Sequence[Sequence[object]]) -> None:
        for offset, values in enumerate(rows):
            for column, value in enumerate(values):
                self.put(sheet, first_row + offset, column, value)

    def number_format(self, sheet: Any, cells: str, code: str) -> None:
        sheet.getCellRangeByName(cells).NumberFormat = self.format_key(code)


# ------------------------------------------------------------------------------ the workbooks


def sales_report(book: Book) -> None:
    """A report as people make them: title, note, blank row, header, typed data, formulas,
    a Total row and a footnote after a blank row."""
    sheet = book.sheet("Q3 Sales")
    book.rows(
        sheet,
        0,
        [
            ["Q3 2025 Sales Report"],
            ["Prepared by: Finance team, 3 October 2025"],
        ],
    )
    book.rows(
        sheet,
        3,
        [
            [
                "Order ID",
                "Customer",
                "Region",
                "Order date",
                "Quantity",
                "Unit price",
                "Discount",
                "Paid",
                "Line total",
            ]
        ],
    )
    orders = [
        (10401, "Acme Corp", "North", date(2025, 7, 1), 12, 19.99, 0.0, True),
        (10402, "Zoë Müller GmbH", "South", date(2025, 7, 3), 3, 249.5, 0.05, True),
        (10403, "Blue Harbor Ltd", "East", date(2025, 7, 14), 40, 4.25, 0.1, False),
        (10404, "Café Olé", "West", date(2025, 7, 28), 7, 89.0, 0.0, True),
        (10405, "Acme Corp", "North", date(2025, 8, 2), 25, 19.99, 0.15, True),
        (10406, "Northwind Traders", "East", date(2025, 8, 9), 1, 1299.0, 0.0, False),
        (10407, "Blue Harbor Ltd", "East", date(2025, 8, 19), 60, 4.25, 0.2, True),
        (10408, "Sato & Sons", "South", date(2025, 8, 30), 5, 310.75, 0.05, True),
        (10409, "Café Olé", "West", date(2025, 9, 4), 14, 89.0, 0.0, False),
        (10410, "Northwind Traders", "North", date(2025, 9, 12), 2, 1299.0, 0.1, True),
        (10411, "Zoë Müller GmbH", "South", date(2025, 9, 22), 9, 249.5, 0.0, True),
        (10412, "Acme Corp", "North", date(2025, 9, 30), 30, 18.5, 0.05, False),
    ]
    first, last = 5, 4 + len(orders)  # Excel row numbers of the data
    for offset, (order, customer, region, day, quantity, price, discount, paid) in enumerate(
        orders
    ):
        row = first + offset
        book.rows(
            sheet,
            row - 1,
            [
                [
                    order,
                    customer,
                    region,
                    day,
                    quantity,
                    Formatted(price, "#,##0.00"),
                    Formatted(discount, "0%"),
                    paid,
                    Formula(f"=ROUND(E{row}*F{row}*(1-G{row});2)"),
                ]
            ],
        )
    book.number_format(sheet, f"I{first}:I{last + 1}", "#,##0.00")
    book.rows(
        sheet,
        last,
        [
            [
                "Total",
                None,
                None,
                None,
                Formula(f"=SUM(E{first}:E{last})"),
                None,
                None,
                None,
                Formula(f"=SUM(I{first}:I{last})"),
            ],
            [],
            ["* Amounts in EUR, excluding VAT. Discounts agreed per contract."],
        ],
    )


def merged_header(book: Book) -> None:
    """A two-row header: Q1 and Q2 merged over their months, Region and Full year merged down."""
    sheet = book.sheet("Summary")
    book.rows(
        sheet,
        0,
        [
            ["Region", "Q1", None, None, "Q2", None, None, "Full year"],
            [None, "Jan", "Feb", "Mar", "Apr", "May", "Jun"],
        ],
    )
    for cells in ("A1:A2", "B1:D1", "E1:G1", "H1:H2"):
        sheet.getCellRangeByName(cells).merge(True)
    sales = {
        "North": (1200, 1350, 1410, 1500, 1620, 1580),
        "South": (980, 1010, 1105, 1190, 1230, 1302),
        "East": (640, 700, 655, 720, 810, 790),
        "West": (1500, 1475, 1610, 1700, 1690, 1805),
        "Central": (300, 320, 345, 360, 410, 395),
    }
    for offset, (region, months) in enumerate(sales.items()):
        row = 3 + offset
        book.rows(sheet, row - 1, [[region, *months, Formula(f"=SUM(B{row}:G{row})")]])


SHIPMENTS: Final = ("SH-001", "SH-002", "SH-003", "SH-004", "SH-005", "SH-006")
# Header → the same six days typed as text, as people type them (each non-ISO column has a
# value that fixes its order, except the last one, where every part is 12 or less).
TEXT_DATES: Final = {
    "Shipped (day first)": (
        "31/12/2025",
        "05/01/2026",
        "15/02/2026",
        "02/03/2026",
        "28/04/2026",
        "10/06/2026",
    ),
    "Delivered (month first)": (
        "12/31/2025",
        "01/05/2026",
        "02/15/2026",
        "03/02/2026",
        "04/28/2026",
        "06/10/2026",
    ),
    "Invoiced (ISO)": (
        "2025-12-31",
        "2026-01-05",
        "2026-02-15",
        "2026-03-02",
        "2026-04-28",
        "2026-06-10",
    ),
    "Paid (day month)": (
        "31 Dec 2025",
        "5 Jan 2026",
        "15 Feb 2026",
        "2 Mar 2026",
        "28 Apr 2026",
        "10 Jun 2026",
    ),
    "Due (month name first)": (
        "December 31, 2025",
        "January 5, 2026",
        "February 15, 2026",
        "March 2, 2026",
        "April 28, 2026",
        "June 10, 2026",
    ),
    "Booked (ambiguous)": (
        "01/02/2025",
        "03/04/2025",
        "05/06/2025",
        "07/08/2025",
        "09/10/2025",
        "11/12/2025",
    ),
}
RECEIVED: Final = (
    date(2025, 12, 31),
    date(2026, 1, 5),
    date(2026, 2, 15),
    date(2026, 3, 2),
    date(2026, 4, 28),
    date(2026, 6, 10),
)


def text_dates(book: Book) -> None:
    """Dates typed as text in the usual spellings, an all-ambiguous column and real dates."""
    sheet = book.sheet("Shipments")
    book.rows(sheet, 0, [["Shipment", *TEXT_DATES, "Received (date cell)"]])
    for offset, shipment in enumerate(SHIPMENTS):
        texts = (Text(column[offset]) for column in TEXT_DATES.values())
        book.rows(sheet, 1 + offset, [[shipment, *texts, RECEIVED[offset]]])
    book.number_format(sheet, f"H2:H{1 + len(SHIPMENTS)}", "DD/MM/YYYY")


PIVOT_REGIONS: Final = ("North", "South", "West")
PIVOT_PRODUCTS: Final = ("Laptop", "Monitor", "Dock")
PIVOT_MONTHS: Final = ("2025-01", "2025-02", "2025-03")


def pivot(book: Book) -> None:
    """A Data sheet and a DataPilot over it: Region as the page (filter) field, Product down,
    Month across, the sum of Amount."""
    data = book.sheet("Data")
    book.rows(data, 0, [["Region", "Product", "Month", "Amount"]])
    row = 1
    for r, region in enumerate(PIVOT_REGIONS):
        for p, product in enumerate(PIVOT_PRODUCTS):
            for m, month in enumerate(PIVOT_MONTHS):
                amount = 1000 + 250 * r + 100 * p * (p + 1) + 35 * m * (r + 1) + (7 * row) % 50
                book.rows(data, row, [[region, product, Text(month), amount]])
                row += 1
    target = book.sheet("Pivot")
    tables = target.getDataPilotTables()
    descriptor = tables.createDataPilotDescriptor()
    descriptor.setSourceRange(data.getCellRangeByName(f"A1:D{row}").getRangeAddress())
    fields = descriptor.getDataPilotFields()
    orientation = "sheet.DataPilotFieldOrientation"
    fields.getByIndex(0).Orientation = _enum(orientation, "PAGE")
    fields.getByIndex(1).Orientation = _enum(orientation, "ROW")
    fields.getByIndex(2).Orientation = _enum(orientation, "COLUMN")
    amount_field = fields.getByIndex(3)
    amount_field.Orientation = _enum(orientation, "DATA")
    amount_field.Function = _enum("sheet.GeneralFunction", "SUM")
    corner = uno.createUnoStruct("com.sun.star.table.CellAddress")
    corner.Sheet = 1
    corner.Column = 0
    corner.Row = 0
    tables.insertNewByName("SalesByProduct", corner, descriptor)


def hidden(book: Book) -> None:
    """A visible sheet with two hidden rows and two hidden columns, and a hidden sheet."""
    staff = book.sheet("Staff")
    book.rows(
        staff,
        0,
        [
            ["Employee", "Department", "Salary", "Start date", "Office", "Internal note"],
            ["Ana Souza", "Sales", 52000, date(2019, 3, 1), "Lisbon", "review in May"],
            ["Ben Okafor", "Engineering", 71000, date(2020, 11, 16), "Lagos", "—"],
            ["TEST ROW", "QA", 0, date(2000, 1, 1), "nowhere", "delete me"],
            ["Chloé Martin", "Finance", 64000, date(2018, 6, 4), "Paris", "—"],
            ["Dmitri Ivanov", "Engineering", 69500, date(2021, 2, 8), "Berlin", "visa"],
            ["OLD: Eve Adams", "Sales", 48000, date(2015, 9, 1), "London", "left 2024"],
            ["Farah Khan", "Support", 41000, date(2022, 1, 10), "Dubai", "—"],
            ["Gustav Berg", "Engineering", 75500, date(2017, 4, 24), "Stockholm", "lead"],
        ],
    )
    for row in (3, 6):  # 0-based: Excel rows 4 and 7
        staff.getRows().getByIndex(row).IsVisible = False
    for column in (2, 5):  # C (Salary) and F (Internal note)
        staff.getColumns().getByIndex(column).IsVisible = False
    lookup = book.sheet("Lookup")
    book.rows(
        lookup,
        0,
        [
            ["Department", "Cost centre"],
            ["Sales", "CC-100"],
            ["Engineering", "CC-200"],
            ["Finance", "CC-300"],
            ["Support", "CC-400"],
            ["QA", "CC-500"],
        ],
    )
    lookup.IsVisible = False


def headerless(book: Book) -> None:
    """A sheet of numbers only and a sheet of text only, neither with a header row."""
    readings = book.sheet("Readings")
    book.rows(
        readings,
        0,
        [
            [1, 20.5, 1013.2, 0.45],
            [2, 21.0, 1012.8, 0.47],
            [3, 21.75, 1012.1, 0.5],
            [4, 22.1, 1011.9, 0.52],
            [5, 21.9, 1011.4, 0.55],
            [6, 20.8, 1010.7, 0.6],
            [7, 19.6, 1010.2, 0.62],
            [8, 18.9, 1009.8, 0.66],
            [9, 18.2, 1010.5, 0.63],
            [10, 17.75, 1011.0, 0.58],
        ],
    )
    cities = book.sheet("Contacts")
    book.rows(
        cities,
        0,
        [
            ["Alice Martin", "Lyon", "France"],
            ["Bruno Costa", "Porto", "Portugal"],
            ["Chen Wei", "Shanghai", "China"],
            ["Daniela Rossi", "Milan", "Italy"],
            ["Erik Johansson", "Gothenburg", "Sweden"],
            ["Fatima Zahra", "Casablanca", "Morocco"],
            ["Grace O'Neill", "Cork", "Ireland"],
            ["Hiro Tanaka", "Osaka", "Japan"],
        ],
    )


def protected(book: Book) -> None:
    """A small ordinary table; the file is saved with a password."""
    sheet = book.sheet("Budget")
    book.rows(
        sheet,
        0,
        [
            ["Cost centre", "Owner", "Budget 2026", "Spent to date"],
            ["CC-100", "Sales", 120000, 45210.5],
            ["CC-200", "Engineering", 480000, 201344.75],
            ["CC-300", "Finance", 95000, 30120.0],
            ["CC-400", "Support", 150000, 77900.25],
        ],
    )


LONG_COMMENT: Final = " ".join(
    f"Ligne {n}: livraison partielle, reliquat à expédier après l'inventaire de fin de mois."
    for n in range(1, 31)
)


def unicode_and_formats(book: Book) -> None:
    """A non-ASCII sheet name, duplicate headers, a header with line breaks, empty columns
    between the data, a very long text and error results (#DIV/0!, #N/A)."""
    sheet = book.sheet("Ventes 2026 — Été")
    header = [
        "Produit",
        "Montant",
        "Montant",
        "Quantité",
        "Prix\nunitaire\n(€)",
        None,
        None,
        "Commentaire",
        "Prix moyen",
        "Code",
    ]
    lines = [
        ("Crème brûlée", 1250.0, 1500.0, 250, 5.0, "Très demandé en juillet.", "CB-01"),
        ("Smørrebrød", 840.5, 1008.6, 120, 7.0, LONG_COMMENT, "SM-02"),
        ("東京 ramen", 2300.0, 2760.0, 0, 9.5, "Rupture de stock : aucune vente.", "TK-03"),
        ("Pão de queijo", 410.25, 492.3, 95, 4.32, "", None),
        ("Ñoquis caseros", 615.0, 738.0, 82, 7.5, "Nouveau fournisseur 🍝", "NQ-05"),
    ]
    book.rows(sheet, 0, [header])
    for offset, (product, net, gross, quantity, price, comment, code) in enumerate(lines):
        row = 2 + offset
        code_cell: object = code if code is not None else Formula("=NA()")
        book.rows(
            sheet,
            row - 1,
            [
                [
                    product,
                    net,
                    gross,
                    quantity,
                    price,
                    None,
                    None,
                    comment or None,
                    Formula(f"=B{row}/D{row}"),
                    code_cell,
                ]
            ],
        )
    sheet.getCellRangeByName("E1").IsTextWrapped = True


@dataclass(frozen=True)
class Workbook:
    name: str
    build: Callable[[Book], None]
    formats: tuple[str, ...] = ALL_FORMATS
    password: str | None = None


WORKBOOKS: Final = (
    Workbook("sales_report", sales_report),
    Workbook("merged_header", merged_header),
    Workbook("text_dates", text_dates),
    Workbook("pivot", pivot),
    Workbook("hidden", hidden),
    Workbook("headerless", headerless),
    Workbook("protected", protected, password=PASSWORD),
    Workbook("unicode_and_formats", unicode_and_formats),
)


# ------------------------------------------------------------------------------ soffice


def _start_soffice(profile: Path, pipe: str) -> subprocess.Popen[bytes]:
    soffice = shutil.which("soffice")
    if soffice is None:
        raise SystemExit("soffice is not on PATH: install LibreOffice (Debian: libreoffice-calc)")
    return subprocess.Popen(
        [
            soffice,
            "--headless",
            "--invisible",
            "--nologo",
            "--norestore",
            "--nodefault",
            "--nolockcheck",
            f"-env:UserInstallation={profile.as_uri()}",
            f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # Its own process group: /usr/bin/soffice is a launcher whose soffice.bin child
        # outlives it, and the whole group is what has to be stopped if anything fails.
        start_new_session=True,
    )


def _connect(pipe: str, soffice: subprocess.Popen[bytes]) -> Any:
    """The desktop of the soffice listening on ``pipe``, once it accepts connections."""
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local
    )
    deadline = time.monotonic() + CONNECT_SECONDS
    while True:
        try:
            context = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
        except Exception as error:
            if soffice.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"soffice did not accept a connection: {error}") from error
            time.sleep(0.5)
            continue
        return context.ServiceManager.createInstanceWithContext(
            "com.sun.star.frame.Desktop", context
        )


def _store(document: Any, target: Path, extension: str, password: str | None) -> None:
    descriptor = [_property("FilterName", FILTERS[extension]), _property("Overwrite", True)]
    if password is not None and extension == "xlsx":
        # The OOXML filter ignores "Password": it encrypts (ECMA-376 standard encryption, an
        # OLE2 file with EncryptionInfo and EncryptedPackage streams) only when handed
        # EncryptionData naming the password and the engine, as the Save dialog does.
        encryption = (_named("OOXPassword", password), _named("CryptoType", "Standard"))
        sequence = uno.Any("[]com.sun.star.beans.NamedValue", encryption)
        descriptor.append(_property("EncryptionData", sequence))
    elif password is not None:
        descriptor.append(_property("Password", password))
    document.storeToURL(target.as_uri(), tuple(descriptor))


def _set_fixed_metadata(document: Any) -> None:
    """Author and creation date fixed, so the metadata names no machine or user."""
    properties = document.getDocumentProperties()
    properties.Author = "make_corpus.py"
    properties.ModifiedBy = "make_corpus.py"
    created = uno.createUnoStruct("com.sun.star.util.DateTime")
    created.Year, created.Month, created.Day, created.Hours = 2026, 1, 1, 12
    properties.CreationDate = created
    properties.ModificationDate = created


def build_all(desktop: Any, output: Path) -> list[Path]:
    output.mkdir(parents=True, exist_ok=True)
    written = []
    for workbook in WORKBOOKS:
        document = desktop.loadComponentFromURL(
            "private:factory/scalc", "_blank", 0, (_property("Hidden", True),)
        )
        try:
            _set_fixed_metadata(document)
            workbook.build(Book(document))
            document.calculateAll()
            for extension in workbook.formats:
                target = output / f"{workbook.name}.{extension}"
                _store(document, target, extension, workbook.password)
                written.append(target)
        finally:
            document.close(True)
    return written


def _stop_soffice(desktop: Any, soffice: subprocess.Popen[bytes]) -> None:
    """Asks soffice to quit, then ends whatever is left of the group this script started."""
    if desktop is not None:
        try:
            desktop.terminate()
        except Exception as error:  # the bridge drops as soffice exits
            print(f"(soffice closed the connection on exit: {type(error).__name__})")
        try:
            soffice.wait(timeout=30)
        except subprocess.TimeoutExpired:
            print("(soffice did not exit within 30 s: stopping it)")
    with contextlib.suppress(ProcessLookupError):  # no such group: soffice has exited
        os.killpg(soffice.pid, signal.SIGKILL)  # soffice.bin, even after its launcher exited
    soffice.wait()


def main() -> int:
    profile = Path(tempfile.mkdtemp(prefix="corpus-soffice-"))
    pipe = f"excel_cleaner_corpus_{profile.name}"
    soffice = _start_soffice(profile, pipe)
    desktop = None
    try:
        desktop = _connect(pipe, soffice)
        written = build_all(desktop, OUTPUT)
    finally:
        _stop_soffice(desktop, soffice)
        shutil.rmtree(profile, ignore_errors=True)
    for path in written:
        print(f"{path.stat().st_size:>7} bytes  {path.relative_to(HERE)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
