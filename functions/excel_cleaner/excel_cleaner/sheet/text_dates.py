"""Dates typed as text (``31/12/2025``, ``2025-12-31``, ``31 Dec 2025``): found column by column
as the sheet is read, and written as ISO dates when the column fixes their meaning (the
sheet's text is then written again, knowing: ``table``).

A column is a *text-date column* when every text value in it (empty cells aside) reads as a
date, and its other values are date cells: a column with a number, a boolean or one text that
is no date stays as it is. The forms read:

- ISO ``2025-12-31`` (also ``/`` or ``.`` between the parts), with an optional time
  ``2025-12-31 14:30`` / ``T14:30:05``;
- day, month and a four-digit year in either order, ``31/12/2025``, ``12-31-2025``,
  ``31.12.2025``, with an optional time;
- English month names or their three-letter abbreviations: ``31 Dec 2025``, ``31-Dec-2025``,
  ``Dec 31, 2025``, ``December 31 2025``.

Two-digit years are not read (the century would be a guess). ISO and month-name values mean
one date each. ``01/02/2025`` means 1 February or 2 January: the column decides — a value with
a first number above 12 (``31/12/2025``) fixes day-first for every value in it, one with a
second number above 12 month-first. A column whose values fix neither order (all of them at
most 12 in both places) is *ambiguous*: it is written as text, as it was typed, and reported,
unless the cleaning spec's ``date_order`` (``dmy`` or ``mdy``) says which it is. A column that
would need both orders (``31/12/2025`` and ``12/31/2025``) is left as text and reported too.

Converted values are written ``YYYY-MM-DD``, or ``YYYY-MM-DDTHH:MM:SS`` when any value of the
column has a time or the column holds date-time cells (dates then at midnight, as the writer
does for date cells).
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from excel_cleaner.specs import DateOrder
from excel_cleaner.values import Cell, format_datetime

_TIME: Final = r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2}))?)?"
_ISO: Final = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})" + _TIME)
_NUMERIC: Final = re.compile(r"(\d{1,2})([-/.])(\d{1,2})\2(\d{4})" + _TIME)
_DAY_MONTH_NAME: Final = re.compile(r"(\d{1,2})[ -]([A-Za-z]{3,9})\.?[ -](\d{4})")
_MONTH_NAME_DAY: Final = re.compile(r"([A-Za-z]{3,9})\.? (\d{1,2}),? (\d{4})")
_MONTHS: Final = {
    name: number
    for number, full in enumerate(
        (
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ),
        start=1,
    )
    for name in (full, full[:3])
} | {"sept": 9}
_MAX_TEXT: Final = 32  # longer text is no date: not even tried
_DATE_TYPES: Final = frozenset({date, datetime})
_TEXT_OR_DATE_TYPES: Final = _DATE_TYPES | {str}


@dataclass(frozen=True, slots=True)
class _TextDate:
    """A parsed value: ``fixed`` when it means one date whatever the order, else the date read
    day-first (``dmy``) and month-first (``mdy``), None where that order is no date."""

    fixed: datetime | None
    dmy: datetime | None
    mdy: datetime | None
    has_time: bool


def _moment(year: int, month: int, day: int, clock: Sequence[str | None]) -> datetime | None:
    hours, minutes, seconds = (int(part) if part else 0 for part in clock)
    try:
        return datetime(year, month, day, hours, minutes, seconds)  # naive, as Excel's
    except ValueError:
        return None


def _iso(value: str) -> _TextDate | None:
    if (match := _ISO.fullmatch(value)) is None:
        return None
    year, _, month, day, *clock = match.groups()
    moment = _moment(int(year), int(month), int(day), clock)
    return None if moment is None else _TextDate(moment, None, None, match.group(5) is not None)


def _numeric(value: str) -> _TextDate | None:
    if (match := _NUMERIC.fullmatch(value)) is None:
        return None
    first, _, second, year, *clock = match.groups()
    has_time = match.group(5) is not None
    dmy = _moment(int(year), int(second), int(first), clock)
    mdy = _moment(int(year), int(first), int(second), clock)
    if dmy is None and mdy is None:
        return None
    if dmy == mdy:  # 05/05/2025: one date either way
        return _TextDate(dmy, None, None, has_time)
    return _TextDate(None, dmy, mdy, has_time)


def _named(value: str) -> _TextDate | None:
    if match := _DAY_MONTH_NAME.fullmatch(value):
        day, name, year = match.groups()
    elif match := _MONTH_NAME_DAY.fullmatch(value):
        name, day, year = match.groups()
    else:
        return None
    month = _MONTHS.get(name.casefold())
    moment = None if month is None else _moment(int(year), month, int(day), (None,) * 3)
    return None if moment is None else _TextDate(moment, None, None, has_time=False)


def parse_text_date(text: str) -> _TextDate | None:
    """The value's possible dates, or None when it is no date in any form read here."""
    value = text.strip()
    if not value or len(value) > _MAX_TEXT or not value[0].isalnum():
        return None
    return _iso(value) or _numeric(value) or _named(value)


