"""A workbook's bytes → one clean table per sheet, or the reason the file is rejected.

Checks, cheapest first, before python-calamine parses anything:

1. the key ends in .xlsx, .xlsm, .xls or .ods (``unsupported_type``); not empty
   (``empty_file``); at most ``max_object_bytes`` (``too_large``).
2. The content decides the format, not the name (a ``.xls`` that is really an .xlsx is read):
   - a zip (xlsx/xlsm/ods): the central directory must list at most 10,000 entries, none
     encrypted, unpacking to at most ``max_uncompressed_bytes`` and at most
     ``max_decompression_ratio`` times the file's size (``zip_bomb`` / ``too_large``); then
     every entry is inflated once, in chunks, and thrown away: Python's zipfile stops at
     the declared size and checks the CRC, so an archive whose directory lies, or which is
     truncated or damaged, is ``corrupt`` before the Rust reader allocates anything. It must
     hold ``xl/workbook.xml`` or an OpenDocument spreadsheet's ``content.xml``. While a sheet's
     XML streams by, the grid calamine would allocate for it is bounded (``too_many_cells``,
     see "Cell bounds" below): calamine loads a sheet as a dense rows x columns grid, so a few
     KB holding a value at A1 and one at XFD1048576 would ask for hundreds of GB.
   - an OLE2 compound file: its directory is read; an ``EncryptionInfo`` stream means a
     password-protected OOXML workbook (``encrypted``); a ``Workbook``/``Book`` stream is an
     .xls; anything else (a Word document...) is ``not_a_workbook``.
   - anything else (CSV or text renamed .xlsx, HTML, PDF...) is ``not_a_workbook``.
3. calamine reads the workbook; a password-protected .xls is ``encrypted``, any reader error
   ``corrupt``. A sheet with more than ``max_rows`` rows rejects the file (``too_many_rows``):
   half a workbook would be a silently incomplete dataset.

Visible worksheets are cleaned (``excel_cleaner.sheets``); empty, hidden and chart sheets are
skipped and reported. No sheet with a table → ``no_data``.
"""

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Final

from pydantic_core import SchemaValidator, core_schema
from python_calamine import (
    CalamineSheet,
    CalamineWorkbook,
    PasswordError,
    SheetTypeEnum,
    SheetVisibleEnum,
)

from excel_cleaner.sheets import (
    CleanedSheet,
    HeaderRowMissingError,
    MergedRange,
    SheetOverrides,
    clean_sheet,
)
from excel_cleaner.specs import CleaningSpec
from excel_cleaner.values import sheet_file_names

SUPPORTED_SUFFIXES: Final = (".xlsx", ".xlsm", ".xls", ".ods")
ZIP_MAGIC: Final = (b"PK\x03\x04", b"PK\x05\x06")
CFB_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_ZIP_ENTRIES: Final = 10_000
ODS_MIMETYPE: Final = b"application/vnd.oasis.opendocument.spreadsheet"
_CHUNK: Final = 1 << 20
_ENCRYPTED_STREAMS: Final = frozenset({"EncryptionInfo", "EncryptedPackage"})
_XLS_STREAMS: Final = frozenset({"Workbook", "Book"})


class RejectReason(StrEnum):
    UNSUPPORTED_TYPE = "unsupported_type"
    EMPTY_FILE = "empty_file"
    TOO_LARGE = "too_large"
    NOT_A_WORKBOOK = "not_a_workbook"
    CORRUPT = "corrupt"
    ENCRYPTED = "encrypted"
    ZIP_BOMB = "zip_bomb"
    TOO_MANY_ROWS = "too_many_rows"
    TOO_MANY_CELLS = "too_many_cells"
    NO_DATA = "no_data"
    SHEET_NOT_FOUND = "sheet_not_found"
    SPEC_MISMATCH = "spec_mismatch"


class WorkbookRejectedError(Exception):
    """The file cannot be cleaned; ``reason`` is a stable code, the message says why."""

    def __init__(self, reason: RejectReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True, slots=True)
class Limits:
    max_object_bytes: int = 50 * 1024 * 1024
    max_uncompressed_bytes: int = 512 * 1024 * 1024
    max_decompression_ratio: float = 100.0
    max_rows: int = 1_000_000
    max_cells: int = 20_000_000


