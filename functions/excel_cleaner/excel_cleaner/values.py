"""Cell values as CSV text, and header text as snake_case column names. Pure Python.

Values (what python-calamine hands over for a cell → the CSV field):

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

Column names: ASCII snake_case. Accents are folded (``Größe`` → ``grosse``, ``Café`` →
``cafe``), camelCase is split, ``%`` ``#`` ``&`` become ``pct``
``num`` ``and``, anything else that is not a letter or digit separates words, and a name that
starts with a digit gets ``col_`` in front. ASCII because the CSVs are read by Athena and Glue,
whose column names are lowercase letters, digits and underscores; cell *values* keep every
Unicode character. A header with nothing left (blank, or only non-Latin letters such as 数量)
becomes ``column_<n>``, n being the spreadsheet column number; duplicates get ``_2``, ``_3``...
"""

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
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


# ------------------------------------------------------------------------------ column names

_LETTERS_WITHOUT_DECOMPOSITION: Final = str.maketrans(
    {
        "ß": "ss",
        "ẞ": "SS",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "ø": "o",
        "Ø": "O",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "ð": "d",
        "Ð": "D",
        "þ": "th",
        "Þ": "TH",
        "\u0131": "i",  # dotless i
        "%": " pct ",
        "#": " num ",
        "&": " and ",
    }
)
_CAMEL_BOUNDARY: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_WORD: Final = re.compile(r"[^a-z0-9]+")
IDENTIFIER: Final = re.compile(r"^[a-z_][a-z0-9_]*$")


def ascii_fold(text: str) -> str:
    """Latin letters without their accents; characters with no ASCII form are dropped."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LETTERS_WITHOUT_DECOMPOSITION))
    return decomposed.encode("ascii", "ignore").decode("ascii")


def snake_case(text: str) -> str:
    """``"Unit Price (€)"`` → ``unit_price``; ``"OrderID"`` → ``order_id``; may return ''."""
    words = _CAMEL_BOUNDARY.sub(" ", ascii_fold(text.strip()))
    name = _NOT_WORD.sub("_", words.lower()).strip("_")
    if name[:1].isdigit():
        name = f"col_{name}"
    return name


def unique_names(names: Sequence[str]) -> list[str]:
    """Later duplicates get ``_2``, ``_3``... skipping suffixes that another column already has."""
    taken = set(names)
    seen: set[str] = set()
    result: list[str] = []
    for name in names:
        candidate = name
        if candidate in seen:
            number = 2
            while f"{name}_{number}" in taken or f"{name}_{number}" in seen:
                number += 1
            candidate = f"{name}_{number}"
        seen.add(candidate)
        result.append(candidate)
    return result


def column_names(headers: Sequence[str], column_numbers: Sequence[int]) -> list[str]:
    """snake_case names for header texts; blank ones become ``column_<spreadsheet column>``."""
    bases = [
        snake_case(header) or f"column_{number}"
        for header, number in zip(headers, column_numbers, strict=True)
    ]
    return unique_names(bases)


def sheet_file_names(sheet_names: Iterable[str]) -> list[str]:
    """One unique snake_case file name per sheet (``sheet_<n>`` when nothing is left)."""
    return unique_names(
        [snake_case(name) or f"sheet_{index}" for index, name in enumerate(sheet_names, 1)]
    )
