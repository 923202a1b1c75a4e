"""One sheet's rows → a clean table → CSV text. Pure Python, two passes over the rows.

The rows are what python-calamine gives (``iter_rows``: every row from the sheet's first row,
every cell from its first used column, ``""`` for empty cells). Merged cells show their value
in every cell of the range, as Excel displays them (calamine gives it in the top-left cell
only). Then:

**Header row** (unless a cleaning spec gives ``header_row``). Among the first 50 non-blank
rows, with W = the most non-empty cells any of them has:

1. blank rows and formatting-only rows (no values) are skipped;
2. a *title* is a row with a single value (a merged range counts once) while the table is
   wider (W >= 2): skipped;
3. a *note* is a row that fills fewer than half of W's cells, or whose first value is text
   ending with ":" (``Prepared by:``, ``Region:``): skipped;
4. the header is the first remaining row whose values are mostly text (more than half; years
   such as 2026 and dates count as text: they are common column titles; text longer than 100
   characters does not: that is a sentence);
5. a header row holding a horizontally merged cell, directly followed by another mostly-text
   row, is a two-row header: the merged cell is the parent and each column's name is
   ``parent_child`` (``Q1`` over ``Jan``/``Feb`` → ``q1_jan``, ``q1_feb``); a cell merged down
   both rows (``Region``) keeps its own name.

No header row found → every column is ``column_<n>`` and the data starts at the first row that
is neither a title nor a note; a sheet without a header whose rows hold one value each is
notes (a "Read me" sheet), not a table, and is skipped.

**Data rows**: every row below the header. Blank rows are dropped. Trailing *footer* rows are
dropped: a row whose first value is ``total``, ``totals``, ``grand total`` or ``sum`` (any case,
optional colon) and whose other values are all numbers; and, after a blank row, a row with a
single text value (a footnote) when the table has at least two named columns. The same rows
in the middle of the table are data.

**Columns**: a column is dropped when it has neither a header nor any data value; a column with
a header and no values is kept, so the CSV's schema does not change when a column happens to be
empty in one upload. Names: see ``excel_cleaner.values`` (unique snake_case). A column holding
any date-time writes its plain dates at midnight too, so it has one format.

Values: see ``excel_cleaner.values``; a spec's ``types`` convert their columns instead.

**Two passes**, so nothing but the CSV text is held: the first reads the header window, then
every data row for what the output depends on — the value types of each column, the blank
rows, where the data ends (the footer), which unnamed columns hold anything; the second
(``excel_cleaner.columns``) formats and writes the rows, chunk by chunk. calamine keeps the
sheet in Rust, so each pass only costs the conversion of rows to Python lists.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import count, islice
from typing import Final

from excel_cleaner.columns import CHUNK_ROWS, CsvTable
from excel_cleaner.specs import CONVERTERS, ColumnType, Converter
from excel_cleaner.values import (
    EXCEL_ERRORS,
    Cell,
    format_cell,
    snake_case,
    unique_names,
)

WINDOW_ROWS: Final = 50
MAX_HEADER_CHARS: Final = 100
TOTAL_WORDS: Final = frozenset({"total", "totals", "grand total", "sum"})
_YEAR_RANGE: Final = (1900, 2100)
_TEXT_EDGES: Final = frozenset(" \t\n\r\x0b\x0c\xa0\u3000#")
_WRITE_BATCH: Final = 5000

type Row = Sequence[Cell]
type Fill = Callable[[int, Row], Row]
type RowSource = Callable[[], Iterable[Row]]


@dataclass(frozen=True, slots=True)
class MergedRange:
    """A merged range, 0-based and inclusive; columns as in the rows handed over."""

    first_row: int
    first_col: int
    last_row: int
    last_col: int


@dataclass(frozen=True, slots=True)
class SheetOverrides:
    """What a cleaning spec says about the sheet (see ``excel_cleaner.specs``)."""

    header_row: int | None = None
    renames: Mapping[str, str] = field(default_factory=dict)
    types: Mapping[str, ColumnType] = field(default_factory=dict)


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


class HeaderRowMissingError(ValueError):
    """The spec's header row is below the sheet's last row."""


# ------------------------------------------------------------------------------ merged cells


class MergeFiller:
    """Gives every cell of a merged range its top-left value, row by row in sheet order."""

    def __init__(self, merges: Iterable[MergedRange]) -> None:
        self._starting: dict[int, list[MergedRange]] = defaultdict(list)
        for merge in merges:
            self._starting[merge.first_row].append(merge)
        self._active: list[tuple[MergedRange, Cell]] = []

    def apply(self, index: int, row: Row) -> Row:
        if not self._active and not self._starting:
            return row
        for merge in self._starting.pop(index, ()):
            value = row[merge.first_col] if merge.first_col < len(row) else ""
            if value != "":
                self._active.append((merge, value))
        if not self._active:
            return row
        filled = list(row)
        live: list[tuple[MergedRange, Cell]] = []
        for merge, value in self._active:
            if merge.last_row < index:
                continue
            live.append((merge, value))
            for column in range(merge.first_col, min(merge.last_col, len(filled) - 1) + 1):
                filled[column] = value
        self._active = live
        return filled


# ------------------------------------------------------------------------------ row shapes


def value_columns(row: Row) -> list[int]:
    """Indexes of the cells holding a value (text of only spaces or an error code holds none)."""
    columns: list[int] = []
    for index, value in enumerate(row):
        if value.__class__ is str:
            if not value:
                continue
            if value[0] in _TEXT_EDGES or value[-1] in _TEXT_EDGES:
                stripped = value.strip()
                if not stripped or (stripped[0] == "#" and stripped in EXCEL_ERRORS):
                    continue
        columns.append(index)
    return columns


def _is_text_like(value: Cell) -> bool:
    if isinstance(value, str):
        return len(value) <= MAX_HEADER_CHARS  # a sentence is a note, not a column title
    if isinstance(value, date):
        return True
    if isinstance(value, float | int) and not isinstance(value, bool):
        return float(value).is_integer() and _YEAR_RANGE[0] <= value <= _YEAR_RANGE[1]
    return False


@dataclass(frozen=True, slots=True)
class _Shape:
    """How a row looks, for finding the header."""

    index: int
    stored: int  # cells with a value as stored: a merged range counts once
    shown: int  # cells showing a value once merged ranges are filled
    text_like: int  # of the stored values, text, years and dates
    first: Cell

    @classmethod
    def of(cls, index: int, raw: Row, filled: Row) -> "_Shape":
        stored = value_columns(raw)
        shown = value_columns(filled)
        return cls(
            index=index,
            stored=len(stored),
            shown=len(shown),
            text_like=sum(_is_text_like(raw[column]) for column in stored),
            first=raw[stored[0]] if stored else "",
        )

    def is_title(self, widest: int) -> bool:
        return self.stored == 1 and widest >= 2

    def is_note(self, widest: int) -> bool:
        first = self.first
        labelled = isinstance(first, str) and first.strip().endswith(":")
        return self.shown * 2 < widest or labelled

    def is_mostly_text(self) -> bool:
        return self.text_like * 2 > self.stored


@dataclass(frozen=True, slots=True)
class _WindowRow:
    index: int
    raw: Row
    filled: Row
    blank: bool = False


@dataclass(frozen=True, slots=True)
class HeaderLayout:
    """Where the table starts: its header rows (absolute, 0-based) and first data row."""

    header_rows: tuple[int, ...]
    data_start: int | None  # None: the sheet holds no table (titles and notes only)
    headers: tuple[str, ...]  # header text per column ('' where none)


def _header_texts(rows: Sequence[Row], width: int) -> tuple[str, ...]:
    texts: list[str] = []
    for column in range(width):
        parts: list[str] = []
        for row in rows:
            text = format_cell(row[column]) if column < len(row) else ""
            if text and text not in parts:  # a cell merged down both rows names itself once
                parts.append(text)
        texts.append(" ".join(parts))
    return tuple(texts)


def detect_layout(
    window: Sequence[_WindowRow], merges: Sequence[MergedRange], width: int
) -> HeaderLayout:
    """Finds the header among the window's (non-blank) rows; see the module docstring."""
    shapes = [_Shape.of(row.index, row.raw, row.filled) for row in window]
    widest = max((shape.shown for shape in shapes), default=0)
    body = [s for s in shapes if not s.is_title(widest) and not s.is_note(widest)]
    header = next((s for s in body if s.is_mostly_text()), None)
    if header is None:
        # One value per row and no header: notes (a "Read me" sheet), not a table.
        table = body and widest > 1
        return HeaderLayout((), body[0].index if table else None, ("",) * width)
    position = next(k for k, row in enumerate(window) if row.index == header.index)
    header_rows = [window[position]]
    parent_merged = any(m.first_row == header.index and m.last_col > m.first_col for m in merges)
    if parent_merged and position + 1 < len(window):
        below = window[position + 1]
        below_shape = shapes[position + 1]
        if below.index == header.index + 1 and below_shape.is_mostly_text():
            header_rows.append(below)
    last = header_rows[-1].index
    return HeaderLayout(
        tuple(row.index for row in header_rows),
        last + 1,
        _header_texts([row.filled for row in header_rows], width),
    )