@dataclass(frozen=True, slots=True)
class SkippedSheet:
    sheet: str
    reason: str


@dataclass(frozen=True, slots=True)
class CleanedTable:
    """A cleaned sheet and the file name its CSV gets (unique snake_case sheet name)."""

    file_name: str
    sheet: CleanedSheet


@dataclass(frozen=True, slots=True)
class CleanedWorkbook:
    format: str
    tables: tuple[CleanedTable, ...]
    skipped: tuple[SkippedSheet, ...]


def suffix_of(key: str) -> str:
    name = key.rsplit("/", 1)[-1]
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def check_key(key: str) -> None:
    suffix = suffix_of(key)
    if suffix not in SUPPORTED_SUFFIXES:
        shown = repr(suffix) if suffix else "no extension"
        raise WorkbookRejectedError(
            RejectReason.UNSUPPORTED_TYPE,
            f"unsupported file type ({shown}); expected one of {', '.join(SUPPORTED_SUFFIXES)}",
        )


def check_size(size: int, limits: Limits) -> None:
    if size == 0:
        raise WorkbookRejectedError(RejectReason.EMPTY_FILE, "the file is empty (0 bytes)")
    if size > limits.max_object_bytes:
        raise WorkbookRejectedError(
            RejectReason.TOO_LARGE,
            f"the file is {size} bytes; the limit is {limits.max_object_bytes} bytes",
        )


# ------------------------------------------------------------------------------ content sniffing


def describe_content(data: bytes) -> str:
    """What a file that is no workbook seems to be, for the failure message."""
    head = data[:4096]
    if head.startswith(b"%PDF"):
        return "a PDF document"
    if head.startswith(b"\x1f\x8b"):
        return "a gzip archive"
    if b"\x00" in head:
        return "binary content of an unknown kind"
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if text.startswith("<"):
        return "an HTML or XML document"
    first_line = text.split("\n", 1)[0]
    if any(separator in first_line for separator in (",", ";", "\t", "|")):
        return "text with delimited values (a CSV file renamed?)"
    return "plain text"


def _zip_format(archive: zipfile.ZipFile, names: set[str]) -> str:
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "xl/workbook.bin" in names:
        return "xlsb"
    if "content.xml" in names and "mimetype" in names:
        with archive.open("mimetype") as entry:
            if entry.read(len(ODS_MIMETYPE) + 1).strip() == ODS_MIMETYPE:
                return "ods"
    raise WorkbookRejectedError(
        RejectReason.NOT_A_WORKBOOK,
        "not a workbook: a zip archive holding neither xl/workbook.xml nor an OpenDocument "
        "spreadsheet (another Office document renamed?)",
    )


# ------------------------------------------------------------------------------ cell bounds
#
# calamine reads a sheet's cells, then allocates a dense rows x columns grid (~30 bytes a
# cell; for .ods every sheet at once, when the workbook is opened). So each sheet's XML is
# bounded while check_zip inflates it anyway, and a sheet whose grid would exceed max_cells
# rejects the workbook (``too_many_cells``): a few KB with values at A1 and XFD1048576 would
# otherwise ask for hundreds of GB and the function would be killed, then retried.
#
# - .xlsx/.xlsm: calamine places a cell by its ``r`` reference (the last ``r`` attribute of a
#   ``c`` element: any namespace prefix, any letter case, any quoting), else one column right
#   of the cell before it, on the row its ``row`` element named or counted; cells without a
#   value (``<c r="XFD9" s="3"/>``, formatting only) are left out. Excel, openpyxl, LibreOffice,
#   XlsxWriter, POI... write every cell as ``<c r="B7"`` (``<x:c r="B7"`` from .NET), so a
#   quick check proves, chunk by chunk, that no reference lies right of the widest column seen
#   so far or below max_cells // that width, and that no cell or ``r`` is written otherwise.
#   The chunk that fails it (the first cells, a wider row, a far one) is read closely with
#   ``re``; a part holding anything unusual (a cell without a leading ``r="..."``, ``r`` written
#   ``r = 'B7'`` or twice, 8 MiB without markup) is walked tag by tag as calamine reads it.
#   ``<dimension ref=..>`` is not used: it can be missing or lie.
# - .ods: content.xml is read row by row (``ods_cell_count``); repeated rows and cells count as
#   often as they repeat (a 1 KB file can repeat a value 16,384 x 1,048,576 times), trailing
#   empty ones do not (LibreOffice pads every sheet with them), and the sheets add up. It costs
#   ~0.8 us a cell: calamine's own .ods reader is fast, so a large .ods takes ~2x as long.
#
# The bound is rows x columns up to the farthest valued cell (calamine's grid starts at the
# first one: it can only be smaller). The quick check runs pydantic-core's Rust regex (a DFA,
# linear; pydantic is in the shared layer) through a ``str`` pattern: ~1.7 ns a byte for the
# whole language, where Python's backtracking ``re`` takes 2-3x that for a part of it. On a
# 100,000 x 20 sheet (70 MB of XML) it adds ~0.12 s to ~2.4 s of cleaning.

