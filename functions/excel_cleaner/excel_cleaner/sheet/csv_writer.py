"""Chunks of data rows → CSV text, formatted a column at a time (``column_text``), in the one
pass over the sheet; and what the chunks showed of the columns, for the caller to check its
plan against (``table``).

A chunk is transposed to columns. Each kept column is formatted by the types of its cells in
that chunk; a column becomes a *date-time column* at its first date-time (its dates are then
written at midnight), and the plain dates it wrote before are recorded (``plain_dates``): the
caller writes the sheet again, knowing, when there are any. Rows whose texts are all empty
(only spaces or error codes) are left out; a cleaning spec's types convert their columns. A
chunk whose text columns hold no comma, quote or line break is written with ``join``; the
others go through the csv module.

Seen on the way, for the plan's check: each column's cell types (``kinds``), which unnamed
columns hold anything (``unnamed_with_data``) and which columns hold dates typed as text
(``text_dates``).
"""

import csv
import io
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Final

from excel_cleaner.sheet.column_text import CellFormatter, CellFormatters, ColumnTexts
from excel_cleaner.sheet.rows import Row
from excel_cleaner.sheet.text_dates import TextDateScan
from excel_cleaner.specs import Converter
from excel_cleaner.values import Cell

CHUNK_ROWS: Final = 4096

_NEEDS_QUOTING: Final = (",", '"', "\n", "\r")
# Cell types whose text never holds one of those (text, and any other type, may).
_NEVER_QUOTED: Final = frozenset({float, int, bool, date, datetime, time, timedelta})


class CsvTable:
    """Formats chunks of data rows and writes them as CSV, header first."""

    def __init__(
        self,
        names: Sequence[str],
        keep: Sequence[int],
        converters: Sequence[Converter | None],
        *,
        width: int | None = None,
        date_times: Collection[int] = (),
        formatters: Mapping[int, Callable[[CellFormatter], CellFormatter]] | None = None,
        unnamed: Collection[int] = (),
    ) -> None:
        """``keep``: the sheet columns written, in order (``names`` theirs); ``date_times``: the
        output positions known to be date-time columns; ``formatters``: by output position, a
        formatter replacing the column's own, made from it (the text dates' ISO writer, handing
        other values to the column's); ``unnamed``: the sheet columns, not kept, whose data
        would change the plan (they are watched)."""
        self.cells = CellFormatters()
        self._keep = list(keep)
        self._width = width if width is not None else max(self._keep, default=-1) + 1
        self._columns = [ColumnTexts(self.cells) for _ in self._keep]
        self._replaced = dict(formatters or {})
        self._converters = list(converters)
        self._typed = any(converter is not None for converter in converters)
        self.date_times = set(date_times)
        self.kinds: list[set[type]] = [set() for _ in range(self._width)]
        self.plain_dates: set[int] = set()  # positions where a date was written as a date
        self.unnamed_with_data: set[int] = set()
        self._unnamed = list(unnamed)
        self.text_dates = TextDateScan(self._width)
        self._parts: list[bytes] = []  # UTF-8 already: the text is held once, as bytes
        self._csv = io.StringIO()
        self._writer = csv.writer(self._csv, lineterminator="\n")
        self._write_lines([tuple(names)], quoting=any(map(_needs_quoting, names)))
        self.rows = 0
        self.invalid = 0

    def write(self, chunk: Sequence[Row]) -> None:
        """Formats the rows (all at least as wide as the sheet) and writes those not left
        blank."""
        if not chunk:
            return
        columns = list(zip(*chunk, strict=False))
        kinds = [frozenset(map(type, column)) for column in columns[: self._width]]
        self._observe(columns, kinds)
        texts = [
            self._texts(position, columns[column], kinds[column])
            for position, column in enumerate(self._keep)
        ]
        lines = list(zip(*texts, strict=True))
        # Only spaces or error codes: blank after all. Judged before the spec's types apply.
        visible = list(map(any, lines))
        shown = all(visible)
        if self._typed:
            self._convert(columns, texts, visible)
            lines = list(zip(*texts, strict=True))
        if not shown:
            lines = [line for line, seen in zip(lines, visible, strict=True) if seen]
        # Only text (and what the spec's types write) may hold a comma, a quote, a line break.
        maybe_quoted = (
            position
            for position, column in enumerate(self._keep)
            if not kinds[column] <= _NEVER_QUOTED or self._converters[position] is not None
        )
        quoting = any(_needs_quoting("".join(texts[position])) for position in maybe_quoted)
        self._write_lines(lines, quoting=quoting)
        self.rows += len(lines)

    def _observe(
        self, columns: Sequence[tuple[Cell, ...]], kinds: Sequence[frozenset[type]]
    ) -> None:
        for column, found in enumerate(kinds):
            self.kinds[column] |= found
        if self._unnamed:
            rows = len(columns[0])
            self.unnamed_with_data.update(c for c in self._unnamed if columns[c].count("") != rows)
            self._unnamed = [c for c in self._unnamed if c not in self.unnamed_with_data]
        if self.text_dates.watching:
            self.text_dates.observe_columns(columns, kinds)

    def _texts(self, position: int, values: Sequence[Cell], kinds: frozenset[type]) -> list[str]:
        if datetime in kinds:
            self.date_times.add(position)
        date_time = position in self.date_times
        replaced = self._replaced.get(position)
        if replaced is not None:
            return list(map(replaced(self.cells.exact(kinds, date_time=date_time)), values))
        if not date_time and date in kinds:
            self.plain_dates.add(position)
        return self._columns[position].texts(values, kinds, date_time=date_time)

    def _convert(
        self, columns: Sequence[tuple[Cell, ...]], texts: list[list[str]], visible: list[bool]
    ) -> None:
        """Applies the spec's types in place; a value that does not convert is written empty
        and counted. (Blank was judged before: a row of invalid values is still a row.)"""
        for position, converter in enumerate(self._converters):
            if converter is None:
                continue
            values, column = texts[position], columns[self._keep[position]]
            for row, text in enumerate(values):
                if text and visible[row]:
                    converted = converter(column[row])
                    if converted is None:
                        self.invalid += 1
                    values[row] = converted or ""

    def _write_lines(self, lines: list[tuple[str, ...]], *, quoting: bool) -> None:
        if not lines:
            return
        if quoting:
            self._writer.writerows(lines)  # the csv module quotes what needs it
            self._parts.append(self._csv.getvalue().encode())
            self._csv.seek(0)
            self._csv.truncate()
        else:
            self._parts.append(("\n".join(map(",".join, lines)) + "\n").encode())

    def csv(self) -> bytes:
        """The CSV written so far, UTF-8."""
        return b"".join(self._parts)


def _needs_quoting(text: str) -> bool:
    return any(mark in text for mark in _NEEDS_QUOTING)
