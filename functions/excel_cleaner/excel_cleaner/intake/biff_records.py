"""Hidden rows, hidden columns and pivot tables of a legacy .xls (BIFF8, or BIFF5 "Book"), read
from its workbook stream's records, since calamine reads the cells but not these.

The globals substream's BOUNDSHEET records name each sheet and give the stream position of its
BOF; the sheet's substream then holds a ROW record per described row (its fDyZero bit hides it,
and a DEFAULTROWHEIGHT with fDyZero hides every row without one), COLINFO records for column
ranges (fHidden) and an SXVIEW record per pivot table: its body's range, page field count and
first data row (the row above it names the table's columns), with the page area's shape in the
SXEX record after it; the area includes the page fields, as ``xlsx_layout`` has it. Record
layouts follow [MS-XLS].

Only those records are decoded; the cell records between them are passed over without a Python
step each where possible: runs of fixed-size cells (NUMBER, RK, LABELSST, BLANK, BOOLERR) are
matched by one regular expression along their record boundaries, and a row block is jumped over
when the sheet's INDEX points at a DBCELL that points back at the block (Excel writes both;
LibreOffice neither). A 50 MB stream takes a fraction of a second. Each sheet is read only up to
the next sheet's BOF and every position is checked, so the work stays linear in the stream's
size and a damaged stream raises ValueError (the caller then has no facts).
"""

import codecs
import re
import struct
from bisect import bisect_left
from dataclasses import dataclass, field
from typing import Final

from excel_cleaner.intake.compound_file import XLS_STREAMS, cfb_stream, cfb_stream_names
from excel_cleaner.sheet_facts import IndexRanges, PivotArea, SheetFacts

_HEADER: Final = struct.Struct("<HH")
_U16: Final = struct.Struct("<H")
_U32: Final = struct.Struct("<I")

_BOF: Final = 0x0809
_EOF: Final = 0x000A
_FILEPASS: Final = 0x002F
_CODEPAGE: Final = 0x0042
_BOUNDSHEET: Final = 0x0085
_INDEX: Final = 0x020B
_DEFAULT_ROW_HEIGHT: Final = 0x0225
_ROW: Final = 0x0208
_DBCELL: Final = 0x00D7
_COLINFO: Final = 0x007D
_SXVIEW: Final = 0x00B0
_SXEX: Final = 0x00F1
_SHEET_RECORDS: Final = frozenset(
    {_BOF, _EOF, _INDEX, _DEFAULT_ROW_HEIGHT, _ROW, _COLINFO, _SXVIEW, _SXEX}
)
# type: data length of the cell records that never vary in size
_FIXED_SIZE_CELLS: Final = {0x0203: 14, 0x027E: 10, 0x00FD: 10, 0x0201: 6, 0x0205: 8}
_FIXED_SIZE_CELL_RUN: Final = re.compile(
    b"(?:"
    + b"|".join(
        re.escape(_HEADER.pack(kind, length)) + b".{%d}" % length
        for kind, length in _FIXED_SIZE_CELLS.items()
    )
    + b")*+",
    re.DOTALL,
)

_BIFF8: Final = 0x0600
_BIFF5: Final = 0x0500  # BIFF5 and BIFF7
_GLOBALS: Final = 0x0005
_LAST_ROW: Final = {_BIFF8: 0xFFFF, _BIFF5: 0x3FFF}
_LAST_COLUMN: Final = 0xFF
_DBCELL_POSITIONS_AT: Final = {_BIFF8: 16, _BIFF5: 12}  # in the INDEX record
_CELL_SHEET_TYPES: Final = (0x00, 0x01)  # worksheet or dialog sheet, macro sheet

_ROW_HIDDEN: Final = 0x0020  # fDyZero, in the ROW record's flags at offset 12
_EMPTY_ROWS_HIDDEN: Final = 0x0002  # fDyZero, in DEFAULTROWHEIGHT's flags
_COLUMNS_HIDDEN: Final = 0x01  # fHidden, in COLINFO's flags at offset 8

