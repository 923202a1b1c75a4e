"""The .xlsx/.xlsm cell bound: a sheet part's grid, bounded chunk by chunk as its XML streams by.

calamine places a cell by its ``r`` reference (the last ``r`` attribute of a ``c`` element: any
namespace prefix, any letter case, any quoting), else one column right of the cell before it, on
the row its ``row`` element named or counted; cells without a value (``<c r="XFD9" s="3"/>``,
formatting only) are left out. Excel, openpyxl, LibreOffice, XlsxWriter, POI... write every cell
as ``<c r="B7"`` (``<x:c r="B7"`` from .NET), so a quick check proves, chunk by chunk, that no
reference lies right of the widest column seen so far or below max_cells // that width, and that
no cell or ``r`` is written otherwise. The chunk that fails it (the first cells, a wider row, a
far one) is read closely with ``re``; a part holding anything unusual (a cell without a leading
``r="..."``, ``r`` written ``r = 'B7'`` or twice, 8 MiB without markup) is walked tag by tag as
calamine reads it (``walked_span``). ``<dimension ref=..>`` is not used: it can be missing or
lie.

The quick check runs pydantic-core's Rust regex (a DFA, linear; pydantic is in the shared
layer) through a ``str`` pattern: ~1.7 ns a byte for the whole language, where Python's
backtracking ``re`` takes 2-3x that for a part of it. On a 100,000 x 20 sheet (70 MB of XML) it
adds ~0.12 s to ~2.4 s of cleaning.
"""

import re
from functools import cache
from typing import Final

from pydantic_core import SchemaValidator, core_schema

from excel_cleaner.intake.cell_limit import column_letters, decimal_number, too_many_cells
from excel_cleaner.intake.xml_patterns import (
    ANY_TAG,
    ATTRIBUTES,
    NOT_MARKUP,
    WHITESPACE_OR_END,
)

_MAX_MARKUP_GAP: Final = 8 << 20  # text without any "<" beyond which a part is walked instead
_PREFIX: Final = rb"(?:[A-Za-z_][\w.\-]*:)?"
_REFERENCE: Final = re.compile(rb"([A-Za-z]+)([0-9]+)")
_R_VALUE: Final = re.compile(rb"""(?:^|[\t\n\r "'])r[\t\n\r ]*=[\t\n\r ]*(?:"([^"]*)"|'([^']*)')""")
_HAS_CHILD: Final = rb"(?=[^<]*<[^/])"  # before its end tag: calamine reads no value otherwise
_CHILD: Final = re.compile(_HAS_CHILD)
_VALUED_CELL: Final = re.compile(
    rb"<" + _PREFIX + rb'c r="([A-Za-z]+)([0-9]+)"'
    rb"""(?:[^>"'/]|"[^"]*"|'[^']*'|/(?!>))*>""" + _HAS_CHILD
)
# An r attribute not written r="...", or a c tag whose first attribute is not r="...".
_ODD_R: Final = r"""[\t\n\r "']r(?:[\t\n\r ]|=[\t\n\r '])"""
_ODD_CELL: Final = r"""[<:]c(?:[/>\t\n\r]| [^r]| r[^=]| r=[^"])"""
# The next c or row tag (groups: "/" or "", name, attributes), whatever it follows.
_SHEET_TAG: Final = re.compile(
    rb"(?:[^<]++|(?!</?"
    + _PREFIX
    + rb"(?:c|row)"
    + WHITESPACE_OR_END
    + rb"|<[!?])"
    + ANY_TAG
    + rb"|"
    + NOT_MARKUP
    + rb")*+"
    + rb"<(/?)"
    + _PREFIX
    + rb"(c|row)"
    + WHITESPACE_OR_END
    + ATTRIBUTES
    + rb">",
    re.DOTALL,
)


def column_number(letters: bytes) -> int:
    """b"A" → 1, b"xfd" → 16384."""
    number = 0
    for letter in letters.upper():
        number = number * 26 + letter - ord("A") + 1
    return number


def cell_position(reference: bytes) -> tuple[int, int] | None:
    """(row, column), 1-based, of a reference like b"XFD1048576", else None."""
    match = _REFERENCE.fullmatch(reference)
    return (
        None if match is None else (decimal_number(match.group(2)), column_number(match.group(1)))
    )


def _r_values(attributes: bytes) -> list[bytes]:
    return [double or single for double, single in _R_VALUE.findall(attributes)]


def _letters_above(column: int) -> str:
    """A regex for column letters (any case) naming a column right of ``column``."""
    if column < 1:
        return "[A-Za-z]"
    name = column_letters(column)
    branches = [f"[A-Za-z]{{{len(name) + 1}}}"]
    for index, letter in enumerate(name):
        if letter != "Z":
            above = chr(ord(letter) + 1)
            same = "".join(f"[{known}{known.lower()}]" for known in name[:index])
            rest = len(name) - index - 1
            tail = f"[A-Za-z]{{{rest}}}" if rest else ""
            branches.append(f"{same}[{above}-Z{above.lower()}-z]{tail}")
    return "(?:" + "|".join(branches) + ")"


def _number_above(number: int) -> str:
    """A regex for a decimal number without leading zeros greater than ``number``."""
    digits = str(number)
    branches = [f"[1-9][0-9]{{{len(digits)}}}"]
    for index, digit in enumerate(digits):
        if digit != "9":
            rest = len(digits) - index - 1
            tail = f"[0-9]{{{rest}}}" if rest else ""
            branches.append(f"{digits[:index]}[{int(digit) + 1}-9]{tail}")
    return "(?:" + "|".join(branches) + ")"


