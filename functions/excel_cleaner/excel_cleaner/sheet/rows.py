"""A sheet's rows as every pass handles them: lists of calamine's cell values, padded to the
sheet's width, and which of their cells hold a value.

The rows are what python-calamine gives (``iter_rows``: every row from the sheet's first row,
every cell from its first used column, ``""`` for empty cells); a row may be shorter than the
sheet, so the passes pad it before indexing.
"""

from collections.abc import Callable, Iterable, Sequence
from typing import Final

from excel_cleaner.values import EXCEL_ERRORS, Cell

_TEXT_EDGES: Final = frozenset(" \t\n\r\x0b\x0c\xa0\u3000#")

type Row = Sequence[Cell]
type RowSource = Callable[[], Iterable[Row]]


def pad(row: Row, width: int) -> Row:
    return row if len(row) >= width else [*row, *([""] * (width - len(row)))]


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
