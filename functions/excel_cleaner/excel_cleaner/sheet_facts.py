"""What calamine does not tell about a sheet, read from the workbook's own structures: its hidden
rows and columns, the pivot tables on it and, for .ods, its merged cells.

One contract for the three readers (``intake.xlsx_layout`` for .xlsx/.xlsm, ``intake.ods_layout``
for .ods, ``intake.biff_records`` for .xls). Rows and columns are 0-based sheet positions, as
calamine numbers them (not relative to the sheet's used range). Hidden rows and columns are
kept as ranges: an OpenDocument file may hide a million repeated rows in one element.
"""

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class IndexRanges:
    """A set of 0-based indexes, as sorted, disjoint, inclusive (first, last) ranges."""

    ranges: tuple[tuple[int, int], ...] = ()

    @classmethod
    def of(cls, ranges: Iterable[tuple[int, int]]) -> "IndexRanges":
        """Merges overlapping and adjacent ranges; drops empty ones (last < first)."""
        merged: list[tuple[int, int]] = []
        for first, last in sorted(r for r in ranges if r[1] >= r[0] >= 0):
            if merged and first <= merged[-1][1] + 1:
                merged[-1] = (merged[-1][0], max(merged[-1][1], last))
            else:
                merged.append((first, last))
        return cls(tuple(merged))

    def __contains__(self, index: object) -> bool:
        if not isinstance(index, int) or not self.ranges:
            return False
        position = bisect_right(self.ranges, (index, float("inf"))) - 1
        return position >= 0 and self.ranges[position][0] <= index <= self.ranges[position][1]

    def __bool__(self) -> bool:
        return bool(self.ranges)

    def count(self) -> int:
        return sum(last - first + 1 for first, last in self.ranges)


@dataclass(frozen=True, slots=True)
class PivotArea:
    """Where a pivot table lies on its sheet (0-based, inclusive) and the row of its column
    headers (the row naming its columns, below any filter and caption rows)."""

    first_row: int
    first_column: int
    last_row: int
    last_column: int
    header_row: int


@dataclass(frozen=True, slots=True)
class SheetFacts:
    """``merged_cells``: the sheet's merged ranges as (first_row, first_column, last_row,
    last_column), 0-based absolute sheet positions, inclusive: calamine's
    ``merged_cell_ranges`` ((first_row, first_column), (last_row, last_column)) flattened.
    Filled for .ods only (``intake.ods_merges``), where calamine gives none; empty otherwise."""

    hidden_rows: IndexRanges = field(default_factory=IndexRanges)
    hidden_columns: IndexRanges = field(default_factory=IndexRanges)
    pivot_tables: tuple[PivotArea, ...] = ()
    merged_cells: tuple[tuple[int, int, int, int], ...] = ()