@dataclass(slots=True)
class _ColumnDates:
    texts: int = 0
    dmy_possible: bool = True
    mdy_possible: bool = True
    ordered: int = 0  # values whose meaning depends on the order
    has_time: bool = False


@dataclass(frozen=True, slots=True)
class TextDateColumn:
    """A column of text dates: the order its values are read in (None: each means one date)."""

    order: DateOrder | None
    has_time: bool


class TextDateScan:
    """The pass's watch over columns that may hold text dates (``observe_columns`` on every
    chunk of data rows); candidates drop out at their first value that is no date, so a sheet
    without text dates costs a few checks per chunk, then none."""

    def __init__(self, width: int) -> None:
        self._columns = {column: _ColumnDates() for column in range(width)}
        self._watching = list(range(width))

    @property
    def watching(self) -> bool:
        return bool(self._watching)

    def observe_columns(
        self, columns: Sequence[Sequence[Cell]], kinds: Sequence[frozenset[type]]
    ) -> None:
        """``columns``: a chunk of data rows by sheet column; ``kinds``: each one's cell types."""
        for column in self._watching:
            found = kinds[column]
            if found <= _DATE_TYPES:  # date cells only: a real date column, nothing to read
                continue
            if not found <= _TEXT_OR_DATE_TYPES:  # a number, a boolean, a time: no date column
                del self._columns[column]
                continue
            for value in columns[column]:
                if value.__class__ is str and value and not self._add(column, value):
                    break
        self._watching = [c for c in self._watching if c in self._columns]

    def _add(self, column: int, text: str) -> bool:
        parsed = parse_text_date(text)
        if parsed is None:
            if not text.strip():
                return True  # spaces only: an empty cell
            del self._columns[column]
            return False
        found = self._columns[column]
        found.texts += 1
        found.has_time = found.has_time or parsed.has_time
        if parsed.fixed is None:
            found.ordered += 1
            found.dmy_possible = found.dmy_possible and parsed.dmy is not None
            found.mdy_possible = found.mdy_possible and parsed.mdy is not None
        return True

    def decide(self, order: DateOrder | None) -> tuple[dict[int, TextDateColumn], list[int]]:
        """The columns to convert, and the ambiguous ones (left as text), by sheet column;
        ``order`` is the cleaning spec's ``date_order``, for columns that fix none."""
        converted: dict[int, TextDateColumn] = {}
        ambiguous: list[int] = []
        for column, found in sorted(self._columns.items()):
            if not found.texts:
                continue
            if not found.ordered:
                converted[column] = TextDateColumn(None, found.has_time)
                continue
            fitting = ((DateOrder.DMY, found.dmy_possible), (DateOrder.MDY, found.mdy_possible))
            possible = [candidate for candidate, fits in fitting if fits]
            chosen = possible[0] if len(possible) == 1 else None
            if chosen is None and order is not None and order in possible:
                chosen = order
            if chosen is None:
                ambiguous.append(column)
            else:
                converted[column] = TextDateColumn(chosen, found.has_time)
        return converted, ambiguous


def text_date_formatter(
    column: TextDateColumn, other: Callable[[Cell], str], *, as_datetime: bool
) -> Callable[[Cell], str]:
    """The formatter writing the column's text dates as ISO; other values go to ``other``."""

    def write(value: Cell) -> str:
        if value.__class__ is not str:
            return other(value)
        parsed = parse_text_date(value)
        if parsed is None:
            return other(value)  # spaces only
        moment = parsed.fixed
        if moment is None:
            moment = parsed.dmy if column.order is DateOrder.DMY else parsed.mdy
        if moment is None:  # not reached: the scan saw every value fit the order
            return other(value)
        if as_datetime or column.has_time:
            return format_datetime(moment)
        return moment.date().isoformat()

    return write
