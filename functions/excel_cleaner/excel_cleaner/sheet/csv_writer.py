"""The second pass: data rows formatted (the same text as ``excel_cleaner.values.format_cell``,
only faster) and written as CSV, a few thousand rows at a time.

The first pass tells which value types each column holds (an empty cell is ``""``, a ``str``).
A column of a single type gets a formatter written in C — ``"{:.15g}".format`` for numbers,
``date.isoformat``, ``str.strip``... — so formatting a row is one ``map`` that never enters
Python code. What those get wrong shows up as a whole value (``nan``, ``inf``, ``-0``, an
Excel error code left by ``strip``), which a set test per chunk (then per row) catches; such
a row is then formatted value by value. Columns mixing types (numbers with empty cells,
date-times) use the value-by-value formatter. A chunk whose text holds no comma, quote or line
break is written with ``join``; the others go through the csv module.
"""

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from itertools import chain, repeat
from operator import call, itemgetter
from typing import Any, Final

from excel_cleaner.sheet.rows import Row
from excel_cleaner.specs import Converter
from excel_cleaner.values import (
    EXCEL_ERRORS,
    Cell,
    format_bool,
    format_cell,
    format_date_as_datetime,
    format_datetime,
    format_float,
)

CHUNK_ROWS: Final = 4096

type CellFormatter = Callable[[Any], str]

# Formatters written in C for columns of a single type, and the whole values they may get
# wrong: a row holding one is formatted again, value by value.
_IN_C: Final[dict[type, CellFormatter]] = {
    float: "{:.15g}".format,  # as format_float, except nan, inf and -0
    date: date.isoformat,
    bool: {True: "true", False: "false"}.__getitem__,
    int: str,
    str: str.strip,  # except that an Excel error code must be emptied
}
_SUSPECT_VALUES: Final = frozenset({"nan", "inf", "-inf", "-0"}) | EXCEL_ERRORS
_NEEDS_QUOTING: Final = (",", '"', "\n", "\r")


class CellFormatters:
    """Each column's formatter; counts the Excel error codes (typed as text) it empties."""

    def __init__(self) -> None:
        self.errors = 0

    def text(self, value: Cell) -> str:
        if value.__class__ is str:
            stripped: str = value.strip()
            if stripped[:1] == "#" and stripped in EXCEL_ERRORS:
                self.errors += 1
                return ""
            return stripped
        return format_cell(value)

    def any(self, value: Cell) -> str:
        return self.text(value) if value.__class__ is str else format_cell(value)

    def number(self, value: Cell) -> str:
        return format_float(value) if value.__class__ is float else self.text(value)

    def date_time(self, value: Cell) -> str:
        """In a column holding date-times, dates are written at midnight: one format."""
        if value.__class__ is datetime:
            return format_datetime(value)
        if value.__class__ is date:
            return format_date_as_datetime(value)
        return self.any(value)

    def fast(self, kinds: set[type]) -> CellFormatter:
        """The formatter for a column whose cells (in non-blank rows) are of these types."""
        if len(kinds) == 1:
            [kind] = kinds
            if kind in _IN_C:
                return _IN_C[kind]
        return self.exact(kinds)

    def exact(self, kinds: set[type]) -> CellFormatter:
        """Value by value, for the rows the fast formatters cannot be trusted with."""
        values = kinds - {str}
        if datetime in values:
            return self.date_time
        if values == {float}:
            return self.number
        if values == {bool}:
            return lambda value: format_bool(value) if value.__class__ is bool else self.text(value)
        return self.any


class CsvTable:
    """Formats chunks of data rows and writes them as CSV, header first."""

    def __init__(
        self,
        names: Sequence[str],
        keep: Sequence[int],
        kinds: Sequence[set[type]],
        converters: Sequence[Converter | None],
        formatters: Mapping[int, Callable[[CellFormatter], CellFormatter]] | None = None,
    ) -> None:
        """``formatters``: by output position, a formatter replacing the column's own, made
        from it (the text dates' ISO writer, handing other values to the column's)."""
        self.cells = CellFormatters()
        self._fast = [self.cells.fast(k) for k in kinds]
        self._exact = [self.cells.exact(k) for k in kinds]
        for position, make in (formatters or {}).items():
            self._fast[position] = self._exact[position] = make(self._exact[position])
        self._pick: Callable[[Row], Sequence[Cell]] | None = None
        if len(keep) == 1:
            only = keep[0]
            self._pick = lambda row: (row[only],)
        elif list(keep) != list(range(len(keep))):  # a prefix needs no picking: map stops
            self._pick = itemgetter(*keep)
        self._converters = converters
        self._typed = any(converter is not None for converter in converters)
        self._parts: list[str] = []
        self._csv = io.StringIO()
        self._writer = csv.writer(self._csv, lineterminator="\n")
        self._write_lines([list(names)])
        self.rows = 0
        self.invalid = 0

    def write(self, chunk: Sequence[Row]) -> None:
        """Formats the rows (all as wide as the sheet) and writes those not left blank."""
        fast, exact, pick = self._fast, self._exact, self._pick
        rows = [pick(raw) for raw in chunk] if pick is not None else chunk
        formatted = list(map(list, map(map, repeat(call), repeat(fast), rows)))
        if not _SUSPECT_VALUES.isdisjoint(chain.from_iterable(formatted)):
            for position, values in enumerate(formatted):
                if not _SUSPECT_VALUES.isdisjoint(values):
                    formatted[position] = list(map(call, exact, rows[position]))
        # Only spaces or error codes: blank after all. Judged before the spec's types apply.
        visible = list(map(any, formatted))
        if self._typed:
            for row, values, shown in zip(rows, formatted, visible, strict=True):
                if shown:
                    self._convert(row, values)
        lines = [values for values, shown in zip(formatted, visible, strict=True) if shown]
        self._write_lines(lines)
        self.rows += len(lines)

    def _convert(self, row: Sequence[Cell], values: list[str]) -> None:
        """Applies the spec's types in place; a value that does not convert is written empty
        and counted. (Blank was judged before: a row of invalid values is still a row.)"""
        for position, converter in enumerate(self._converters):
            if converter is not None and values[position]:
                converted = converter(row[position])
                if converted is None:
                    self.invalid += 1
                values[position] = converted or ""

    def _write_lines(self, lines: list[list[str]]) -> None:
        if not lines:
            return
        text = "".join(map("".join, lines))
        if any(mark in text for mark in _NEEDS_QUOTING):
            self._writer.writerows(lines)  # the csv module quotes what needs it
            self._parts.append(self._csv.getvalue())
            self._csv.seek(0)
            self._csv.truncate()
        else:
            self._parts.append("\n".join(map(",".join, lines)) + "\n")

    def text(self) -> str:
        return "".join(self._parts)