_CODEPAGE_CODECS: Final = {367: "ascii", 1200: "utf-16-le", 10000: "mac_roman", 0x8000: "mac_roman"}


@dataclass(frozen=True, slots=True)
class _BoundSheet:
    name: str
    position: int  # of the sheet's BOF record in the workbook stream
    sheet_type: int


def xls_sheet_facts(data: bytes) -> dict[str, SheetFacts]:
    """Each sheet's hidden rows and columns and pivot tables, by the name calamine gives the
    sheet; ValueError if the file or its workbook stream is damaged, encrypted or not BIFF5/8."""
    names = cfb_stream_names(data)
    stream_name = next((name for name in XLS_STREAMS if name in names), None)
    if stream_name is None:
        raise ValueError("no Workbook or Book stream")
    stream = cfb_stream(data, stream_name, max_bytes=len(data))
    try:
        version, sheets = _read_globals(stream)
        starts = sorted({sheet.position for sheet in sheets})
        limits = dict(zip(starts, [*starts[1:], len(stream)], strict=True))
        cell_sheets = {sheet.position for sheet in sheets if sheet.sheet_type in _CELL_SHEET_TYPES}
        facts_at = {
            start: _read_sheet(stream, start, limits[start], version) for start in cell_sheets
        }
    except struct.error as error:
        raise ValueError(f"truncated record: {error}") from error
    return {sheet.name: facts_at.get(sheet.position, SheetFacts()) for sheet in sheets}


def _record_at(stream: bytes, position: int, limit: int) -> tuple[int, int, int]:
    """The record type, the position of its data and the position of the next record."""
    if position + 4 > limit:
        raise ValueError(f"a substream ends inside a record header at {position}")
    kind, length = _HEADER.unpack_from(stream, position)
    following = position + 4 + length
    if following > limit:
        raise ValueError(f"record 0x{kind:04X} at {position} runs past its substream")
    return kind, position + 4, following


def _read_bof(stream: bytes, position: int, limit: int) -> tuple[int, int, int]:
    """The BIFF version and substream type of the BOF record at ``position``, and the position
    of the record after it."""
    kind, body, following = _record_at(stream, position, limit)
    if kind != _BOF or following - body < 4:
        raise ValueError(f"no BOF record at {position}")
    version, substream = struct.unpack_from("<HH", stream, body)
    return version, substream, following


def _read_globals(stream: bytes) -> tuple[int, list[_BoundSheet]]:
    version, substream, position = _read_bof(stream, 0, len(stream))
    if version not in _LAST_ROW or substream != _GLOBALS:
        raise ValueError(f"not a BIFF5 or BIFF8 workbook (version 0x{version:04X})")
    encoding = "cp1252"
    bound_sheets: list[bytes] = []
    while True:
        kind, body, following = _record_at(stream, position, len(stream))
        if kind == _EOF:
            break
        if kind == _FILEPASS:
            raise ValueError("the workbook is encrypted")
        if kind == _CODEPAGE and following - body >= 2:
            encoding = _codec(_U16.unpack_from(stream, body)[0])
        elif kind == _BOUNDSHEET:
            bound_sheets.append(stream[body:following])
        position = following
    return version, [_bound_sheet(record, version, encoding) for record in bound_sheets]


def _codec(codepage: int) -> str:
    """The Python codec for a CODEPAGE record's value (cp1252 when unknown)."""
    name = _CODEPAGE_CODECS.get(codepage, f"cp{codepage}")
    try:
        codecs.lookup(name)
    except LookupError:
        return "cp1252"
    return name


