"""excel_cleaner: a workbook of 100,000 rows by 20 columns to CSV, ours vs the post's approach.

- ``excel_cleaner.seconds_100k_rows``: wall time of the cleaning logic, workbook bytes → CSV
  bytes (``excel_cleaner.workbook.clean_workbook``: the zip checks, python-calamine, header
  detection, both passes, CSV encoding), median of 3 runs. Baseline, same file, same run: the
  source post's approach, ``pandas.read_excel(engine="openpyxl")`` of every sheet, empty rows
  and columns dropped, ``to_csv`` — 1 run (it takes 10-20 s), between our first and second
  runs so that both sides see the same machine load. CPU seconds are printed beside.
- ``excel_cleaner.reader_only_s``: python-calamine alone on the same file, the floor of any
  cleaner built on it (the workbook opened, the sheet loaded, its rows iterated as Python
  values), median of 3 runs interleaved with ours; ``excel_cleaner.seconds_per_reader_second``
  is ours over it (baseline: pandas + openpyxl over it), the cleaning's cost above the reader.
- ``excel_cleaner.peak_mb``: peak resident memory (VmHWM) of a fresh Python process
  that imports what it needs, reads the file and cleans it, the way a Lambda sandbox sees it.
  Each side runs in its own subprocess: tracemalloc cannot see calamine's Rust allocations, and
  a shared process would carry one side's high-water mark into the other's.
- ``excel_cleaner.package_mb``: what the function deploys besides the shared layer and the
  runtime's boto3: the installed python-calamine distribution (as pip installed it into this
  venv: here linux x86_64, 2.2 MiB; the manylinux aarch64 wheel Lambda gets unpacks to 2.24 MiB)
  plus functions/excel_cleaner's code. Baseline: the installed pandas + numpy + openpyxl stack the
  post's function would ship (pandas, numpy, openpyxl, et_xmlfile, python-dateutil, six, tzdata).

The workbook is written once as raw SpreadsheetML (shared strings, date/percent styles, like
Excel's own files; ~12 MB, ~3 s) and kept in the temp directory for later runs: openpyxl's
write-only mode takes ~20 s for the same sheet, which the benchmark's time budget cannot afford.
It is messy on purpose: a title row, a blank row, then the header, 100,000 rows of typed data
(ints, text, dates, date-times, percentages, booleans, float noise, padded text), and a totals
row after a blank one.
"""

import io
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import date, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Final
from xml.sax.saxutils import escape

from benchmarks.results import ROOT, BenchResult, peak_resident_mb

ROWS: Final = 100_000
COLUMNS: Final = 20
OUR_RUNS: Final = 3
WORKBOOK_VERSION: Final = 1
FUNCTION_DIR: Final = ROOT / "functions" / "excel_cleaner"
CACHE_DIR: Final = Path(tempfile.gettempdir()) / "datalake-events-bench"
BASELINE_PACKAGES: Final = (
    "pandas",
    "numpy",
    "openpyxl",
    "et_xmlfile",
    "python-dateutil",
    "six",
    "tzdata",
)
HEADER: Final = (
    "Order ID",
    "Customer",
    "Region",
    "Order Date",
    "Ship Date",
    "Quantity",
    "Unit Price",
    "Discount",
    "Total",
    "Paid",
    "Category",
    "Product",
    "SKU",
    "Weight kg",
    "Rating",
    "Notes",
    "Created At",
    "Priority",
    "Margin",
    "Channel",
)
_EXCEL_EPOCH: Final = date(1899, 12, 30)
_STYLE_DATE, _STYLE_DATETIME, _STYLE_PERCENT = 1, 2, 3
_STYLES: Final = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
    '<borders count="1"><border/></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="22" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="10" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs></styleSheet>"
)
_PARTS: Final = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="Orders" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/styles" Target="styles.xml"/>'
        '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
    ),
    "xl/styles.xml": _STYLES,
}


# ------------------------------------------------------------------------------ the workbook


class _SharedStrings:
    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def cell(self, ref: str, text: str) -> str:
        number = self.index.setdefault(text, len(self.index))
        return f'<c r="{ref}" t="s"><v>{number}</v></c>'

    def xml(self) -> str:
        items = "".join(
            f'<si><t xml:space="preserve">{escape(text)}</t></si>' for text in self.index
        )
        count = len(self.index)
        return (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            f'count="{count}" uniqueCount="{count}">{items}</sst>'
        )


def _serial(moment: date | datetime) -> float:
    if isinstance(moment, datetime):
        delta = moment - datetime(1899, 12, 30)
        return delta.days + delta.seconds / 86_400
    return float((moment - _EXCEL_EPOCH).days)


def _letters(column: int) -> str:
    name = ""
    while column:
        column, remainder = divmod(column - 1, 26)
        name = chr(65 + remainder) + name
    return name


