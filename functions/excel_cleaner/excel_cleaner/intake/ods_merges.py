"""Merged cells of each sheet of an OpenDocument spreadsheet, read from its content.xml: calamine
gives none for .ods (``merged_cell_ranges`` is None).

A ``table:table-cell`` with ``table:number-columns-spanned`` and/or
``table:number-rows-spanned`` above 1 starts a merge; it is given as calamine gives an .xlsx's,
(first_row, first_column, last_row, last_column), 0-based sheet positions, inclusive. Rows count
as ``intake.ods_layout`` counts them: in document order, repeats included, inside header-row and
row-group elements too; cells and covered cells (``table:covered-table-cell``) each take a column,
repeats included. A table nested in a cell counts for nothing.

A repeated row repeats its merges (one per repetition, each in its own row); a repeated merging
cell is one merge, at its first position (the covered cells it spans follow it). More than
``MAX_MERGES`` merges in a table is a ValueError, checked before any repetition is expanded.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from excel_cleaner.intake.cell_limit import decimal_number
from excel_cleaner.intake.xlsx_layout import tag_attributes
from excel_cleaner.intake.xml_patterns import (
    ATTRIBUTES,
    WHITESPACE_OR_END,
    next_tag,
)

MAX_MERGES: Final = 100_000
SPAN_MARKERS: Final = (b"number-columns-spanned", b"number-rows-spanned")
_NAMES: Final = rb"(table|table-row|table-cell|covered-table-cell)"
# Without comments, CDATA or processing instructions every "<" starts a tag (groups: "/" or "",
# name, attributes).
_TAG: Final = re.compile(rb"<(/?)table:" + _NAMES + WHITESPACE_OR_END + ATTRIBUTES + rb">")
# The same, stepping over comments, CDATA and any other markup whole.
_WALK: Final = next_tag(b"table", (b"table", b"table-row", b"table-cell", b"covered-table-cell"))

_NOT_A_TAG: Final = re.compile(rb"<[!?]")  # a comment, CDATA, a processing instruction...

Merge = tuple[int, int, int, int]


def has_spans(content: bytes) -> bool:
    """Whether content.xml could hold a merged cell at all (a plain substring search)."""
    return any(content.find(marker) >= 0 for marker in SPAN_MARKERS)


def _number(attributes: dict[bytes, bytes], name: bytes) -> int:
    value = attributes.get(name, b"").strip()
    return decimal_number(value) if value.isdigit() else 1


@dataclass(slots=True)
class _Sheet:
    row: int = 0  # the next row's position
    merges: list[Merge] = field(default_factory=list)


@dataclass(slots=True)
class _Row:
    first: int
    repeats: int
    column: int = 0
    merges: list[Merge] = field(default_factory=list)  # of its first repetition


class _Walker:
    def __init__(self, sheet_name: Callable[[bytes], str]) -> None:
        self.sheets: dict[str, _Sheet] = {}
        self._sheet_name = sheet_name
        self._depth = 0  # of table:table elements: cells of a table in a cell do not count
        self._sheet: _Sheet | None = None
        self._row: _Row | None = None

    def tag(self, closing: bytes, name: bytes, raw: bytes) -> None:
        empty = raw.rstrip().endswith(b"/")
        if name == b"table":
            if closing:
                self._depth = max(self._depth - 1, 0)
                if self._depth == 0:
                    self.finish()
            else:
                if self._depth == 0:
                    self._sheet = self.sheets.setdefault(self._sheet_name(raw), _Sheet())
                self._depth += not empty
        elif self._depth != 1 or self._sheet is None:
            return
        elif closing:
            if name == b"table-row":
                self._end_row()
        elif name == b"table-row":
            self._end_row()
            repeats = 1
            if b"repeated" in raw:
                repeats = _number(tag_attributes(raw), b"table:number-rows-repeated")
            self._row = _Row(self._sheet.row, repeats)
            self._sheet.row += repeats
            if empty:
                self._end_row()
        elif self._row is not None:
            self._cell(name == b"table-cell", raw)

    def finish(self) -> None:
        """Ends the open row, if any."""
        self._end_row()

    def _cell(self, merging: bool, raw: bytes) -> None:
        row = self._row
        assert row is not None
        if b"spanned" not in raw and b"repeated" not in raw:
            row.column += 1
            return
        attributes = tag_attributes(raw)
        column = row.column
        row.column += _number(attributes, b"table:number-columns-repeated")
        if not merging:
            return
        rows = _number(attributes, b"table:number-rows-spanned")
        columns = _number(attributes, b"table:number-columns-spanned")
        if rows > 1 or columns > 1:
            if self._sheet is not None and len(self._sheet.merges) + len(row.merges) >= MAX_MERGES:
                raise ValueError("too many merged ranges")
            row.merges.append((row.first, column, row.first + rows - 1, column + columns - 1))

    def _end_row(self) -> None:
        """Adds the open row's merges, once per repetition."""
        row, self._row = self._row, None
        if row is None or not row.merges or self._sheet is None:
            return
        merges = self._sheet.merges
        if len(merges) + len(row.merges) * row.repeats > MAX_MERGES:
            raise ValueError("too many merged ranges")
        for repeat in range(row.repeats):
            merges.extend((a + repeat, b, c + repeat, d) for a, b, c, d in row.merges)


def ods_merged_cells(
    content: bytes, start: int, sheet_name: Callable[[bytes], str]
) -> dict[str, tuple[Merge, ...]]:
    """Each sheet's merged cells (module docstring) by ``sheet_name`` of its ``table:table``
    tag's attributes, reading content.xml from ``start`` (past the XML declaration)."""
    walker = _Walker(sheet_name)
    pattern = _WALK if _NOT_A_TAG.search(content, start) else _TAG
    for tag in pattern.finditer(content, start):
        walker.tag(*tag.groups())
    walker.finish()
    return {name: tuple(sheet.merges) for name, sheet in walker.sheets.items()}
