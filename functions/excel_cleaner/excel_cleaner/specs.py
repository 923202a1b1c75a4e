"""Cleaning specs: per key prefix, what overrides the heuristics, and the column type converters.

A spec is optional. Specs come from the ``CLEANING_SPECS`` environment variable, a JSON list::

    [{"prefix": "finance/budget/", "sheet": "Budget 2026", "header_row": 4,
      "renames": {"Cost Centre": "cost_center"}, "types": {"amount": "number"}}]

- ``prefix``: keys starting with it use the spec; the longest matching prefix wins.
- ``sheet``: clean only this sheet (exact name, else the one whose name matches ignoring case
  and surrounding spaces; hidden sheets can be named). Missing → the workbook fails.
- ``header_row``: the header's row number as Excel shows it (1-based); rows above it are
  skipped and data starts below it. ``0``: the sheet has no header row (columns are named
  ``column_<n>``, data starts at the first non-blank row). Without it the header row is
  detected.
- ``renames``: header → column name. The key is the header text as it appears in the sheet
  or the snake_case name the cleaner would give it; the value is a snake_case name.
- ``types``: column name (after renames) → ``string``, ``integer``, ``number``, ``boolean``,
  ``date`` or ``datetime``. A value that cannot be converted is written empty and counted
  (``invalid_values`` in the result).
- ``date_order``: ``dmy`` or ``mdy``, how dates typed as text read when a column's values do
  not fix the order themselves (every value at most 12 in both places: ``01/02/2025``);
  without it such a column stays text and is reported (``excel_cleaner.sheet.text_dates``).
- ``drop_hidden_rows`` / ``drop_hidden_columns``: ``true`` leaves the rows / columns hidden in
  the workbook out of the CSV; by default they are kept (``excel_cleaner.sheet.hidden``). A spec
  with the prefix ``""`` applies to every key that no longer prefix matches.

A ``renames`` or ``types`` key that matches no column of any cleaned sheet fails the workbook
("spec_mismatch"): the file no longer has the layout the spec was written for, and loading it
anyway would silently change the dataset's columns.
"""

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Final

from pydantic import BaseModel, ConfigDict, Field, field_validator

from datalake_shared.workbook_csv import WorkbookColumnType
from excel_cleaner.names import IDENTIFIER
from excel_cleaner.values import (
    Cell,
    format_cell,
    format_date_as_datetime,
    format_datetime,
    format_float,
)

# Excel's 1900 date system: serial 1 is 1900-01-01 and the fictitious 1900-02-29 is serial 60,
# so from serial 61 on, day 0 is 1899-12-30.
_EXCEL_EPOCH: Final = datetime(1899, 12, 30)
_LAST_EXCEL_SERIAL: Final = 2_958_465  # 9999-12-31
_TRUE_WORDS: Final = frozenset({"true", "yes", "y", "1"})
_FALSE_WORDS: Final = frozenset({"false", "no", "n", "0"})
MAX_HEADER_ROW: Final = 1_048_576  # Excel's last row

# A converter returns the CSV text, or None when the value cannot be of the column's type.
type Converter = Callable[[Cell], str | None]

# The types a spec gives columns are those workbook tables declare them with (one vocabulary).
ColumnType = WorkbookColumnType


class DateOrder(StrEnum):
    """How ``01/02/2025`` typed as text is read: day first or month first."""

    DMY = "dmy"
    MDY = "mdy"


class CleaningSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    prefix: str
    sheet: str | None = Field(default=None, min_length=1)
    header_row: int | None = Field(default=None, ge=0, le=MAX_HEADER_ROW)
    renames: dict[str, str] = Field(default_factory=dict)
    types: dict[str, ColumnType] = Field(default_factory=dict)
    date_order: DateOrder | None = None
    drop_hidden_rows: bool = False
    drop_hidden_columns: bool = False

    @field_validator("renames")
    @classmethod
    def _renames_are_unique_snake_case(cls, renames: dict[str, str]) -> dict[str, str]:
        bad = sorted(name for name in renames.values() if not IDENTIFIER.match(name))
        if bad:
            raise ValueError(f"new names must be snake_case ([a-z_][a-z0-9_]*): {bad}")
        targets = list(renames.values())
        repeated = sorted({name for name in targets if targets.count(name) > 1})
        if repeated:
            raise ValueError(f"two columns renamed to the same name: {repeated}")
        return renames


def parse_specs(specs: Sequence[CleaningSpec]) -> tuple[CleaningSpec, ...]:
    prefixes = [spec.prefix for spec in specs]
    repeated = sorted({prefix for prefix in prefixes if prefixes.count(prefix) > 1})
    if repeated:
        raise ValueError(f"prefixes listed twice: {repeated}")
    return tuple(specs)


def spec_for(key: str, specs: Sequence[CleaningSpec]) -> CleaningSpec | None:
    """The spec with the longest prefix the key starts with, if any."""
    matching = [spec for spec in specs if key.startswith(spec.prefix)]
    return max(matching, key=lambda spec: len(spec.prefix), default=None)


# ------------------------------------------------------------------------------ converters


def _number_text(value: str) -> float | None:
    text = value.strip().replace(",", "").replace(" ", "")
    scale = 1.0
    if text.endswith("%"):
        text, scale = text[:-1], 0.01
    try:
        number = float(text) * scale
    except ValueError:
        return None
    return number if number - number == 0 else None


def _serial_datetime(serial: float) -> datetime | None:
    if not 0 < serial <= _LAST_EXCEL_SERIAL:
        return None
    if serial < 61:  # before the fictitious 1900-02-29
        serial += 1
    moment = _EXCEL_EPOCH + timedelta(milliseconds=round(serial * 86_400_000))
    return moment


def _parse_iso(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        return None


def _as_datetime(value: Cell) -> datetime | None:
    """Date-times as they are, dates at midnight, numbers as Excel serials, ISO 8601 text."""
    moment: datetime | None = None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        moment = _serial_datetime(float(value))
    elif isinstance(value, str):
        moment = _parse_iso(value)
    return moment


def to_string(value: Cell) -> str | None:
    return format_cell(value)


def to_integer(value: Cell) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    number = _number_text(value) if isinstance(value, str) else value
    if isinstance(number, float) and number - number == 0 and number.is_integer():
        return str(int(number))
    return None


def to_number(value: Cell) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    number = _number_text(value) if isinstance(value, str) else value
    if isinstance(number, float) and number - number == 0:
        return format_float(number)
    return None


def to_boolean(value: Cell) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return "true" if value == 1 else "false" if value == 0 else None
    if isinstance(value, str):
        word = value.strip().casefold()
        if word in _TRUE_WORDS:
            return "true"
        if word in _FALSE_WORDS:
            return "false"
    return None


def to_date(value: Cell) -> str | None:
    moment = _as_datetime(value)
    return moment.date().isoformat() if moment is not None else None


def to_datetime(value: Cell) -> str | None:
    if value.__class__ is date:
        return format_date_as_datetime(value)
    moment = _as_datetime(value)
    return format_datetime(moment) if moment is not None else None


CONVERTERS: Final[dict[ColumnType, Converter]] = {
    ColumnType.STRING: to_string,
    ColumnType.INTEGER: to_integer,
    ColumnType.NUMBER: to_number,
    ColumnType.BOOLEAN: to_boolean,
    ColumnType.DATE: to_date,
    ColumnType.DATETIME: to_datetime,
}
