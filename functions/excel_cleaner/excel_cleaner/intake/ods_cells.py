"""The .ods cell bound: content.xml read row by row, repeats counted, all sheets added up.

Repeated rows and cells count as often as they repeat (a 1 KB file can repeat a value 16,384 x
1,048,576 times), trailing empty ones do not (LibreOffice pads every sheet with them), and the
sheets add up: calamine loads every sheet of an .ods when the workbook is opened. It costs ~0.8 us
a cell: calamine's own .ods reader is fast, so a large .ods takes ~2x as long.
"""

import re
from typing import Final

from excel_cleaner.intake.cell_limit import decimal_number
from excel_cleaner.intake.xml_patterns import (
    ANY_TAG,
    ATTRIBUTES,
    NOT_MARKUP,
    QUOTED,
    WHITESPACE_OR_END,
)

_ODS_REPEATS: Final = re.compile(
    rb"""table:number-(?:rows|columns)-repeated[\t\n\r ]*=[\t\n\r ]*["']([0-9]+)"""
)
_ODS_VALUE: Final = re.compile(
    rb"office:(?:value|string-value|date-value|time-value|boolean-value)[\t\n\r ]*="
    rb"""|table:formula[\t\n\r ]*=|office:value-type[\t\n\r ]*=[\t\n\r ]*["']string"""
)
_ODS_VALUE_MARKS: Final = (b"office:value", b"-value", b"table:formula")  # maybe a value


def _ods_cell(attributes: bytes) -> bytes:
    """A regex for a whole cell whose content holds no table markup."""
    content = rb"(?:[^<]++|(?!</?table:|<[!?])" + ANY_TAG + rb"|" + NOT_MARKUP + rb")*+"
    return (
        rb"<table:(?:covered-)?table-cell"
        + WHITESPACE_OR_END
        + attributes
        + rb"(?:/>|>"
        + content
        + rb"</table:(?:covered-)?table-cell>)"
    )


_ODS_ATTRIBUTES: Final = rb"""(?:[^>"'/]++|/(?!>)|""" + QUOTED + rb""")*+"""  # "/>" left out
_ODS_CELL: Final = re.compile(_ods_cell(rb"(" + _ODS_ATTRIBUTES + rb")"), re.DOTALL)
# A whole row of cells with no table markup in them (groups: attributes, cells), or a table
# start or end tag (groups: "/" or "", attributes), whatever it follows.
_ODS_UNIT: Final = re.compile(
    rb"(?:[^<]++|(?!<table:table-row"
    + WHITESPACE_OR_END
    + rb"|</?table:table"
    + WHITESPACE_OR_END
    + rb"|<[!?])"
    + ANY_TAG
    + rb"|"
    + NOT_MARKUP
    + rb")*+"
    + rb"(?:<table:table-row"
    + WHITESPACE_OR_END
    + rb"("
    + _ODS_ATTRIBUTES
    + rb")"
    + rb"(?:/>|>((?:"
    + _ods_cell(_ODS_ATTRIBUTES)
    + rb")*+)</table:table-row>)"
    + rb"|<(/?)table:table"
    + WHITESPACE_OR_END
    + ATTRIBUTES
    + rb">)",
    re.DOTALL,
)
# The next table, row or cell tag (groups: "/" or "", name, attributes), whatever it follows.
_ODS_TAG: Final = re.compile(
    rb"(?:[^<]++|(?!</?table:(?:table|table-row|table-cell|covered-table-cell)"
    + WHITESPACE_OR_END
    + rb"|<[!?])"
    + ANY_TAG
    + rb"|"
    + NOT_MARKUP
    + rb")*+"
    + rb"<(/?)table:(table|table-row|table-cell|covered-table-cell)"
    + WHITESPACE_OR_END
    + ATTRIBUTES
    + rb">",
    re.DOTALL,
)


def ods_cell_count(content: bytes) -> int:
    """Cells calamine allocates for all the sheets of an OpenDocument content.xml: per sheet,
    its rows (repeats counted) down to the last holding a value, times its widest row (repeats
    counted) up to its last value.

    Each row is matched whole by a regex that understands quoting, comments and CDATA (bytes
    methods alone could take markup held in an attribute value for a row); its width is then
    counted with bytes methods. A document with anything else where a row could be (a table
    in a cell...) is walked tag by tag instead (``walked_ods_cells``)."""
    total = rows = columns = position = at = 0
    for unit in _ODS_UNIT.finditer(content):
        if unit.start() != at:
            return walked_ods_cells(content)
        at = unit.end()
        row_attributes, closing = unit.group(1), unit.group(3)
        if row_attributes is not None:
            repeated = _ODS_REPEATS.search(row_attributes)
            position += decimal_number(repeated.group(1)) if repeated else 1
            width = _ods_row_width(content, unit.start(2), unit.end(2)) if unit.group(2) else 0
            if width:
                rows, columns = position, max(columns, width)
        elif closing:
            total, rows, columns, position = total + rows * columns, 0, 0, 0
    if content.find(b"<table:table", at) >= 0:
        return walked_ods_cells(content)
    return total + rows * columns


def _ods_row_width(content: bytes, start: int, end: int) -> int:
    """Columns (repeats counted) of a row's cells, content[start:end], up to the last value
    (markup inside comments or CDATA may be counted too: the width can only grow)."""
    last = max(content.rfind(mark, start, end) for mark in _ODS_VALUE_MARKS)
    if last < 0:
        return 0
    if content.find(b"columns-repeated", start, end) < 0:
        return content.count(b"<table:", start, last)  # cell start tags, up to the valued one
    width = used = 0
    for cell in _ODS_CELL.finditer(content, start, end):
        repeated = _ODS_REPEATS.search(cell.group(1))
        used += decimal_number(repeated.group(1)) if repeated else 1
        if _ODS_VALUE.search(cell.group(1)):
            width = used
    return width


def walked_ods_cells(content: bytes) -> int:
    """``ods_cell_count`` tag by tag, stepping over cell content as calamine does."""
    total = rows = columns = position = inside = 0
    row_repeats, used, width = 1, 0, 0  # the current row: repeats, columns so far, up to a value
    for tag in _ODS_TAG.finditer(content):
        closing, name, attributes = tag.groups()
        empty = attributes.rstrip().endswith(b"/")
        cell = name in (b"table-cell", b"covered-table-cell")
        if inside:
            if cell:
                inside += -1 if closing else 0 if empty else 1
            continue
        repeated = _ODS_REPEATS.search(attributes)
        repeats = decimal_number(repeated.group(1)) if repeated else 1
        if cell:
            if not closing:
                used += repeats
                if _ODS_VALUE.search(attributes):
                    width = used
                inside = 0 if empty else 1
        elif name == b"table-row":
            if not closing:
                row_repeats, used, width = repeats, 0, 0
            if closing or empty:
                position += row_repeats
                if width:
                    rows, columns = position, max(columns, width)
                row_repeats, used, width = 1, 0, 0
        elif closing:
            total, rows, columns, position = total + rows * columns, 0, 0, 0
    return total + rows * columns