_SHEET_DIRECTORIES: Final = ("xl/worksheets/", "xl/chartsheets/", "xl/dialogsheets/")
_SHEET_CHUNK: Final = 1 << 18  # the quick check runs faster over chunks that stay in cache
_MAX_MARKUP_GAP: Final = 8 << 20  # text without any "<" beyond which a part is walked instead
_QUOTED: Final = rb"""(?:"[^"]*+"|'[^']*+')"""
_ATTRIBUTES: Final = rb"""((?:[^>"']|""" + _QUOTED + rb""")*+)"""  # "/" of "/>" included
_ANY_TAG: Final = rb"""<[^>"']*+(?:""" + _QUOTED + rb"""[^>"']*+)*+>"""
_NOT_MARKUP: Final = (  # comments, CDATA, processing instructions, declarations
    rb"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|<![^\[>]*+(?:\[.*?\])?[^>]*+>"
)
_WHITESPACE_OR_END: Final = rb"(?=[\t\n\r />])"

# .xlsx
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
    + _WHITESPACE_OR_END
    + rb"|<[!?])"
    + _ANY_TAG
    + rb"|"
    + _NOT_MARKUP
    + rb")*+"
    + rb"<(/?)"
    + _PREFIX
    + rb"(c|row)"
    + _WHITESPACE_OR_END
    + _ATTRIBUTES
    + rb">",
    re.DOTALL,
)

# .ods
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
    content = rb"(?:[^<]++|(?!</?table:|<[!?])" + _ANY_TAG + rb"|" + _NOT_MARKUP + rb")*+"
    return (
        rb"<table:(?:covered-)?table-cell"
        + _WHITESPACE_OR_END
        + attributes
        + rb"(?:/>|>"
        + content
        + rb"</table:(?:covered-)?table-cell>)"
    )


_ODS_ATTRIBUTES: Final = rb"""(?:[^>"'/]++|/(?!>)|""" + _QUOTED + rb""")*+"""  # "/>" left out
_ODS_CELL: Final = re.compile(_ods_cell(rb"(" + _ODS_ATTRIBUTES + rb")"), re.DOTALL)
# A whole row of cells with no table markup in them (groups: attributes, cells), or a table
# start or end tag (groups: "/" or "", attributes), whatever it follows.
_ODS_UNIT: Final = re.compile(
    rb"(?:[^<]++|(?!<table:table-row"
    + _WHITESPACE_OR_END
    + rb"|</?table:table"
    + _WHITESPACE_OR_END
    + rb"|<[!?])"
    + _ANY_TAG
    + rb"|"
    + _NOT_MARKUP
    + rb")*+"
    + rb"(?:<table:table-row"
    + _WHITESPACE_OR_END
    + rb"("
    + _ODS_ATTRIBUTES
    + rb")"
    + rb"(?:/>|>((?:"
    + _ods_cell(_ODS_ATTRIBUTES)
    + rb")*+)</table:table-row>)"
    + rb"|<(/?)table:table"
    + _WHITESPACE_OR_END
    + _ATTRIBUTES
    + rb">)",
    re.DOTALL,
)
# The next table, row or cell tag (groups: "/" or "", name, attributes), whatever it follows.
_ODS_TAG: Final = re.compile(
    rb"(?:[^<]++|(?!</?table:(?:table|table-row|table-cell|covered-table-cell)"
    + _WHITESPACE_OR_END
    + rb"|<[!?])"
    + _ANY_TAG
    + rb"|"
    + _NOT_MARKUP
    + rb")*+"
    + rb"<(/?)table:(table|table-row|table-cell|covered-table-cell)"
    + _WHITESPACE_OR_END
    + _ATTRIBUTES
    + rb">",
    re.DOTALL,
)


