"""Where a sheet's table starts: its header row (or two), found among the first rows.

Unless a cleaning spec gives ``header_row`` (``fixed_layout``), among the first 50 non-blank
rows, with W = the most non-empty cells any of them has (merged ranges filled):

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

6. a row found by 4. is data after all, not a header, when it holds a value no column title
   is — a fraction, a boolean, a time — and the rows below hold the same type in that column
   (``Alice | 1.5 | Paris`` over ``Bob | 2.5 | Lyon``), or when it is the sheet's only row and
   holds a number. A whole number may title a column (``18 | 65`` age bands), so
   ``Alice | 30 | Paris`` over ``Bob | 40 | Lyon`` keeps its first row as the header, as a
   sheet of text only does: a cleaning spec's ``header_row: 0`` says there is none.

No header row found → every column is ``column_<n>`` and the data starts at the first row that
is neither a title nor a note. A sheet without a header whose rows hold one value each is notes
(a "Read me" sheet), not a table, and is skipped — unless those values are mostly numbers,
dates or booleans: a one-column list (of ids, amounts...) is a table. A sheet of text only,
with no header, cannot be told from one with a header: a cleaning spec's ``header_row: 0``
says there is none.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Final

from excel_cleaner.sheet.merges import MergedRange, MergeFiller
from excel_cleaner.sheet.rows import Row, pad, value_columns
from excel_cleaner.values import Cell, format_cell

WINDOW_ROWS: Final = 50
MAX_HEADER_CHARS: Final = 100
_YEAR_RANGE: Final = (1900, 2100)


class HeaderRowMissingError(ValueError):
    """The spec's header row is below the sheet's last row."""


def _is_data_only(value: Cell) -> bool:
    """A value that is not text: a number other than a year, a boolean, a time."""
    if value == "" or _is_text_like(value):
        return False
    return not isinstance(value, str)


def _is_never_a_title(value: Cell) -> bool:
    """A value no column title is: a fraction, a boolean, a time or a duration (a whole number
    may title a column: an age band, a scale point)."""
    if isinstance(value, float):
        return not value.is_integer()
    return isinstance(value, bool | time | timedelta)


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
class WindowRow:
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
    window: Sequence[WindowRow], merges: Sequence[MergedRange], width: int
) -> HeaderLayout:
    """Finds the header among the window's (non-blank) rows; see the module docstring."""
    shapes = [_Shape.of(row.index, row.raw, row.filled) for row in window]
    widest = max((shape.shown for shape in shapes), default=0)
    body = [s for s in shapes if not s.is_title(widest) and not s.is_note(widest)]
    header = next((s for s in body if s.is_mostly_text()), None)
    position = 0
    if header is not None:
        position = next(k for k, row in enumerate(window) if row.index == header.index)
        if _is_data_row(window[position].raw, window[position + 1 :]):
            header = None
    if header is None:
        return _headerless(window, body, widest, width)
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


_ROWS_COMPARED: Final = 10


def _is_data_row(candidate: Row, below: Sequence[WindowRow]) -> bool:
    """Rule 6: the header candidate holds values no title is, as the rows below do; or, the
    last row, a value that is not text."""
    following = [row.raw for row in below[:_ROWS_COMPARED]]
    if not following:
        return any(map(_is_data_only, candidate))
    columns = [c for c, value in enumerate(candidate) if _is_never_a_title(value)]
    if not columns:
        return False
    for column in columns:
        kind = type(candidate[column])
        kinds = [type(row[column]) for row in following if row[column] != ""]
        numeric = {int, float}
        same = [k for k in kinds if k is kind or (kind in numeric and k in numeric)]
        if kinds and len(same) * 2 > len(kinds):
            return True
    return False


def _holds_data_values(row: Row) -> bool:
    return any(_is_data_only(value) or isinstance(value, date) for value in row)


def _headerless(
    window: Sequence[WindowRow], body: Sequence["_Shape"], widest: int, width: int
) -> HeaderLayout:
    """No header: the data starts at the first body row. One value per row is notes (a "Read
    me" sheet), not a table, unless the values are mostly data values (a list of ids)."""
    table = bool(body) and (
        widest > 1 or sum(map(_holds_data_values, (row.raw for row in window))) * 2 > len(window)
    )
    return HeaderLayout((), body[0].index if table else None, ("",) * width)


def fixed_layout(header_row: int, rows: Sequence[WindowRow], width: int) -> HeaderLayout:
    """The spec's header row (1-based), whatever the heuristics would say; 0: no header, the
    data starts at the first row."""
    if header_row == 0:
        first = next((r.index for r in rows if not r.blank), None)
        return HeaderLayout((), first, ("",) * width)
    index = header_row - 1
    row = next((r for r in rows if r.index == index), None)
    if row is None:
        raise HeaderRowMissingError(f"header_row {header_row} is below the sheet's last row")
    return HeaderLayout((index,), index + 1, _header_texts([row.filled], width))


class HeaderWindow:
    """Reads the first rows of a pass: up to WINDOW_ROWS non-blank ones for the header search
    (blank ones are kept too, flagged, so the data scan still sees them)."""

    def __init__(self, rows: Iterator[Row], filler: MergeFiller, width: int) -> None:
        self.rows: list[WindowRow] = []
        self.filler = filler
        self._source = rows
        self._width = width
        self.next_index = 0

    def non_blank(self) -> list[WindowRow]:
        return [row for row in self.rows if not row.blank]

    def fill(self, until_index: int | None = None) -> None:
        """Reads rows up to ``until_index``, or until WINDOW_ROWS non-blank rows are read."""
        non_blank = 0
        for raw in self._source:
            index = self.next_index
            self.next_index += 1
            raw_row = pad(raw, self._width)
            filled = self.filler.apply(index, raw_row)
            blank = not value_columns(filled)
            self.rows.append(WindowRow(index, raw_row, filled, blank))
            non_blank += not blank
            if until_index is not None:
                if index >= until_index:
                    return
            elif non_blank >= WINDOW_ROWS:
                return
