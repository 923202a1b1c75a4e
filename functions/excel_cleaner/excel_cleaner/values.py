"""A cell's value as CSV text, for every type python-calamine hands over. Pure Python.

- empty cells, and cells holding an Excel error (#DIV/0!, #N/A... calamine already reads
  cached error results as empty; the same codes typed as text are also emptied) → "".
- text → trimmed (internal newlines kept: the CSV writer quotes them).
- booleans → ``true`` / ``false``.
- numbers → numbers: whole values without a fraction (``1.0`` → ``1``), the others as the
  shortest text that reads back as the same double, after rounding to 15 significant digits
  (Excel's own precision), which removes binary noise: ``0.30000000000000004`` → ``0.3``.
  Percentages are stored as fractions and stay so (25 % → ``0.25``).
- dates → ``YYYY-MM-DD``, date-times → ``YYYY-MM-DDTHH:MM:SS`` (``.mmm`` when there are
  milliseconds; Excel keeps no time zone), times → ``HH:MM:SS``, durations (``[h]:mm`` cells)
  → ISO 8601 durations such as ``PT36H30M``.

Column names are made from header text in ``excel_cleaner.names``.
"""

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Final

type Cell = str | float | int | bool | date | datetime | time | timedelta

EXCEL_ERRORS: Final = frozenset(
    {
        "#NULL!",
        "#DIV/0!",
        "#VALUE!",
        "#REF!",
        "#NAME?",
        "#NUM!",
        "#N/A",
        "#GETTING_DATA",
        "#SPILL!",
        "#CALC!",
        "#FIELD!",
        "#BLOCKED!",
        "#CONNECT!",
        "#BUSY!",
        "#UNKNOWN!",
        "#EXTERNAL!",
        "#PYTHON!",
    }
)
# Excel shows numbers with 15 significant digits; the digits past that are binary noise.
SIGNIFICANT_DIGITS: Final = 15
_NOT_NUMBERS: Final = frozenset({"nan", "inf", "-inf"})


def format_text(value: str) -> str:
    stripped = value.strip()
    if stripped and stripped[0] == "#" and stripped in EXCEL_ERRORS:
        return ""
    return stripped


def format_float(value: float) -> str:
    """The number rounded to 15 significant digits (Excel's precision), as ``.15g`` writes it:
    that is both the rounding and the shortest text reading back as the rounded double (a
    decimal of at most 15 significant digits is the shortest for its double), without trailing
    zeros (``1.0`` → ``1``), with an exponent below 1e-4 and from 1e15 (``1e-07``, ``1e+15``).
    '' for NaN and infinities (Excel has neither; a CSV field cannot hold them), ``0`` for -0."""
    text = f"{value:.{SIGNIFICANT_DIGITS}g}"
    if text in _NOT_NUMBERS:
        return ""
    return "0" if text == "-0" else text


def format_int(value: int) -> str:
    return str(value)


def format_bool(value: bool) -> str:
    return "true" if value else "false"


def format_date(value: date) -> str:
    return value.isoformat()


def format_datetime(value: datetime) -> str:
    if value.microsecond:
        return value.isoformat(timespec="milliseconds")
    return value.isoformat()


def format_date_as_datetime(value: date) -> str:
    """A date in a column of date-times: midnight, so the column has one format."""
    if isinstance(value, datetime):
        return format_datetime(value)
    return f"{value.isoformat()}T00:00:00"


def format_time(value: time) -> str:
    if value.microsecond:
        return value.isoformat(timespec="milliseconds")
    return value.isoformat(timespec="seconds")


def format_duration(value: timedelta) -> str:
    """ISO 8601 duration in hours, minutes and seconds (``[h]:mm`` cells count hours)."""
    total_ms = round(value.total_seconds() * 1000)
    sign = "-" if total_ms < 0 else ""
    total_ms = abs(total_ms)
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    parts = []
    if hours:
        parts.append(f"{hours}H")
    if minutes:
        parts.append(f"{minutes}M")
    if seconds or millis or not parts:
        parts.append(f"{seconds}.{millis:03d}S" if millis else f"{seconds}S")
    return f"{sign}PT{''.join(parts)}"


_FORMATTERS: Final[dict[type, Callable[[object], str]]] = {
    str: format_text,  # type: ignore[dict-item]
    float: format_float,  # type: ignore[dict-item]
    int: format_int,  # type: ignore[dict-item]
    bool: format_bool,  # type: ignore[dict-item]
    date: format_date,  # type: ignore[dict-item]
    datetime: format_datetime,  # type: ignore[dict-item]
    time: format_time,  # type: ignore[dict-item]
    timedelta: format_duration,  # type: ignore[dict-item]
}


def format_cell(value: Cell) -> str:
    """The CSV text of any cell value calamine returns (see the module docstring)."""
    formatter = _FORMATTERS.get(value.__class__)
    if formatter is not None:
        return formatter(value)
    # Subclasses (none from calamine; other callers may pass them): most specific type first.
    for kind in (bool, datetime, date, time, timedelta, int, float, str):
        if isinstance(value, kind):
            return _FORMATTERS[kind](value)
    return str(value)


def format_cell_in_datetime_column(value: Cell) -> str:
    if value.__class__ is date:
        return format_date_as_datetime(value)
    return format_cell(value)