def _data_row(number: int, row: int, rnd: random.Random, strings: _SharedStrings) -> str:
    refs = [f"{_letters(c)}{row}" for c in range(1, COLUMNS + 1)]
    ordered = date(2024, 1, 1) + timedelta(days=number % 700)
    quantity = rnd.randint(1, 50)
    price = round(rnd.uniform(1, 500), 2)
    discount = rnd.choice((0.0, 0.05, 0.1, 0.15))
    created = datetime(2024, 1, 1, 8) + timedelta(minutes=number)
    cells = [
        f'<c r="{refs[0]}"><v>{number + 1}</v></c>',
        strings.cell(refs[1], f"Customer {number % 5000}"),
        strings.cell(refs[2], ("North", "South", "East", "West")[number % 4]),
        f'<c r="{refs[3]}" s="{_STYLE_DATE}"><v>{_serial(ordered):g}</v></c>',
        f'<c r="{refs[4]}" s="{_STYLE_DATE}"><v>{_serial(ordered) + 3:g}</v></c>',
        f'<c r="{refs[5]}"><v>{quantity}</v></c>',
        f'<c r="{refs[6]}"><v>{price!r}</v></c>',
        f'<c r="{refs[7]}" s="{_STYLE_PERCENT}"><v>{discount!r}</v></c>',
        f'<c r="{refs[8]}"><v>{quantity * price * (1 - discount)!r}</v></c>',  # float noise
        f'<c r="{refs[9]}" t="b"><v>{int(number % 3 == 0)}</v></c>',
        strings.cell(refs[10], ("Office", "Tech", "Furniture")[number % 3]),
        strings.cell(refs[11], f"Product {number % 777}"),
        strings.cell(refs[12], f"SKU-{number:07d}"),
        f'<c r="{refs[13]}"><v>{round(rnd.uniform(0.1, 30), 3)!r}</v></c>',
        f'<c r="{refs[14]}"><v>{rnd.randint(1, 5)}</v></c>',
        strings.cell(refs[15], "ok" if number % 10 else "  needs check "),
        f'<c r="{refs[16]}" s="{_STYLE_DATETIME}"><v>{_serial(created)!r}</v></c>',
        strings.cell(refs[17], ("low", "mid", "high")[number % 3]),
        f'<c r="{refs[18]}"><v>{rnd.random()!r}</v></c>',
        strings.cell(refs[19], ("web", "store", "phone")[number % 3]),
    ]
    return f'<row r="{row}">{"".join(cells)}</row>'