def _part_name(name: str) -> str:
    """A zip entry's name as calamine matches it: any case, "\\" for "/"."""
    return name.replace("\\", "/").lstrip("/").lower()


def is_sheet_part(name: str) -> bool:
    """A zip entry calamine may read as a sheet (chart and dialog sheets too)."""
    return _part_name(name).startswith(_SHEET_DIRECTORIES)


def column_letters(number: int) -> str:
    """1 → "A", 27 → "AA", 16384 → "XFD"."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def column_number(letters: bytes) -> int:
    """b"A" → 1, b"xfd" → 16384."""
    number = 0
    for letter in letters.upper():
        number = number * 26 + letter - ord("A") + 1
    return number


def _decimal(digits: bytes) -> int:
    """A run of decimal digits as a number, capped above anything a reader accepts (Python
    refuses to convert more than 4,300 digits)."""
    digits = digits.lstrip(b"0") or b"0"
    return int(digits) if len(digits) <= 18 else 10**18


def cell_position(reference: bytes) -> tuple[int, int] | None:
    """(row, column), 1-based, of a reference like b"XFD1048576", else None."""
    match = _REFERENCE.fullmatch(reference)
    return None if match is None else (_decimal(match.group(2)), column_number(match.group(1)))


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


def too_many_cells(sheet: str, rows: int, columns: int, limit: int) -> WorkbookRejectedError:
    return WorkbookRejectedError(
        RejectReason.TOO_MANY_CELLS,
        f"sheet {sheet!r} has a value in row {rows} and one in column "
        f"{column_letters(columns)}: it would load as {rows} x {columns} = {rows * columns} "
        f"cells; the limit is {limit} (a stray value far from the data?)",
    )


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
            self.rows = max(self.rows, *map(_decimal, numbers))
            self.columns = max(self.columns, *map(column_number, set(letters)))
        if self.rows * self.columns > self.max_cells:
            raise too_many_cells(self.part, self.rows, self.columns, self.max_cells)


def walked_span(xml: bytes) -> tuple[int, int]:
    """(rows, columns) up to the farthest valued cell of a sheet part, placing cells the way
    calamine's reader does (see "cell bounds"); where calamine takes one of several ``r``
    attributes, the largest is taken."""
    row = column = rows = columns = 0  # row, column: calamine's 0-based cursor
    for tag in _SHEET_TAG.finditer(xml):
        closing, name, attributes = tag.groups()
        empty = attributes.rstrip().endswith(b"/")
        if name == b"row":
            numbers = [
                _decimal(n)
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
            position += _decimal(repeated.group(1)) if repeated else 1
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
        used += _decimal(repeated.group(1)) if repeated else 1
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
        repeats = _decimal(repeated.group(1)) if repeated else 1
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


def _read_through(
    archive: zipfile.ZipFile, entry: zipfile.ZipInfo, scan: SheetScan | None
) -> bytes:
    """Inflates the entry once (zipfile checks its size and CRC), handing the chunks to
    ``scan``; returns the content of an OpenDocument content.xml, else nothing."""
    kept: list[bytes] = []
    keep = scan is None and _part_name(entry.filename) == "content.xml"
    size = _CHUNK if scan is None else _SHEET_CHUNK
    with archive.open(entry) as stream:
        while chunk := stream.read(size):
            if scan is not None:
                scan.feed(chunk)
            elif keep:
                kept.append(chunk)
    if scan is not None:
        scan.finish()
    return b"".join(kept)


def _settle(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, scan: SheetScan) -> None:
    while scan.needs_rescan:  # at most twice: without a guess, the second pass is the last
        scan = scan.rescan()
        _read_through(archive, entry, scan)
    if scan.needs_walk:
        rows, columns = walked_span(archive.read(entry))
        if rows * columns > scan.max_cells:
            raise too_many_cells(scan.part, rows, columns, scan.max_cells)


def check_zip(data: bytes, limits: Limits) -> str:
    """The archive's format ("xlsx", "ods"...) once its entries are within the limits."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as error:
        raise WorkbookRejectedError(
            RejectReason.CORRUPT, f"corrupt zip archive: {error}"
        ) from error
    if len(entries) > MAX_ZIP_ENTRIES:
        raise WorkbookRejectedError(
            RejectReason.ZIP_BOMB,
            f"the archive lists {len(entries)} entries; the limit is {MAX_ZIP_ENTRIES}",
        )
    if any(entry.flag_bits & 0x1 for entry in entries):
        raise WorkbookRejectedError(
            RejectReason.ENCRYPTED, "the archive's entries are password-protected"
        )
    unpacked = sum(entry.file_size for entry in entries)
    if unpacked > limits.max_uncompressed_bytes:
        raise WorkbookRejectedError(
            RejectReason.TOO_LARGE,
            f"the workbook unpacks to {unpacked} bytes; the limit is "
            f"{limits.max_uncompressed_bytes} bytes",
        )
    ratio = unpacked / len(data)
    if ratio > limits.max_decompression_ratio:
        raise WorkbookRejectedError(
            RejectReason.ZIP_BOMB,
            f"the workbook unpacks to {ratio:.0f} times its size (a zip bomb?); the limit is "
            f"{limits.max_decompression_ratio:g}",
        )
    kind = _zip_format(archive, {entry.filename for entry in entries})
    try:
        scans: list[tuple[zipfile.ZipInfo, SheetScan]] = []
        contents: list[bytes] = []
        for entry in entries:
            scan = None
            if kind == "xlsx" and is_sheet_part(entry.filename):
                scan = SheetScan(entry.filename, limits.max_cells)
                scans.append((entry, scan))
            if content := _read_through(archive, entry, scan):
                contents.append(content)
        for entry, scan in scans:
            _settle(archive, entry, scan)
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        OSError,
        ValueError,
        NotImplementedError,
        RuntimeError,
    ) as error:
        raise WorkbookRejectedError(
            RejectReason.CORRUPT, f"corrupt zip archive: {error}"
        ) from error
    if kind == "ods":
        cells = max(map(ods_cell_count, contents), default=0)
        if cells > limits.max_cells:
            raise WorkbookRejectedError(
                RejectReason.TOO_MANY_CELLS,
                f"the workbook's sheets would load as {cells} cells at once (repeated rows or "
                f"cells count as often as they repeat); the limit is {limits.max_cells}",
            )
    return kind