def _bound_sheet(record: bytes, version: int, encoding: str) -> _BoundSheet:
    """A BOUNDSHEET record: lbPlyPos (4 bytes), hsState, dt, then the name: in BIFF8 a
    ShortXLUnicodeString (cch, the fHighByte flag, the characters), in BIFF5 cch and 8-bit
    characters in the CODEPAGE's encoding."""
    if len(record) < 7:
        raise ValueError("a BOUNDSHEET record is too short")
    position = _U32.unpack_from(record, 0)[0]
    sheet_type, count = record[5], record[6]
    if version == _BIFF8:
        wide = len(record) > 7 and record[7] & 0x01
        start, end = 8, 8 + count * (2 if wide else 1)
        encoding = "utf-16-le" if wide else "latin-1"  # a high byte of 0: the first 256 points
    else:
        start, end = 7, 7 + count
    if len(record) < end:
        raise ValueError("a BOUNDSHEET record's name runs past the record")
    return _BoundSheet(record[start:end].decode(encoding, "replace"), position, sheet_type)


@dataclass(slots=True)
class _PivotView:
    """An SXVIEW record's body range (ref) and first data row, and the page fields above the
    body: how many (cDimPg), in how many rows and columns (its SXEX record's crwPage and
    ccolPage, when there is one)."""

    first_row: int
    last_row: int
    first_column: int
    last_column: int
    first_data_row: int
    page_fields: int
    page_rows: int = 0
    page_columns: int = 0

    def area(self) -> PivotArea:
        """The body with the page fields above it (one row each, label and value pairs across
        with a blank column between, a blank row above the body), as the .xlsx reader has it;
        the header row is the one above the first data row."""
        header_row = min(max(self.first_data_row - 1, self.first_row), self.last_row)
        top, right = self.first_row, self.last_column
        if self.page_fields:
            top = max(top - (self.page_rows or self.page_fields) - 1, 0)
            right = max(right, self.first_column + 3 * max(self.page_columns, 1) - 2)
        return PivotArea(top, self.first_column, self.last_row, right, header_row)


@dataclass(slots=True)
class _SheetScan:
    """What a sheet's records said, gathered while they are walked."""

    version: int
    hidden_rows: list[int] = field(default_factory=list)
    described_rows: list[int] = field(default_factory=list)
    hidden_columns: list[tuple[int, int]] = field(default_factory=list)
    pivots: list[_PivotView] = field(default_factory=list)
    dbcells: list[int] = field(default_factory=list)  # positions, from the INDEX record
    empty_rows_hidden: bool = False

    def take(self, kind: int, record: bytes) -> None:
        """Notes what a COLINFO, SXVIEW, SXEX, DEFAULTROWHEIGHT or INDEX record says."""
        if kind == _COLINFO and len(record) >= 9:
            first, last = struct.unpack_from("<HH", record, 0)
            if record[8] & _COLUMNS_HIDDEN and first <= _LAST_COLUMN:
                self.hidden_columns.append((first, min(last, _LAST_COLUMN)))
        elif kind == _SXVIEW and len(record) >= 12:
            self._take_pivot(record)
        elif kind == _SXEX and len(record) >= 14 and self.pivots:
            # csxformat, cchErrorString, cchNullString, cchTag, csxselect, crwPage, ccolPage
            page_rows, page_columns = struct.unpack_from("<HH", record, 10)
            self.pivots[-1].page_rows, self.pivots[-1].page_columns = page_rows, page_columns
        elif kind == _DEFAULT_ROW_HEIGHT and len(record) >= 2:
            self.empty_rows_hidden = bool(_U16.unpack_from(record, 0)[0] & _EMPTY_ROWS_HIDDEN)
        elif kind == _INDEX:
            offset = _DBCELL_POSITIONS_AT[self.version]
            count = max(len(record) - offset, 0) // 4
            self.dbcells = sorted(struct.unpack_from(f"<{count}I", record, offset))

    def _take_pivot(self, record: bytes) -> None:
        # ref (rwFirst, rwLast, colFirst, colLast), rwFirstHead, rwFirstData ... cDimPg at 28.
        # The row naming the columns is the one above the data: rwFirstHead is the first row of
        # the row area, the first data row itself when the table has no column fields.
        first_row, last_row, first_column, last_column, _, first_data_row = struct.unpack_from(
            "<6H", record, 0
        )
        page_fields = _U16.unpack_from(record, 28)[0] if len(record) >= 30 else 0
        if first_row <= last_row and first_column <= last_column:
            self.pivots.append(
                _PivotView(
                    first_row, last_row, first_column, last_column, first_data_row, page_fields
                )
            )

    def facts(self) -> SheetFacts:
        if self.empty_rows_hidden:  # rows without a ROW record are hidden, the others say
            visible = sorted(set(self.described_rows) - set(self.hidden_rows))
            starts = [0, *(row + 1 for row in visible)]
            ends = [*(row - 1 for row in visible), _LAST_ROW[self.version]]
            rows = IndexRanges.of(zip(starts, ends, strict=True))
        else:
            rows = IndexRanges.of((row, row) for row in self.hidden_rows)
        pivots = tuple(view.area() for view in self.pivots)
        return SheetFacts(rows, IndexRanges.of(self.hidden_columns), pivots)