def write_workbook(path: Path) -> None:
    """Title, blank row, header, ROWS data rows, blank row, totals row."""
    rnd = random.Random(20261123)
    strings = _SharedStrings()
    rows = [
        f'<row r="1">{strings.cell("A1", "Orders export — 100,000 rows (provisional)")}</row>',
        '<row r="3">'
        + "".join(strings.cell(f"{_letters(c)}3", title) for c, title in enumerate(HEADER, 1))
        + "</row>",
    ]
    rows.extend(_data_row(n, n + 4, rnd, strings) for n in range(ROWS))
    last = ROWS + 3
    rows.append(
        f'<row r="{last + 2}">{strings.cell(f"A{last + 2}", "Total")}'
        f'<c r="I{last + 2}"><f>SUM(I4:I{last})</f><v>0</v></c></row>'
    )
    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="A1:T{last + 2}"/><sheetData>{"".join(rows)}</sheetData></worksheet>'
    )
    partial = path.with_suffix(".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in _PARTS.items():
            archive.writestr(name, text)
        archive.writestr("xl/sharedStrings.xml", strings.xml())
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
    partial.replace(path)


def workbook_path() -> tuple[Path, float]:
    """The benchmark workbook, written on first use; returns it and the seconds writing took."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    path = CACHE_DIR / f"orders_{ROWS}x{COLUMNS}_v{WORKBOOK_VERSION}.xlsx"
    if path.exists():
        return path, 0.0
    start = time.perf_counter()
    write_workbook(path)
    return path, time.perf_counter() - start


# ------------------------------------------------------------------------------ the two sides


def _ours(path: str) -> dict[str, float]:
    sys.path[:0] = [str(FUNCTION_DIR), str(ROOT / "layers" / "shared")]
    from excel_cleaner.rejection import Limits  # noqa: PLC0415
    from excel_cleaner.workbook import clean_workbook  # noqa: PLC0415

    data = Path(path).read_bytes()
    start, cpu = time.perf_counter(), time.process_time()
    workbook = clean_workbook(data, Limits())
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    [table] = workbook.tables
    assert table.sheet.rows == ROWS, table.sheet.rows
    assert len(table.sheet.columns) == COLUMNS
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_mb": peak_resident_mb(),
        "csv_bytes": len(table.sheet.csv),
    }


def _reader(path: str) -> dict[str, float]:
    """python-calamine alone, the floor of any cleaner built on it: the workbook opened, each
    sheet loaded and its rows iterated as Python values, nothing done with them."""
    from python_calamine import CalamineWorkbook  # noqa: PLC0415

    data = Path(path).read_bytes()
    start, cpu = time.perf_counter(), time.process_time()
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    rows = 0
    for name in book.sheet_names:
        for _ in book.get_sheet_by_name(name).iter_rows():
            rows += 1
    book.close()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    assert rows > ROWS, rows
    return {"seconds": seconds, "cpu_seconds": cpu, "peak_mb": peak_resident_mb()}


def _pandas(path: str) -> dict[str, float]:
    import pandas as pd  # type: ignore[import-untyped]  # noqa: PLC0415

    data = Path(path).read_bytes()
    start, cpu = time.perf_counter(), time.process_time()
    frames = pd.read_excel(io.BytesIO(data), sheet_name=None, engine="openpyxl", header=None)
    csvs = [
        frame.dropna(how="all").dropna(axis=1, how="all").to_csv(index=False).encode()
        for frame in frames.values()
    ]
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_mb": peak_resident_mb(),
        "csv_bytes": sum(map(len, csvs)),
    }


def _measure(side: str, path: Path) -> dict[str, float]:
    """One run of a side in a fresh interpreter; its JSON answer."""
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_excel_cleaner", side, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    answer: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return answer


# ------------------------------------------------------------------------------ package size


def _installed_bytes(distribution: str) -> int:
    files = metadata.distribution(distribution).files or []
    total = 0
    for file in files:
        located = Path(str(file.locate()))
        if located.is_file() and "__pycache__" not in located.parts:
            total += located.stat().st_size
    return total


def _code_bytes(folder: Path) -> int:
    return sum(
        path.stat().st_size
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    )


def package_mb() -> tuple[float, float]:
    """(python-calamine + our code, pandas stack), in MiB, as installed in this venv."""
    ours = _installed_bytes("python-calamine") + _code_bytes(FUNCTION_DIR)
    baseline = sum(_installed_bytes(name) for name in BASELINE_PACKAGES)
    return ours / 2**20, baseline / 2**20


def run() -> list[BenchResult]:
    path, written_s = workbook_path()
    size_mb = path.stat().st_size / 2**20
    print(
        f"excel_cleaner: {path.name} ({size_mb:.1f} MiB), "
        + (f"written in {written_s:.1f} s" if written_s else "cached")
    )
    ours, reader = [_measure("ours", path)], [_measure("reader", path)]
    baseline = _measure("pandas", path)
    for _ in range(OUR_RUNS - 1):  # interleaved: both sides see the same machine load
        ours.append(_measure("ours", path))
        reader.append(_measure("reader", path))
    ours_mb, baseline_mb = package_mb()
    ours_s = statistics.median(run["seconds"] for run in ours)
    reader_s = statistics.median(run["seconds"] for run in reader)
    print(
        "excel_cleaner: CPU seconds, ours "
        + ", ".join(f"{run['cpu_seconds']:.2f}" for run in ours)
        + "; calamine alone "
        + ", ".join(f"{run['cpu_seconds']:.2f}" for run in reader)
        + f"; pandas + openpyxl {baseline['cpu_seconds']:.2f}"
    )
    print(
        f"excel_cleaner: {ours_s / reader_s:.2f}x calamine's own read, "
        f"{baseline['seconds'] / ours_s:.1f}x faster than pandas + openpyxl"
    )
    return [
        BenchResult(
            name="excel_cleaner.seconds_100k_rows",
            value=ours_s,
            unit="s",
            better="lower",
            baseline=baseline["seconds"],
        ),
        BenchResult(name="excel_cleaner.reader_only_s", value=reader_s, unit="s", better="lower"),
        BenchResult(
            name="excel_cleaner.seconds_per_reader_second",
            value=ours_s / reader_s,
            unit="x",
            better="lower",
            baseline=baseline["seconds"] / reader_s,
        ),
        BenchResult(
            name="excel_cleaner.peak_mb",
            value=max(run["peak_mb"] for run in ours),
            unit="MB",
            better="lower",
            baseline=baseline["peak_mb"],
        ),
        BenchResult(
            name="excel_cleaner.package_mb",
            value=ours_mb,
            unit="MB",
            better="lower",
            baseline=baseline_mb,
        ),
    ]


if __name__ == "__main__":
    SIDES = {"ours": _ours, "reader": _reader, "pandas": _pandas}
    print(json.dumps(SIDES[sys.argv[1]](sys.argv[2])))
