"""Hidden rows and columns, dropped when the cleaning spec asks (``drop_hidden_rows``,
``drop_hidden_columns``); by default they are kept, like every other cell.

Why kept by default: rows are hidden by autofilters and outlines as often as by hand, and a
filtered view is not what the dataset is; dropping what the uploader happened to hide would
lose data silently. When asked, a hidden row is blanked before any pass sees it (so it is
neither header nor data nor footer, and a merged range's value is not filled back into it; a
merge whose first cell is hidden loses its value),
and a hidden column is blanked and left out of the CSV even when it has a header.
"""

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field

from excel_cleaner.sheet.rows import Row, RowSource, pad, value_columns
from excel_cleaner.sheet_facts import IndexRanges


@dataclass(frozen=True, slots=True)
class HiddenCells:
    """The sheet's hidden rows (0-based sheet rows) and columns (positions in the rows as
    calamine gives them) to drop."""

    rows: IndexRanges = field(default_factory=IndexRanges)
    columns: frozenset[int] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.rows) or bool(self.columns)


class HiddenBlanker:
    """Wraps a row source so hidden rows and columns read as empty; counts the hidden rows that
    held a value (on the first pass: a second pass reads the same rows)."""

    def __init__(self, rows: RowSource, hidden: HiddenCells, width: int) -> None:
        self._rows = rows
        self._hidden = hidden
        self._width = width
        self.rows_with_values = 0
        self._passes = 0

    def __call__(self) -> Iterable[Row]:
        self._passes += 1
        return self._blanked(self._rows(), counting=self._passes == 1)

    def _blanked(self, rows: Iterable[Row], *, counting: bool) -> Iterator[Row]:
        hidden_rows, columns, width = self._hidden.rows, self._hidden.columns, self._width
        blank: Row = [""] * width
        for index, row in enumerate(rows):
            if index in hidden_rows:
                if counting and value_columns(row):
                    self.rows_with_values += 1
                yield blank
            elif columns:
                yield _without(pad(row, width), columns)
            else:
                yield row


def _without(row: Row, columns: Collection[int]) -> Row:
    cells = list(row)
    for column in columns:
        if column < len(cells):
            cells[column] = ""
    return cells
