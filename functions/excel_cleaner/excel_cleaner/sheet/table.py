"""One sheet's rows → a clean table → CSV text, in two passes over the rows.

The first pass reads the header window (``header``), then every data row for what the output
depends on (``data_scan``): the value types of each column, the blank rows, where the data ends
(the footer), which unnamed columns hold anything. The columns are then fixed (``columns``),
and the second pass formats and writes the rows, chunk by chunk (``csv_writer``). So nothing
but the CSV text is held: calamine keeps the sheet in Rust, and each pass only costs the
conversion of rows to Python lists. Values are written as ``excel_cleaner.values`` says; a
spec's ``types`` convert their columns instead; dates typed as text are written as dates where
the column fixes their meaning (``text_dates``).
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from itertools import count, islice

from excel_cleaner.sheet.columns import column_converters, final_names, kept_columns
from excel_cleaner.sheet.csv_writer import CHUNK_ROWS, CellFormatter, CsvTable
from excel_cleaner.sheet.data_scan import DataScan
from excel_cleaner.sheet.header import HeaderWindow, detect_layout, fixed_layout
from excel_cleaner.sheet.hidden import HiddenBlanker, HiddenCells
from excel_cleaner.sheet.merges import MergedRange, MergeFiller
from excel_cleaner.sheet.rows import Row, RowSource, pad
from excel_cleaner.sheet.text_dates import TextDateColumn, text_date_formatter
from excel_cleaner.specs import ColumnType, Converter, DateOrder


@dataclass(frozen=True, slots=True)
class SheetOverrides:
    """What a cleaning spec says about the sheet (see ``excel_cleaner.specs``)."""

    header_row: int | None = None
    renames: Mapping[str, str] = field(default_factory=dict)
    types: Mapping[str, ColumnType] = field(default_factory=dict)
    date_order: DateOrder | None = None


@dataclass(frozen=True, slots=True)
class CleanedSheet:
    sheet: str
    columns: tuple[str, ...]
    rows: int
    csv: bytes
    header_row: int | None  # Excel's row number of the (last) header row
    footer_rows: int  # trailing totals / footnotes dropped
    error_cells: int  # cells holding an Excel error code as text, written empty
    invalid_values: int  # values a spec type could not convert, written empty
    renames_used: frozenset[str] = frozenset()
    types_used: frozenset[str] = frozenset()
    text_date_columns: tuple[str, ...] = ()  # dates typed as text, written as ISO dates
    ambiguous_date_columns: tuple[str, ...] = ()  # text dates of no fixed order: left as text
    hidden_rows_dropped: int = 0  # hidden rows holding a value, dropped as the spec asked
    hidden_columns_dropped: int = 0


def clean_sheet(
    name: str,
    rows: RowSource,
    width: int,
    *,
    first_column: int = 0,
    merges: Sequence[MergedRange] = (),
    overrides: SheetOverrides | None = None,
    hidden: HiddenCells | None = None,
) -> CleanedSheet | None:
    """The sheet as a clean CSV table, or None when it holds no table.

    ``rows`` is called twice (two passes); ``first_column`` is the 0-based spreadsheet column
    of the rows' first cell (for ``column_<n>`` names); ``hidden``: the hidden rows and columns
    to drop (``hidden``).
    """
    overrides = overrides or SheetOverrides()
    if width <= 0:
        return None
    blanker = None
    if hidden:
        rows = blanker = HiddenBlanker(rows, hidden, width)
    # Pass 1: the header, then which columns hold data and where the data ends.
    source = iter(rows())
    skipped = hidden.rows if hidden else ()
    window = HeaderWindow(source, MergeFiller(merges, skipped), width)
    if overrides.header_row is not None:
        window.fill(until_index=overrides.header_row - 1 if overrides.header_row else None)
        layout = fixed_layout(overrides.header_row, window.rows, width)
    else:
        window.fill()
        layout = detect_layout(window.non_blank(), merges, width)
    if layout.data_start is None:
        return None
    unnamed = [c for c in range(width) if not layout.headers[c]]
    scan = DataScan(unnamed, named_columns=width - len(unnamed), width=width)
    for row in window.rows:
        if row.index >= layout.data_start:
            scan.add(row.index, row.filled)
    scan.add_rows(source, window.next_index, width, window.filler.apply if merges else None)

    keep = kept_columns(layout.headers, scan.unnamed_with_data, width)
    if hidden and hidden.columns:
        keep = [c for c in keep if c not in hidden.columns]
    if not keep:
        return None
    names, renames_used = final_names(
        [layout.headers[c] for c in keep],
        [first_column + c + 1 for c in keep],
        overrides.renames,
    )
    converters = column_converters(names, overrides.types)
    kinds = [scan.kinds(c) for c in keep]
    dated, ambiguous = scan.text_dates.decide(overrides.date_order)
    formatters = _text_date_writers(
        names, keep, kinds, dated, types=overrides.types, converters=converters
    )
    table = CsvTable(names, keep, kinds, converters, formatters)

    # Pass 2: format and write the data rows, a chunk at a time.
    _write_rows(
        table,
        rows(),
        filler=MergeFiller(merges, skipped) if merges else None,
        width=width,
        data_start=layout.data_start,
        scan=scan,
    )
    return CleanedSheet(
        sheet=name,
        columns=tuple(names),
        rows=table.rows,
        csv=table.text().encode("utf-8"),
        header_row=layout.header_rows[-1] + 1 if layout.header_rows else None,
        footer_rows=scan.footer_rows,
        error_cells=table.cells.errors,
        invalid_values=table.invalid,
        renames_used=frozenset(renames_used),
        types_used=frozenset(n for n in names if n in overrides.types),
        text_date_columns=tuple(names[p] for p in formatters),
        ambiguous_date_columns=tuple(names[p] for p, c in enumerate(keep) if c in ambiguous),
        hidden_rows_dropped=blanker.rows_with_values if blanker is not None else 0,
        hidden_columns_dropped=len(hidden.columns) if hidden else 0,
    )


def _text_date_writers(
    names: Sequence[str],
    keep: Sequence[int],
    kinds: Sequence[set[type]],
    dated: Mapping[int, TextDateColumn],
    *,
    types: Mapping[str, ColumnType],
    converters: list[Converter | None],
) -> dict[int, Callable[[CellFormatter], CellFormatter]]:
    """By output position, the ISO writer of each text-date column. A spec type other than
    date or datetime decides alone; with one of them the writer does the converting (its
    converter is removed from ``converters``: it does not read text dates)."""
    writers: dict[int, Callable[[CellFormatter], CellFormatter]] = {}
    for position, column in enumerate(keep):
        if column not in dated:
            continue
        spec_type = types.get(names[position])
        if spec_type is None:
            as_datetime = datetime in kinds[position] or dated[column].has_time
        elif spec_type in (ColumnType.DATE, ColumnType.DATETIME):
            as_datetime = spec_type is ColumnType.DATETIME
            converters[position] = None
        else:
            continue
        writers[position] = partial(
            text_date_formatter,
            replace(dated[column], has_time=as_datetime),
            as_datetime=as_datetime,
        )
    return writers


def _write_rows(
    table: CsvTable,
    rows: Iterable[Row],
    *,
    filler: MergeFiller | None,
    width: int,
    data_start: int,
    scan: DataScan,
) -> None:
    """Writes the rows the first pass found to be data (blank ones and the footer left out),
    merged ranges filled and short rows padded, CHUNK_ROWS at a time."""
    if data_start > scan.last_row:
        return
    if filler is not None:  # every row is filled: a merge may start above the data
        fill = filler.apply
        rows = (fill(index, row) for index, row in enumerate(rows))
    data = islice(rows, data_start, scan.last_row + 1)
    blank_rows = scan.blank_rows
    for start in count(data_start, CHUNK_ROWS):
        chunk = list(islice(data, CHUNK_ROWS))
        if not chunk:
            return
        if blank_rows and not blank_rows.isdisjoint(range(start, start + len(chunk))):
            chunk = [row for index, row in enumerate(chunk, start) if index not in blank_rows]
        if min(map(len, chunk), default=width) < width:
            chunk = [pad(row, width) for row in chunk]
        table.write(chunk)