def fixed_layout(header_row: int, rows: Sequence[_WindowRow], width: int) -> HeaderLayout:
    """The spec's header row (1-based), whatever the heuristics would say."""
    index = header_row - 1
    row = next((r for r in rows if r.index == index), None)
    if row is None:
        raise HeaderRowMissingError(f"header_row {header_row} is below the sheet's last row")
    return HeaderLayout((index,), index + 1, _header_texts([row.filled], width))


# ------------------------------------------------------------------------------ data scan


def _is_total_label(value: Cell) -> bool:
    if value.__class__ is not str or len(value) > 20:
        return False
    return value.strip().casefold().rstrip(":").strip() in TOTAL_WORDS


class _DataScan:
    """First pass over the data rows: where the data ends, which unnamed columns hold data,
    which value types each column holds, and the footer rows.

    Kept cheap (it sees every row): per row one tuple of the cells' types, one ``any``, and a
    look at the first value; text cells that hold only spaces or an error code count as values
    here and are emptied by the second pass, which drops a row left blank.
    """

    def __init__(self, unnamed: Sequence[int], named_columns: int) -> None:
        self.rows = 0
        self.last_row = -1
        self.signatures: set[tuple[type, ...]] = set()
        self.blank_rows: set[int] = set()
        self.unnamed_with_data: set[int] = set()
        self._unnamed = [c for c in unnamed]
        self._pending: list[tuple[Row, tuple[type, ...]]] = []
        self._blank_since_data = False
        self._footnotes_possible = named_columns >= 2
        self._all_text: dict[tuple[type, ...], bool] = {}

    @property
    def footer_rows(self) -> int:
        return len(self._pending)

    def kinds(self, column: int) -> set[type]:
        """The types of the column's values (``str`` includes empty cells)."""
        return {signature[column] for signature in self.signatures}

    def add(self, index: int, row: Row) -> None:
        # The hot loop of the first pass: the common case (a data row) is inlined.
        signature = tuple(map(type, row))
        all_text = self._all_text.get(signature)
        if all_text is None:
            all_text = self._all_text[signature] = all(kind is str for kind in signature)
        # A row of text cells is blank when they are all empty (checked in C) or only spaces.
        if all_text and (not any(row) or not "".join(row).strip()):  # type: ignore[arg-type]
            self.blank_rows.add(index)
            self._blank_since_data = True
            return
        # A footer's first value is text: a row starting with another value is data.
        if row[0].__class__ is str and self._is_footer(row):
            self._pending.append((row, signature))
            return
        if self._pending:  # footer-like rows inside the table are data
            for pending in self._pending:
                self._count(*pending)
            self._pending.clear()
        self.rows += 1
        self.signatures.add(signature)
        if self._unnamed:
            self._note_unnamed(row)
        self.last_row = index
        self._blank_since_data = False

    def add_rows(self, rows: Iterable[Row], start: int, width: int, fill: Fill | None) -> None:
        """``add`` for every row, ``start`` being the first one's index; the common case (a row
        of data that cannot be a footer, with nothing to watch) stays in this loop."""
        signatures, all_text = self.signatures, self._all_text
        for index, raw in enumerate(rows, start):
            row = raw if len(raw) >= width else _pad(raw, width)
            if fill is not None:
                row = fill(index, row)
            signature = tuple(map(type, row))
            first = row[0]
            if (
                all_text.get(signature, True)  # text only (maybe blank), or not seen yet
                or (first.__class__ is str and (self._blank_since_data or _is_total_label(first)))
                or first == ""
                or self._pending
                or self._unnamed
            ):
                self.add(index, row)
                continue
            signatures.add(signature)
            self.rows += 1
            self.last_row = index
            self._blank_since_data = False

    def _count(self, row: Row, signature: tuple[type, ...]) -> None:
        self.rows += 1
        self.signatures.add(signature)
        if self._unnamed:
            self._note_unnamed(row)

    def _note_unnamed(self, row: Row) -> None:
        found = [c for c in self._unnamed if row[c] != ""]
        if found:
            self.unnamed_with_data.update(found)
            self._unnamed = [c for c in self._unnamed if c not in self.unnamed_with_data]

    def _is_footer(self, row: Row) -> bool:
        first = row[0]
        if first == "":
            first = next((value for value in row if value != ""), "")
        if _is_total_label(first):
            values = [value for value in row if value != ""]
            return all(value.__class__ is float or value.__class__ is int for value in values[1:])
        if not (self._blank_since_data and self._footnotes_possible):
            return False
        return first.__class__ is str and sum(1 for value in row if value != "") == 1


