"""A column of a chunk of rows → its CSV texts: what ``excel_cleaner.values.format_cell`` gives
value by value, a column at a time, with no Python code run per cell where the column's cells
are of one type.

A column of one type gets a formatter written in C (``"{:.15g}".format`` for numbers,
``date.isoformat``, ``str.strip``...) mapped over it. What those get wrong shows up in the
column's texts as a whole: ``nan``, ``inf``, ``-0`` (numbers), an Excel error code (text, found
by a ``#``), a date-time with a fraction of a second (longer than 19 characters); the column is
then formatted value by value. A date-time column may hold dates too: calamine gives a midnight
as a date. A column of numbers or dates with few distinct values (the
quantity, the discount, the day) formats each distinct value once. Columns mixing types
(numbers with empty cells) are formatted value by value.

In a *date-time column* (one holding any date-time) plain dates are written at midnight, so the
column has one format; which columns those are is decided by the caller (``csv_writer``).
"""

from collections.abc import Callable, Sequence
from datetime import date, datetime
from functools import partial
from itertools import repeat
from operator import methodcaller
from typing import Any, Final

from excel_cleaner.values import (
    EXCEL_ERRORS,
    Cell,
    format_bool,
    format_cell,
    format_date_as_datetime,
    format_datetime,
    format_float,
)

type CellFormatter = Callable[[Any], str]

_FLOAT_TEXT: Final = "{:.15g}".format  # format_float's text, except for nan, inf and -0
_FLOAT_SUSPECTS: Final = frozenset({"nan", "inf", "-inf", "-0"})
_BOOL_TEXT: Final = {True: "true", False: "false"}.__getitem__
_ISO_FORMAT: Final = methodcaller("isoformat")  # a date's or a date-time's own, in C
_DATE_TIME_LENGTH: Final = len("2025-12-31T23:59:59")
_DATE_TYPES: Final = frozenset({date, datetime})
_MIDNIGHT: Final = "T00:00:00"
# Distinct values at most this share of a column: each distinct value is formatted once.
_MEMO_SHARE: Final = 4
_MEMO_RETRY: Final = 16  # a column found to have many values is looked at every 16th chunk


class CellFormatters:
    """Value by value, for the columns (and chunks) the column formatters cannot be trusted
    with; counts the Excel error codes (typed as text) it empties."""

    def __init__(self) -> None:
        self.errors = 0

    def text(self, value: Cell) -> str:
        """Any value: text trimmed (an error code emptied, counted), the others as
        ``format_cell`` writes them."""
        if value.__class__ is str:
            stripped: str = value.strip()
            if stripped[:1] == "#" and stripped in EXCEL_ERRORS:
                self.errors += 1
                return ""
            return stripped
        return format_cell(value)

    def number(self, value: Cell) -> str:
        return format_float(value) if value.__class__ is float else self.text(value)

    def boolean(self, value: Cell) -> str:
        return format_bool(value) if value.__class__ is bool else self.text(value)

    def date_time(self, value: Cell) -> str:
        """In a date-time column, dates are written at midnight: one format."""
        if value.__class__ is datetime:
            return format_datetime(value)
        if value.__class__ is date:
            return format_date_as_datetime(value)
        return self.text(value)

    def exact(self, kinds: frozenset[type], *, date_time: bool) -> CellFormatter:
        """The formatter of a column whose cells are of these types."""
        if date_time:
            return self.date_time
        values = kinds - {str}
        if values == {float}:
            return self.number
        if values == {bool}:
            return self.boolean
        return self.text


class ColumnTexts:
    """One output column's formatting, chunk after chunk: keeps what it learnt of the column
    (whether its values repeat) from one chunk to the next."""

    def __init__(self, cells: CellFormatters) -> None:
        self._cells = cells
        self._memo = True  # until a chunk shows the values hardly repeat
        self._memo_wait = 0
        self._by_kind: dict[type, Callable[[Sequence[Any]], list[str]]] = {
            str: self._strings,
            datetime: self._date_times,
            bool: partial(_mapped, _BOOL_TEXT),
            int: partial(_mapped, str),
        }

    def texts(
        self, values: Sequence[Cell], kinds: frozenset[type], *, date_time: bool
    ) -> list[str]:
        if len(kinds) == 1:
            [kind] = kinds
            if kind is float:
                return self._memoized(values, self._floats, format_float)
            if kind is date:
                exact = format_date_as_datetime if date_time else date.isoformat
                return self._memoized(values, self._dates(date_time), exact)
            column = self._by_kind.get(kind)
            if column is not None:
                return column(values)
        if date_time and kinds <= _DATE_TYPES:  # calamine gives a midnight as a date
            return self._date_times(values)
        return list(map(self._cells.exact(kinds, date_time=date_time), values))

    def _memoized(
        self,
        values: Sequence[Cell],
        column: Callable[[Sequence[Any]], list[str]],
        exact: CellFormatter,
    ) -> list[str]:
        """Each distinct value formatted once (``exact``) while the column's values repeat;
        else ``column``. (Equal numbers have equal texts: 0.0 and -0.0 are both ``0``.)"""
        if not self._memo:
            self._memo_wait -= 1
            if self._memo_wait > 0:
                return column(values)
        distinct = set(values)
        if len(distinct) * _MEMO_SHARE > len(values):
            self._memo, self._memo_wait = False, _MEMO_RETRY
            return column(values)
        self._memo = True
        text_of = {value: exact(value) for value in distinct}
        return list(map(text_of.__getitem__, values))

    @staticmethod
    def _floats(values: Sequence[Any]) -> list[str]:
        texts = list(map(_FLOAT_TEXT, values))
        if not _FLOAT_SUSPECTS.isdisjoint(texts):
            return list(map(format_float, values))
        return texts

    @staticmethod
    def _dates(date_time: bool) -> Callable[[Sequence[Any]], list[str]]:
        def column(values: Sequence[Any]) -> list[str]:
            texts = list(map(date.isoformat, values))
            return list(map(str.__add__, texts, repeat(_MIDNIGHT))) if date_time else texts

        return column

    def _strings(self, values: Sequence[Any]) -> list[str]:
        texts = list(map(str.strip, values))
        if "#" in "".join(texts) and not EXCEL_ERRORS.isdisjoint(texts):
            return list(map(self._cells.text, values))
        return texts

    def _date_times(self, values: Sequence[Any]) -> list[str]:
        """Date-times, and dates at midnight."""
        texts = list(map(_ISO_FORMAT, values))
        if max(map(len, texts)) > _DATE_TIME_LENGTH:  # microseconds: written as ms
            return list(map(self._cells.date_time, values))
        if min(map(len, texts)) < _DATE_TIME_LENGTH:
            return [text if len(text) == _DATE_TIME_LENGTH else text + _MIDNIGHT for text in texts]
        return texts


def _mapped(formatter: CellFormatter, values: Sequence[Any]) -> list[str]:
    return list(map(formatter, values))