_MAX_REGULAR_SECTOR: Final = 0xFFFFFFFA
_CFB_HEADER: Final = 512
_DIRECTORY_ENTRY: Final = 128


def cfb_stream_names(data: bytes) -> set[str]:
    """The names in an OLE2 compound file's directory (raises ValueError if it is damaged)."""
    if len(data) < _CFB_HEADER or not data.startswith(CFB_MAGIC):
        raise ValueError("shorter than a compound file header")
    (shift,) = struct.unpack_from("<H", data, 30)
    if shift not in (9, 12):
        raise ValueError(f"unexpected sector size 2^{shift}")
    size = 1 << shift
    per_sector = size // 4

    def sector(number: int) -> bytes:
        start = (number + 1) * size
        if number >= _MAX_REGULAR_SECTOR or start + size > len(data):
            raise ValueError(f"sector {number} is outside the file")
        return data[start : start + size]

    fat_sectors = [n for n in struct.unpack_from("<109I", data, 76) if n < _MAX_REGULAR_SECTOR]
    (next_difat,) = struct.unpack_from("<I", data, 68)
    budget = len(data) // size + 1  # no chain can visit more sectors than the file holds
    while next_difat < _MAX_REGULAR_SECTOR:
        budget -= 1
        if budget < 0:
            raise ValueError("the sector allocation chain loops")
        values = struct.unpack(f"<{per_sector}I", sector(next_difat))
        fat_sectors.extend(n for n in values[:-1] if n < _MAX_REGULAR_SECTOR)
        next_difat = values[-1]
    fat: list[int] = []
    for number in fat_sectors:
        fat.extend(struct.unpack(f"<{per_sector}I", sector(number)))

    names: set[str] = set()
    (current,) = struct.unpack_from("<I", data, 48)
    budget = len(data) // size + 1
    while current < _MAX_REGULAR_SECTOR:
        budget -= 1
        if budget < 0 or current >= len(fat):
            raise ValueError("the directory chain is broken")
        block = sector(current)
        for offset in range(0, size, _DIRECTORY_ENTRY):
            (length,) = struct.unpack_from("<H", block, offset + 64)
            kind = block[offset + 66]
            if kind in (1, 2, 5) and 2 <= length <= 64:
                names.add(block[offset : offset + length - 2].decode("utf-16-le", "replace"))
        current = fat[current]
    return names


