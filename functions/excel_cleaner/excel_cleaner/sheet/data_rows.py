"""The rows below the header, told apart as they stream by: data, blank rows, the footer.

**Data rows**: every row below the header. Blank rows are dropped. Trailing *footer* rows are
dropped: a row whose first value is ``total``, ``totals``, ``grand total``, ``total result``
or ``sum`` (any case, optional colon) and whose other values are all numbers; and, after a
blank row, a row with a single text value (a footnote) when the table has at least two named
columns. The same rows in the middle of the table are data: a footer-like row is held until
the next data row shows it was not the end, then handed over before it, in order.

Text cells that hold only spaces or an error code count as values here; the writer empties
them and drops a row left blank (``csv_writer``).
"""

from collections.abc import Iterable, Iterator
from operator import itemgetter
from typing import Final

from excel_cleaner.sheet.rows import Row
from excel_cleaner.values import Cell

# "total result": LibreOffice's label for a pivot table's totals.
TOTAL_WORDS: Final = frozenset({"total", "totals", "grand total", "total result", "sum"})
_LONGEST_TOTAL_LABEL: Final = 20


def _is_total_label(value: Cell) -> bool:
    if value.__class__ is not str or len(value) > _LONGEST_TOTAL_LABEL:
        return False
    return value.strip().casefold().rstrip(":").strip() in TOTAL_WORDS


class DataRows:
    """Splits the rows below the header into chunks of data rows; counts the footer."""

    def __init__(self, named_columns: int) -> None:
        self._pending: list[Row] = []  # footer-like rows: the footer, unless data follows
        self._blank_since_data = False
        self._footnotes_possible = named_columns >= 2

    @property
    def footer_rows(self) -> int:
        return len(self._pending)

    def chunks(self, blocks: Iterable[list[Row]]) -> Iterator[list[Row]]:
        """The data rows among the rows of ``blocks`` (padded to the sheet's width), a chunk
        per block."""
        for block in blocks:
            # The common case, whole: no first value is text and no footer-like row is held.
            if not self._pending and str not in set(map(type, map(itemgetter(0), block))):
                self._blank_since_data = False
                yield block
                continue
            chunk: list[Row] = []
            for row in block:
                first = row[0]
                # Also common: text that is neither blank nor a total's label.
                if (
                    first.__class__ is not str
                    or (first.strip() and not self._blank_since_data and not _is_total_label(first))
                ) and not self._pending:
                    chunk.append(row)
                    self._blank_since_data = False
                else:
                    self._classify(row, chunk)
            if chunk:
                yield chunk

    def _classify(self, row: Row, chunk: list[Row]) -> None:
        """A row the common case does not settle: blank, footer-like (held) or data."""
        if _is_blank(row):
            self._blank_since_data = True
            return
        # A footer's first value is text: a row starting with another value is data.
        if row[0].__class__ is str and self._is_footer(row):
            self._pending.append(row)
            return
        chunk.extend(self._pending)  # footer-like rows inside the table are data
        self._pending.clear()
        chunk.append(row)
        self._blank_since_data = False

    def _is_footer(self, row: Row) -> bool:
        first = row[0]
        if first == "":
            first = next((value for value in row if value != ""), "")
        if _is_total_label(first):
            values = [value for value in row if value != ""]
            return all(value.__class__ is float or value.__class__ is int for value in values[1:])
        if not (self._blank_since_data and self._footnotes_possible):
            return False
        return first.__class__ is str and sum(1 for value in row if value != "") == 1


def _is_blank(row: Row) -> bool:
    """Text cells only, all empty or spaces (checked in C)."""
    if any(value.__class__ is not str for value in row):
        return False
    return not any(row) or not "".join(row).strip()  # type: ignore[arg-type]