# ------------------------------------------------------------------------------ the sheet


def _pad(row: Row, width: int) -> Row:
    return row if len(row) >= width else [*row, *([""] * (width - len(row)))]


def _final_names(
    headers: Sequence[str],
    column_numbers: Sequence[int],
    renames: Mapping[str, str],
) -> tuple[list[str], set[str]]:
    """Unique snake_case names, with the spec's renames (matched on header text or name).

    A renamed column gets exactly its new name; another column that would have the same name
    gets a suffix instead.
    """
    bases = [snake_case(h) or f"column_{n}" for h, n in zip(headers, column_numbers, strict=True)]
    automatic = unique_names(bases)
    used: set[str] = set()
    fixed: dict[int, str] = {}
    for position, (header, name) in enumerate(zip(headers, automatic, strict=True)):
        for key in (header.strip(), name):
            if key and key in renames:
                fixed[position] = renames[key]
                used.add(key)
                break
    natural = {base for position, base in enumerate(bases) if position not in fixed}
    seen = set(fixed.values())
    names: list[str] = []
    for position, base in enumerate(bases):
        if position in fixed:
            names.append(fixed[position])
            continue
        candidate = base
        if candidate in seen:
            number = 2
            while f"{base}_{number}" in seen or f"{base}_{number}" in natural:
                number += 1
            candidate = f"{base}_{number}"
        seen.add(candidate)
        names.append(candidate)
    return names, used