def check_cfb(data: bytes) -> str:
    try:
        names = cfb_stream_names(data)
    except (ValueError, struct.error) as error:
        raise WorkbookRejectedError(
            RejectReason.CORRUPT, f"corrupt OLE2 compound file: {error}"
        ) from error
    if names & _ENCRYPTED_STREAMS:
        raise WorkbookRejectedError(
            RejectReason.ENCRYPTED,
            "the workbook is password-protected (encrypted); save it without a password",
        )
    if names & _XLS_STREAMS:
        return "xls"
    raise WorkbookRejectedError(
        RejectReason.NOT_A_WORKBOOK,
        "not a workbook: an OLE2 compound file without a workbook stream "
        "(a Word document or another Office file renamed?)",
    )


def detect_format(data: bytes, limits: Limits) -> str:
    check_size(len(data), limits)
    if data.startswith(ZIP_MAGIC):
        return check_zip(data, limits)
    if data.startswith(CFB_MAGIC):
        return check_cfb(data)
    raise WorkbookRejectedError(
        RejectReason.NOT_A_WORKBOOK,
        f"not an Excel or OpenDocument workbook: the file is {describe_content(data)}",
    )


# ------------------------------------------------------------------------------ reading


def _reader_failed(error: BaseException) -> bool:
    """calamine's errors, and a Rust panic inside it (pyo3's PanicException is a
    BaseException): the file is unreadable. Interpreter exits and interrupts are not."""
    return isinstance(error, Exception) or type(error).__name__ == "PanicException"


def _open(data: bytes) -> CalamineWorkbook:
    try:
        return CalamineWorkbook.from_filelike(io.BytesIO(data))
    except PasswordError as error:
        raise WorkbookRejectedError(
            RejectReason.ENCRYPTED,
            "the workbook is password-protected (encrypted); save it without a password",
        ) from error
    except BaseException as error:
        if not _reader_failed(error):
            raise
        raise WorkbookRejectedError(
            RejectReason.CORRUPT, f"unreadable workbook: {error}"
        ) from error


def _merged_ranges(sheet: CalamineSheet, first_column: int, width: int) -> list[MergedRange]:
    ranges = sheet.merged_cell_ranges or []
    merges: list[MergedRange] = []
    for (first_row, first_col), (last_row, last_col) in ranges:
        left = first_col - first_column
        if left < 0 or left >= width:
            continue  # its top-left cell is outside the used area: it holds no value
        merges.append(
            MergedRange(first_row, left, last_row, min(last_col - first_column, width - 1))
        )
    return merges


def _selected_sheets(
    book: CalamineWorkbook, spec: CleaningSpec | None
) -> tuple[list[str], list[SkippedSheet]]:
    metadata = book.sheets_metadata
    if spec is not None and spec.sheet is not None:
        wanted = spec.sheet
        names = [sheet.name for sheet in metadata]
        match = wanted if wanted in names else None
        if match is None:
            folded = [n for n in names if n.strip().casefold() == wanted.strip().casefold()]
            match = folded[0] if len(folded) == 1 else None
        if match is None:
            raise WorkbookRejectedError(
                RejectReason.SHEET_NOT_FOUND,
                f"the cleaning spec names sheet {wanted!r}; the workbook has {names}",
            )
        others = [
            SkippedSheet(n, "not the sheet the cleaning spec names") for n in names if n != match
        ]
        return [match], others
    selected: list[str] = []
    skipped: list[SkippedSheet] = []
    for sheet in metadata:
        if sheet.typ != SheetTypeEnum.WorkSheet:
            skipped.append(SkippedSheet(sheet.name, "not a worksheet"))
        elif sheet.visible != SheetVisibleEnum.Visible:
            skipped.append(SkippedSheet(sheet.name, "hidden"))
        else:
            selected.append(sheet.name)
    return selected, skipped


