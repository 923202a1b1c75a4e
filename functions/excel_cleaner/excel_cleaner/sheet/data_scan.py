"""The first pass over a sheet's data rows: what the CSV depends on, found before any is written.

**Data rows**: every row below the header. Blank rows are dropped. Trailing *footer* rows are
dropped: a row whose first value is ``total``, ``totals``, ``grand total``, ``total result``
or ``sum`` (any case, optional colon) and whose other values are all numbers; and, after a
blank row, a row with a single text value (a footnote) when the table has at least two named
columns. The same rows in the middle of the table are data.

The scan also records the value types of each column (they choose its formatter in
``csv_writer``), which unnamed columns hold anything (``columns`` drops the others) and which
columns hold dates typed as text (``text_dates``), so the second pass only formats and writes.
"""

from collections.abc import Iterable, Sequence
from typing import Final

from excel_cleaner.sheet.rows import Fill, Row, pad
from excel_cleaner.sheet.text_dates import TextDateScan
from excel_cleaner.values import Cell

# "total result": LibreOffice's label for a pivot table's totals.
TOTAL_WORDS: Final = frozenset({"total", "totals", "grand total", "total result", "sum"})


def _is_total_label(value: Cell) -> bool:
    if value.__class__ is not str or len(value) > 20:
        return False
    return value.strip().casefold().rstrip(":").strip() in TOTAL_WORDS


class DataScan:
    """First pass over the data rows: where the data ends, which unnamed columns hold data,
    which value types each column holds, and the footer rows.

    Kept cheap (it sees every row): per row one tuple of the cells' types, one ``any``, and a
    look at the first value; text cells that hold only spaces or an error code count as values
    here and are emptied by the second pass, which drops a row left blank.
    """

    def __init__(self, unnamed: Sequence[int], named_columns: int, width: int) -> None:
        self.rows = 0
        self.text_dates = TextDateScan(width)
        self.last_row = -1
        self.signatures: set[tuple[type, ...]] = set()
        self.blank_rows: set[int] = set()
        self.unnamed_with_data: set[int] = set()
        self._unnamed = [c for c in unnamed]
        self._pending: list[tuple[Row, tuple[type, ...]]] = []
        self._blank_since_data = False
        self._footnotes_possible = named_columns >= 2
        self._all_text: dict[tuple[type, ...], bool] = {}

    @property
    def footer_rows(self) -> int:
        return len(self._pending)

    def kinds(self, column: int) -> set[type]:
        """The types of the column's values (``str`` includes empty cells)."""
        return {signature[column] for signature in self.signatures}

    def add(self, index: int, row: Row) -> None:
        # The hot loop of the first pass: the common case (a data row) is inlined.
        signature = tuple(map(type, row))
        all_text = self._all_text.get(signature)
        if all_text is None:
            all_text = self._all_text[signature] = all(kind is str for kind in signature)
        # A row of text cells is blank when they are all empty (checked in C) or only spaces.
        if all_text and (not any(row) or not "".join(row).strip()):  # type: ignore[arg-type]
            self.blank_rows.add(index)
            self._blank_since_data = True
            return
        # A footer's first value is text: a row starting with another value is data.
        if row[0].__class__ is str and self._is_footer(row):
            self._pending.append((row, signature))
            return
        if self._pending:  # footer-like rows inside the table are data
            for pending in self._pending:
                self._count(*pending)
            self._pending.clear()
        self.rows += 1
        self.signatures.add(signature)
        if self._unnamed:
            self._note_unnamed(row)
        if self.text_dates.watching:
            self.text_dates.observe(row, signature)
        self.last_row = index
        self._blank_since_data = False

    def add_rows(self, rows: Iterable[Row], start: int, width: int, fill: Fill | None) -> None:
        """``add`` for every row, ``start`` being the first one's index; the common case (a row
        of data that cannot be a footer, with nothing to watch) stays in this loop."""
        signatures, all_text, text_dates = self.signatures, self._all_text, self.text_dates
        for index, raw in enumerate(rows, start):
            row = raw if len(raw) >= width else pad(raw, width)
            if fill is not None:
                row = fill(index, row)
            signature = tuple(map(type, row))
            first = row[0]
            if (
                all_text.get(signature, True)  # text only (maybe blank), or not seen yet
                or (first.__class__ is str and (self._blank_since_data or _is_total_label(first)))
                or first == ""
                or self._pending
                or self._unnamed
            ):
                self.add(index, row)
                continue
            signatures.add(signature)
            if text_dates.watching:
                text_dates.observe(row, signature)
            self.rows += 1
            self.last_row = index
            self._blank_since_data = False

    def _count(self, row: Row, signature: tuple[type, ...]) -> None:
        self.rows += 1
        self.signatures.add(signature)
        if self._unnamed:
            self._note_unnamed(row)
        if self.text_dates.watching:
            self.text_dates.observe(row, signature)

    def _note_unnamed(self, row: Row) -> None:
        found = [c for c in self._unnamed if row[c] != ""]
        if found:
            self.unnamed_with_data.update(found)
            self._unnamed = [c for c in self._unnamed if c not in self.unnamed_with_data]

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