class _Window:
    """Reads the first rows of a pass: up to WINDOW_ROWS non-blank ones for the header search
    (blank ones are kept too, flagged, so the data scan still sees them)."""

    def __init__(self, rows: Iterator[Row], filler: MergeFiller, width: int) -> None:
        self.rows: list[_WindowRow] = []
        self.filler = filler
        self._source = rows
        self._width = width
        self.next_index = 0

    def non_blank(self) -> list[_WindowRow]:
        return [row for row in self.rows if not row.blank]

    def fill(self, until_index: int | None = None) -> None:
        """Reads rows up to ``until_index``, or until WINDOW_ROWS non-blank rows are read."""
        non_blank = 0
        for raw in self._source:
            index = self.next_index
            self.next_index += 1
            raw_row = _pad(raw, self._width)
            filled = self.filler.apply(index, raw_row)
            blank = not value_columns(filled)
            self.rows.append(_WindowRow(index, raw_row, filled, blank))
            non_blank += not blank
            if until_index is not None:
                if index >= until_index:
                    return
            elif non_blank >= WINDOW_ROWS:
                return


def clean_sheet(
    name: str,
    rows: RowSource,
    width: int,
    *,
    first_column: int = 0,
    merges: Sequence[MergedRange] = (),
    overrides: SheetOverrides | None = None,
) -> CleanedSheet | None:
    """The sheet as a clean CSV table, or None when it holds no table.

    ``rows`` is called twice (two passes); ``first_column`` is the 0-based spreadsheet column
    of the rows' first cell (for ``column_<n>`` names).
    """
    overrides = overrides or SheetOverrides()
    if width <= 0:
        return None
    # Pass 1: the header, then which columns hold data and where the data ends.
    source = iter(rows())
    window = _Window(source, MergeFiller(merges), width)
    if overrides.header_row is not None:
        window.fill(until_index=overrides.header_row - 1)
        layout = fixed_layout(overrides.header_row, window.rows, width)
    else:
        window.fill()
        layout = detect_layout(window.non_blank(), merges, width)
    if layout.data_start is None:
        return None
    unnamed = [c for c in range(width) if not layout.headers[c]]
    scan = _DataScan(unnamed, named_columns=width - len(unnamed))
    for row in window.rows:
        if row.index >= layout.data_start:
            scan.add(row.index, row.filled)
    scan.add_rows(source, window.next_index, width, window.filler.apply if merges else None)

    keep = [c for c in range(width) if layout.headers[c] or c in scan.unnamed_with_data]
    if not keep:
        return None
    names, renames_used = _final_names(
        [layout.headers[c] for c in keep],
        [first_column + c + 1 for c in keep],
        overrides.renames,
    )
    converters: list[Converter | None] = [
        CONVERTERS[overrides.types[n]] if n in overrides.types else None for n in names
    ]
    table = CsvTable(names, keep, [scan.kinds(c) for c in keep], converters)

    # Pass 2: format and write the data rows, a chunk at a time.
    _write_rows(table, rows(), merges=merges, width=width, data_start=layout.data_start, scan=scan)
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
    )


def _write_rows(
    table: CsvTable,
    rows: Iterable[Row],
    *,
    merges: Sequence[MergedRange],
    width: int,
    data_start: int,
    scan: _DataScan,
) -> None:
    """Writes the rows the first pass found to be data (blank ones and the footer left out),
    merged ranges filled and short rows padded, CHUNK_ROWS at a time."""
    if data_start > scan.last_row:
        return
    if merges:  # every row is filled: a merge may start above the data
        fill = MergeFiller(merges).apply
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
            chunk = [_pad(row, width) for row in chunk]
        table.write(chunk)