@cache
def _quick_check(columns: int, rows: int) -> SchemaValidator:
    """Matches text holding an r value right of ``columns`` or below ``rows``, or an unusual
    cell or r attribute."""
    beyond = rf"""[\t\n\r "']r="(?:{_letters_above(columns)}|[A-Za-z]*0*{_number_above(rows)})"""
    pattern = f"{beyond}|{_ODD_R}|{_ODD_CELL}"
    return SchemaValidator(core_schema.str_schema(pattern=pattern, regex_engine="rust-regex"))


@cache
def _unusual_markup() -> SchemaValidator:
    """Matches an unusual cell or r attribute, or an r attribute after another attribute."""
    pattern = rf"""{_ODD_R}|{_ODD_CELL}|["'][\t\n\r ]*r="""
    return SchemaValidator(core_schema.str_schema(pattern=pattern, regex_engine="rust-regex"))


class SheetScan:
    """Bounds one .xlsx sheet part as its XML streams by: ``feed`` every chunk, ``finish``.

    Each chunk is checked whole, and so is the seam between two chunks (from the last but one
    ``<`` before it to just past the first after it): a tag, and what follows a cell's start
    tag up to the next tag, is then seen whole once, and text cut by a boundary cannot match
    anything it would not match whole. Raises ``too_many_cells`` as soon as two valued cells
    span too many; afterwards ``needs_walk`` asks for the whole part to be walked
    (``walked_span``) and ``needs_rescan`` for it to be read again with ``columns`` known from
    the start (the widest column grew after chunks had been passed against a narrower one).
    """

    def __init__(self, part: str, max_cells: int, columns: int = 0, guess: int = 26) -> None:
        self.part = part
        self.max_cells = max_cells
        self.columns = columns  # the widest valued cell read so far (or known from the start)
        self.rows = 0  # the lowest valued cell read so far
        self.needs_walk = False
        self._guess = guess  # columns the quick check allows before any wider one is read
        self._passed = (0, 0)  # the largest bounds chunks passed by the quick check were held to
        self._carry = ""  # the text read since the last but one "<"

    @property
    def needs_rescan(self) -> bool:
        rows, columns = max(self.rows, self._passed[0]), max(self.columns, self._passed[1])
        return not self.needs_walk and rows * columns > self.max_cells

    def rescan(self) -> "SheetScan":
        """A scan to read the part again with, from the columns read so far and no guess."""
        return SheetScan(self.part, self.max_cells, columns=self.columns, guess=0)

    def feed(self, chunk: bytes) -> None:
        if self.needs_walk:
            return
        text = chunk.decode("latin-1")
        first = text.find("<")
        if first >= 0 and self._carry:
            self._check(self._carry + text[: first + 2])
        self._check(text)
        last = text.rfind("<")
        if last < 0:
            self._carry += text
        elif (before := text.rfind("<", 0, last)) >= 0:
            self._carry = text[before:]
        else:
            self._carry = self._carry[max(self._carry.rfind("<"), 0) :] + text
        if len(self._carry) > _MAX_MARKUP_GAP:
            self.needs_walk, self._carry = True, ""

    def finish(self) -> None:
        self._carry = ""

    def _check(self, text: str) -> None:
        if self.needs_walk:
            return
        columns = max(self.columns, self._guess)
        row_bound = self.max_cells // max(columns, 1)
        if not _quick_check(columns, row_bound).isinstance_python(text):
            if 'c r="' in text:
                self._passed = (max(self._passed[0], row_bound), max(self._passed[1], columns))
            return
        if _unusual_markup().isinstance_python(text):
            self.needs_walk = True
            return
        cells = _VALUED_CELL.findall(text.encode("latin-1"))
        if cells:
            letters, numbers = zip(*cells, strict=True)
            self.rows = max(self.rows, *map(decimal_number, numbers))
            self.columns = max(self.columns, *map(column_number, set(letters)))
        if self.rows * self.columns > self.max_cells:
            raise too_many_cells(self.part, self.rows, self.columns, self.max_cells)


def walked_span(xml: bytes) -> tuple[int, int]:
    """(rows, columns) up to the farthest valued cell of a sheet part, placing cells the way
    calamine's reader does (see the module docstring); where calamine takes one of several ``r``
    attributes, the largest is taken."""
    row = column = rows = columns = 0  # row, column: calamine's 0-based cursor
    for tag in _SHEET_TAG.finditer(xml):
        closing, name, attributes = tag.groups()
        empty = attributes.rstrip().endswith(b"/")
        if name == b"row":
            numbers = [
                decimal_number(n)
                for value in _r_values(attributes)
                for n in re.findall(rb"[0-9]+", value)
            ]
            if numbers and not closing:
                row = max(numbers) - 1
            if closing or empty:
                row, column = row + 1, 0
            continue
        if closing:
            continue
        places = [p for p in map(cell_position, _r_values(attributes)) if p is not None]
        if places:
            cell_row, column = max(p[0] for p in places), max(p[1] for p in places)
        else:
            cell_row, column = row + 1, column + 1
        if not empty and _CHILD.match(xml, tag.end()):
            rows, columns = max(rows, cell_row), max(columns, column)
    return rows, columns
