"""One sheet's rows → a clean table → CSV text, in one pass over the rows where it can be.

The pass reads the header window (``header``: a bounded prefix) and makes a plan from it: the
kept columns (``columns``; the unnamed ones holding data in the window), their names and the
spec's types. The data rows (``data_rows``: blank rows and the footer left out) are then
formatted and written as they are read, a chunk at a time (``csv_writer``), while the writer
notes what the plan could not know: which unnamed columns hold data further down, which
columns hold date-times (their dates are written at midnight), which hold dates typed as text
(``text_dates``). When the whole sheet bears the plan out, the text is done; else (data in an
unnamed column below the window, a date-time below plain dates in a column, dates typed as
text) the rows are read and written a second time with the plan the sheet calls for. Besides
the header window's rows, only the CSV text is held (calamine keeps the sheet in Rust). Values
are written as ``excel_cleaner.values`` says; a spec's ``types`` convert their columns instead.
"""

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from itertools import chain, count, islice

from excel_cleaner.sheet.column_text import CellFormatter
from excel_cleaner.sheet.columns import column_converters, final_names, kept_columns
from excel_cleaner.sheet.csv_writer import CHUNK_ROWS, CsvTable
from excel_cleaner.sheet.data_rows import DataRows
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

    ``rows`` is called once, or twice when the sheet proves the first plan wrong (see the
    module docstring); ``first_column`` is the 0-based spreadsheet column of the rows' first
    cell (for ``column_<n>`` names); ``hidden``: the hidden rows and columns to drop
    (``hidden``).
    """
    overrides = overrides or SheetOverrides()
    if width <= 0:
        return None
    blanker = None
    if hidden:
        rows = blanker = HiddenBlanker(rows, hidden, width)
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
    data_start = layout.data_start
    unnamed = [c for c in range(width) if not layout.headers[c]]
    # The first plan keeps the unnamed columns holding data in the window.
    in_window = [row.filled for row in window.rows if row.index >= data_start]
    with_data = {c for c in unnamed if any(row[c] != "" for row in in_window)}
    planner = _Planner(layout.headers, first_column, overrides, hidden)
    plan = planner.plan(with_data)
    rest = _blocks(source, width, window.filler if merges else None, window.next_index)
    blocks = chain(_blocks(iter(in_window), width, None, 0), rest)
    table, data = _write(plan, blocks, unnamed, width)
    plan, rewrite = planner.checked(plan, table)
    if rewrite:  # the sheet proved the first plan wrong: written again, knowing
        del table, data  # the first text is let go before the second is written
        # Every row is filled again: a merge may start above the data.
        again = _blocks(iter(rows()), width, MergeFiller(merges, skipped) if merges else None, 0)
        table, data = _write(plan, _from_row(again, data_start), unnamed, width)
    if not plan.keep:
        return None
    return CleanedSheet(
        sheet=name,
        columns=tuple(plan.names),
        rows=table.rows,
        csv=table.csv(),
        header_row=layout.header_rows[-1] + 1 if layout.header_rows else None,
        footer_rows=data.footer_rows,
        error_cells=table.cells.errors,
        invalid_values=table.invalid,
        renames_used=frozenset(plan.renames_used),
        types_used=frozenset(n for n in plan.names if n in overrides.types),
        text_date_columns=tuple(plan.names[p] for p in plan.formatters),
        ambiguous_date_columns=tuple(
            plan.names[p] for p, c in enumerate(plan.keep) if c in plan.ambiguous
        ),
        hidden_rows_dropped=blanker.rows_with_values if blanker is not None else 0,
        hidden_columns_dropped=len(hidden.columns) if hidden else 0,
    )


@dataclass(frozen=True, slots=True)
class _Plan:
    """What the writing needs to know of the sheet's columns: guessed from the header window
    first, then as the whole sheet shows them (``_Planner.checked``)."""

    keep: list[int]  # sheet columns, in order; none: the sheet holds no table
    names: list[str]
    renames_used: set[str]
    converters: list[Converter | None]
    date_times: frozenset[int] = frozenset()  # output positions holding date-times
    formatters: dict[int, Callable[[CellFormatter], CellFormatter]] = field(default_factory=dict)
    ambiguous: frozenset[int] = frozenset()  # sheet columns of text dates of no fixed order


@dataclass(frozen=True, slots=True)
class _Planner:
    """Plans from what is known of the sheet's columns: their headers, and what the spec and
    the hidden columns say."""

    headers: Sequence[str]
    first_column: int
    overrides: SheetOverrides
    hidden: HiddenCells | None

    def plan(self, with_data: Collection[int]) -> _Plan:
        """The kept columns (``with_data``: the unnamed ones holding data), their names and
        the spec's types for them."""
        headers, hidden = self.headers, self.hidden
        keep = kept_columns(headers, with_data, len(headers))
        if hidden and hidden.columns:
            keep = [c for c in keep if c not in hidden.columns]
        names, renames_used = final_names(
            [headers[c] for c in keep],
            [self.first_column + c + 1 for c in keep],
            self.overrides.renames,
        )
        return _Plan(keep, names, renames_used, column_converters(names, self.overrides.types))

    def checked(self, plan: _Plan, table: CsvTable) -> tuple[_Plan, bool]:
        """The plan the whole sheet calls for, and whether the text ``table`` wrote with
        ``plan`` must be written again with it: other unnamed columns hold data, a date-time
        column had dates written as plain dates, or dates typed as text are to be converted."""
        final = self.plan(table.unnamed_with_data)
        dated, ambiguous = table.text_dates.decide(self.overrides.date_order)
        kinds = [table.kinds[c] for c in final.keep]
        types = self.overrides.types
        writers = _text_date_writers(
            final.names, final.keep, kinds, dated, types=types, converters=final.converters
        )
        date_times = frozenset(p for p, found in enumerate(kinds) if datetime in found)
        rewrite = bool(final.keep) and (
            final.keep != plan.keep or bool(writers) or not table.plain_dates.isdisjoint(date_times)
        )
        final = replace(
            final, date_times=date_times, formatters=writers, ambiguous=frozenset(ambiguous)
        )
        return final, rewrite


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


def _blocks(
    rows: Iterator[Row], width: int, filler: MergeFiller | None, start: int
) -> Iterator[list[Row]]:
    """The rows, CHUNK_ROWS at a time, padded to ``width``, merged ranges filled (``start``:
    the first one's index)."""
    for first in count(start, CHUNK_ROWS):
        block = list(islice(rows, CHUNK_ROWS))
        if not block:
            return
        if min(map(len, block)) < width:
            block = [pad(row, width) for row in block]
        if filler is not None:
            block = list(map(filler.apply, count(first), block))
        yield block


def _from_row(blocks: Iterable[list[Row]], start: int) -> Iterator[list[Row]]:
    """The blocks' rows from index ``start`` on."""
    seen = 0
    for block in blocks:
        if seen + len(block) > start:
            yield block[max(start - seen, 0) :]
        seen += len(block)


def _write(
    plan: _Plan, blocks: Iterable[list[Row]], unnamed: Collection[int], width: int
) -> tuple[CsvTable, DataRows]:
    """The data rows among the rows of ``blocks`` (those below the header), written with ``plan``;
    ``unnamed``: the columns without a header (watched for data)."""
    table = CsvTable(
        plan.names,
        plan.keep,
        plan.converters,
        width=width,
        date_times=plan.date_times,
        formatters=plan.formatters,
        unnamed=unnamed,
    )
    data = DataRows(named_columns=width - len(unnamed))
    for chunk in data.chunks(blocks):
        table.write(chunk)
    return table, data
