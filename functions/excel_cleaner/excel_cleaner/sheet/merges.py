"""Merged cells: every cell of a merged range shows the range's value, as Excel displays it.

calamine gives the value in the top-left cell only; filled in, a merged title counts once (as
stored) or across its width (as shown) when the header is looked for, a merged header names
every column under it, and a value merged down the data is repeated on each of its rows.
"""

from collections import defaultdict
from collections.abc import Container, Iterable
from dataclasses import dataclass

from excel_cleaner.sheet.rows import Row
from excel_cleaner.values import Cell


@dataclass(frozen=True, slots=True)
class MergedRange:
    """A merged range, 0-based and inclusive; columns as in the rows handed over."""

    first_row: int
    first_col: int
    last_row: int
    last_col: int


class MergeFiller:
    """Gives every cell of a merged range its top-left value, row by row in sheet order."""

    def __init__(self, merges: Iterable[MergedRange], skipped: Container[int] = ()) -> None:
        """``skipped``: rows left as they are (hidden rows being dropped: blank)."""
        self._skipped = skipped
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
        if not self._active or index in self._skipped:
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