def _load_sheet(book: CalamineWorkbook, name: str) -> CalamineSheet:
    try:
        return book.get_sheet_by_name(name)
    except BaseException as error:
        if not _reader_failed(error):
            raise
        raise WorkbookRejectedError(
            RejectReason.CORRUPT, f"unreadable sheet {name!r}: {error}"
        ) from error


def _overrides(spec: CleaningSpec | None) -> SheetOverrides:
    if spec is None:
        return SheetOverrides()
    return SheetOverrides(header_row=spec.header_row, renames=spec.renames, types=spec.types)


def _check_spec_used(spec: CleaningSpec | None, tables: Sequence[CleanedTable]) -> None:
    if spec is None:
        return
    renamed = set().union(*(t.sheet.renames_used for t in tables)) if tables else set()
    typed = set().union(*(t.sheet.types_used for t in tables)) if tables else set()
    problems = []
    unknown_renames = sorted(set(spec.renames) - renamed)
    if unknown_renames:
        problems.append(f"renames name headers the workbook does not have: {unknown_renames}")
    unknown_types = sorted(set(spec.types) - typed)
    if unknown_types:
        problems.append(f"types name columns the workbook does not have: {unknown_types}")
    if problems:
        columns = sorted({c for t in tables for c in t.sheet.columns})
        raise WorkbookRejectedError(
            RejectReason.SPEC_MISMATCH,
            f"the cleaning spec for prefix {spec.prefix!r} does not fit: "
            f"{'; '.join(problems)} (columns found: {columns})",
        )


def clean_workbook(
    data: bytes, limits: Limits, spec: CleaningSpec | None = None
) -> CleanedWorkbook:
    """Every selected sheet's clean table; raises WorkbookRejectedError with the reason."""
    kind = detect_format(data, limits)
    book = _open(data)
    try:
        selected, skipped = _selected_sheets(book, spec)
        file_names = dict(zip(book.sheet_names, sheet_file_names(book.sheet_names), strict=True))
        overrides = _overrides(spec)
        tables: list[CleanedTable] = []
        for name in selected:
            sheet = _load_sheet(book, name)
            if sheet.height > limits.max_rows:
                raise WorkbookRejectedError(
                    RejectReason.TOO_MANY_ROWS,
                    f"sheet {name!r} has {sheet.height} rows; the limit is {limits.max_rows}",
                )
            start = sheet.start
            if start is None or sheet.height == 0:
                skipped.append(SkippedSheet(name, "empty"))
                continue
            first_column = start[1]
            width = sheet.width
            try:
                cleaned = clean_sheet(
                    name,
                    sheet.iter_rows,
                    width,
                    first_column=first_column,
                    merges=_merged_ranges(sheet, first_column, width),
                    overrides=overrides,
                )
            except HeaderRowMissingError as error:
                raise WorkbookRejectedError(
                    RejectReason.SPEC_MISMATCH, f"sheet {name!r}: {error}"
                ) from error
            del sheet  # frees calamine's copy of the sheet before the next one is read
            if cleaned is None:
                skipped.append(SkippedSheet(name, "no table (only titles or notes)"))
                continue
            tables.append(CleanedTable(file_names[name], cleaned))
    finally:
        book.close()
    if not tables:
        listed = ", ".join(f"{s.sheet!r} ({s.reason})" for s in skipped) or "none"
        raise WorkbookRejectedError(
            RejectReason.NO_DATA, f"the workbook holds no table to clean; sheets: {listed}"
        )
    _check_spec_used(spec, tables)
    return CleanedWorkbook(kind, tuple(tables), tuple(skipped))