def _read_sheet(stream: bytes, start: int, limit: int, version: int) -> SheetFacts:
    """Walks the sheet substream from its BOF at ``start`` to its EOF, before ``limit``."""
    _, _, position = _read_bof(stream, start, limit)
    scan = _SheetScan(version)
    depth = 1  # an embedded chart's BOF..EOF may sit inside the sheet's substream
    # whether a run of fixed-size cells followed a record of this type the last time
    cells_follow: dict[int, bool] = {}
    previous = _BOF
    while True:
        if position + 4 > limit:
            raise ValueError(f"the sheet at {start} has no EOF record before {limit}")
        kind, length = _HEADER.unpack_from(stream, position)
        following = position + 4 + length
        if following > limit:
            raise ValueError(f"record 0x{kind:04X} at {position} runs past its sheet")
        if kind not in _SHEET_RECORDS:
            if kind in _FIXED_SIZE_CELLS and previous not in _FIXED_SIZE_CELLS:
                cells_follow[previous] = True
            if cells_follow.get(kind, kind in _FIXED_SIZE_CELLS):
                run_end = _past_fixed_size_cells(stream, following, limit)
                cells_follow[kind] = run_end > following
                following = run_end
        elif kind == _BOF:
            depth += 1
        elif kind == _EOF:
            depth -= 1
            if depth == 0:
                return scan.facts()
        elif depth > 1:
            pass
        elif kind == _ROW:
            following = _read_row_run(stream, position, limit, scan)
            following = _past_fixed_size_cells(stream, following, limit)
        else:
            scan.take(kind, stream[position + 4 : following])
        previous = kind
        position = following


def _past_fixed_size_cells(stream: bytes, position: int, limit: int) -> int:
    """The end of the run of fixed-size cell records at ``position`` (itself if none)."""
    run = _FIXED_SIZE_CELL_RUN.match(stream, position, limit)
    return run.end() if run else position


def _read_row_run(stream: bytes, position: int, limit: int, scan: _SheetScan) -> int:
    """Reads the run of ROW records at ``position``; returns where to go on: past the block's
    DBCELL when the INDEX leads to one that points back at this run, else the run's end."""
    block_start = position
    while True:
        kind, body, following = _record_at(stream, position, limit)
        if kind != _ROW:
            break
        if following - body >= 14:
            row = _U16.unpack_from(stream, body)[0]
            scan.described_rows.append(row)
            if _U16.unpack_from(stream, body + 12)[0] & _ROW_HIDDEN:
                scan.hidden_rows.append(row)
        position = following
    return _past_dbcell(stream, scan.dbcells, block_start, position, limit)


def _past_dbcell(
    stream: bytes, dbcells: list[int], block_start: int, run_end: int, limit: int
) -> int:
    index = bisect_left(dbcells, run_end)
    if index == len(dbcells):
        return run_end
    dbcell = dbcells[index]
    try:
        kind, body, following = _record_at(stream, dbcell, limit)
    except ValueError:
        return run_end
    if kind != _DBCELL or following - body < 4:
        return run_end
    # dbRtrw: from the DBCELL back to the block's first ROW record
    return following if _U32.unpack_from(stream, body)[0] == dbcell - block_start else run_end
