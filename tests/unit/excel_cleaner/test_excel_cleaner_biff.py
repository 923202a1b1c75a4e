"""Legacy .xls (BIFF8, and BIFF5 "Book" streams): a password-protected one is refused as
``encrypted`` before calamine, compound-file streams are read from their sector chains or the
mini stream, and each sheet's hidden rows, hidden columns and pivot tables are read from the
records calamine does not expose.

The .xls files under ``biff_fixtures/`` were written by LibreOffice 7.4 (``make_fixtures.py``,
README.md); calamine reading the same files is the oracle for where rows and columns land.
LibreOffice no longer writes BIFF5, nor INDEX and DBCELL records, so those workbook streams are
built here record by record, inside a compound file built here too.
"""

import io
import struct
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from excel_cleaner_books import compound_file, password_protected_xlsx
from python_calamine import CalamineWorkbook

from excel_cleaner.intake import detect_format
from excel_cleaner.intake.biff_records import xls_sheet_facts
from excel_cleaner.intake.compound_file import cfb_stream, cfb_stream_names
from excel_cleaner.rejection import Limits, RejectReason, WorkbookRejectedError
from excel_cleaner.sheet_facts import IndexRanges, PivotArea, SheetFacts

FIXTURES = Path(__file__).parent / "biff_fixtures"


@cache
def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def calamine_rows(data: bytes, sheet: str) -> list[list[Any]]:
    """The sheet's cells as calamine reads them, from A1 (row and column 0)."""
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    return book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)


def calamine_sheet_names(data: bytes) -> list[str]:
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).sheet_names


def refusal(data: bytes) -> WorkbookRejectedError:
    with pytest.raises(WorkbookRejectedError) as raised:
        detect_format(data, Limits())
    return raised.value


# ------------------------------------------------------------------ compound files, built here

FREE, END_OF_CHAIN, FAT_SECTOR, DIFAT_SECTOR = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFC
NO_STREAM = 0xFFFFFFFF
SECTOR, MINI_SECTOR, MINI_STREAM_CUTOFF = 512, 64, 4096


def padded(content: bytes, unit: int) -> bytes:
    return content + bytes(-len(content) % unit)


def chained(first: int, count: int) -> list[int]:
    """Allocation-table entries for ``count`` consecutive sectors from ``first``."""
    return [*range(first + 1, first + count), END_OF_CHAIN][:count]


def compound_file_holding(streams: Sequence[tuple[str, bytes]]) -> bytes:
    """A version 3 compound file (512-byte sectors) whose root holds ``streams`` (name,
    content): those under 4096 bytes in the mini stream, the others in their own chains.
    The sectors follow each other: FAT, DIFAT (past 109 FAT sectors), directory, mini FAT,
    mini stream, regular streams."""
    mini_stream, mini_fat, starts = b"", [], {}
    for name, content in streams:
        if len(content) < MINI_STREAM_CUTOFF:
            first, count = len(mini_stream) // MINI_SECTOR, -(-len(content) // MINI_SECTOR)
            starts[name] = first if content else END_OF_CHAIN
            mini_fat += chained(first, count)
            mini_stream += padded(content, MINI_SECTOR)
    regular = [(name, content) for name, content in streams if name not in starts]
    parts = [
        bytes(-(-(len(streams) + 1) // 4) * SECTOR),  # the directory, written below
        padded(struct.pack(f"<{len(mini_fat)}I", *mini_fat), SECTOR),
        padded(mini_stream, SECTOR),
        *(padded(content, SECTOR) for _, content in regular),
    ]
    data_sectors = sum(len(part) // SECTOR for part in parts)
    fat_sectors, difat_sectors = 1, 0
    while fat_sectors * 128 < fat_sectors + difat_sectors + data_sectors:
        fat_sectors += 1
        difat_sectors = -(-max(fat_sectors - 109, 0) // 127)
    fat = [FAT_SECTOR] * fat_sectors + [DIFAT_SECTOR] * difat_sectors
    part_starts = []
    for part in parts:
        part_starts.append(len(fat) if part else END_OF_CHAIN)
        fat += chained(len(fat), len(part) // SECTOR)
    directory_start, mini_fat_start, container_start, *regular_starts = part_starts
    starts |= dict(zip((name for name, _ in regular), regular_starts, strict=True))
    entries = [("Root Entry", 5, container_start, len(mini_stream))]
    entries += [(name, 2, starts[name], len(content)) for name, content in streams]
    directory = b"".join(
        directory_entry(position, len(entries), entry) for position, entry in enumerate(entries)
    )
    parts[0] = padded(directory, SECTOR)
    header = bytearray(SECTOR)
    header[:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIII", header, 44, fat_sectors, directory_start, 0, MINI_STREAM_CUTOFF)
    struct.pack_into("<III", header, 60, mini_fat_start, -(-len(mini_fat) // 128), END_OF_CHAIN)
    struct.pack_into(
        "<II", header, 68, fat_sectors if difat_sectors else END_OF_CHAIN, difat_sectors
    )
    fat_numbers = [*range(fat_sectors), *[FREE] * (109 + 127 * difat_sectors - fat_sectors)]
    struct.pack_into("<109I", header, 76, *fat_numbers[:109])
    difat = b"".join(
        struct.pack(
            "<128I",
            *fat_numbers[109 + 127 * i : 109 + 127 * (i + 1)],
            fat_sectors + i + 1 if i + 1 < difat_sectors else END_OF_CHAIN,
        )
        for i in range(difat_sectors)
    )
    fat += [FREE] * (fat_sectors * 128 - len(fat))
    return bytes(header) + struct.pack(f"<{len(fat)}I", *fat) + difat + b"".join(parts)


def directory_entry(position: int, count: int, entry: tuple[str, int, int, int]) -> bytes:
    """Entry ``position`` of ``count``: the root's child is entry 1 and each stream's right
    sibling the next one (a degenerate but valid tree)."""
    name, kind, start, size = entry
    encoded = name.encode("utf-16-le") + b"\x00\x00"
    right = position + 1 if 0 < position < count - 1 else NO_STREAM
    child = 1 if position == 0 and count > 1 else NO_STREAM
    links = struct.pack("<HBBIII", len(encoded), kind, 1, NO_STREAM, right, child)
    return padded(encoded, 64) + links + bytes(36) + struct.pack("<IQ", start, size)


# ------------------------------------------------------------------ BIFF records, built here

BIFF8, BIFF5 = 0x0600, 0x0500
SheetBody = bytes | Callable[[int], bytes]  # or made from the stream position it starts at


def record(kind: int, body: bytes = b"") -> bytes:
    return struct.pack("<HH", kind, len(body)) + body


def bof(version: int, substream: int) -> bytes:
    fields = struct.pack("<HHHH", version, substream, 0x0DBB, 0x07CC)
    return record(0x0809, fields + (bytes(8) if version == BIFF8 else b""))


EOF_RECORD = record(0x000A)


def row(index: int, *, hidden: bool = False) -> bytes:
    flags = 0x0100 | (0x0020 if hidden else 0)
    return record(0x0208, struct.pack("<8H", index, 0, 4, 255, 0, 0, flags, 0x0F))


def number(row_index: int, column: int, value: float) -> bytes:
    return record(0x0203, struct.pack("<HHHd", row_index, column, 0x0F, value))


def label(row_index: int, column: int, text: str) -> bytes:
    """A BIFF5 LABEL cell, its text in cp1252."""
    raw = text.encode("cp1252")
    return record(0x0204, struct.pack("<4H", row_index, column, 0x0F, len(raw)) + raw)


def formula(row_index: int, column: int, value: int) -> bytes:
    """A BIFF8 FORMULA cell =value (a tInt token), its result cached."""
    tokens = b"\x1e" + struct.pack("<H", value)
    fields = struct.pack("<HHHdHIH", row_index, column, 0x0F, value, 0, 0, len(tokens))
    return record(0x0006, fields + tokens)


def colinfo(first: int, last: int, *, hidden: bool) -> bytes:
    return record(0x007D, struct.pack("<6H", first, last, 2560, 0x0F, int(hidden), 0))


def bound_sheet_name(name: str, version: int) -> bytes:
    if version == BIFF8:
        wide = any(ord(character) > 0xFF for character in name)
        return bytes([len(name), int(wide)]) + name.encode("utf-16-le" if wide else "latin-1")
    raw = name.encode("cp1252")
    return bytes([len(raw)]) + raw


def workbook_stream(version: int, sheets: Sequence[tuple[str, SheetBody]]) -> bytes:
    """Globals (BOF, CODEPAGE, a BOUNDSHEET per sheet, EOF), then each sheet: BOF, its body
    (the records between BOF and EOF), EOF."""
    codepage = 1200 if version == BIFF8 else 1252

    def globals_at(positions: Sequence[int]) -> bytes:
        bound_sheets = b"".join(
            record(0x0085, struct.pack("<IBB", position, 0, 0) + bound_sheet_name(name, version))
            for position, (name, _) in zip(positions, sheets, strict=True)
        )
        head = bof(version, 0x0005) + record(0x0042, struct.pack("<H", codepage))
        return head + bound_sheets + EOF_RECORD

    position = len(globals_at([0] * len(sheets)))
    positions, substreams = [], []
    for _, body in sheets:
        start = position + len(bof(version, 0x0010))
        records = body(start) if callable(body) else body
        positions.append(position)
        substreams.append(bof(version, 0x0010) + records + EOF_RECORD)
        position += len(substreams[-1])
    return globals_at(positions) + b"".join(substreams)


def row_blocks(rows: int, cells: Callable[[int], bytes], hidden: set[int]) -> list[bytes]:
    """Blocks of up to 32 ROW records, each followed by its rows' cells."""
    blocks = []
    for first in range(0, rows, 32):
        indexes = range(first, min(first + 32, rows))
        rows_part = b"".join(row(r, hidden=r in hidden) for r in indexes)
        blocks.append(rows_part + b"".join(cells(r) for r in indexes))
    return blocks


def indexed_sheet(blocks: Sequence[bytes], *, point_back: bool = True) -> Callable[[int], bytes]:
    """A sheet body as Excel writes one: an INDEX with each DBCELL's stream position, and a
    DBCELL after each block holding the distance back to the block's first ROW (or, with
    ``point_back`` false, a distance leading nowhere)."""

    def body(start: int) -> bytes:
        index_size = 4 + 16 + 4 * len(blocks)
        position = start + index_size
        dbcells, parts = [], []
        for block in blocks:
            dbcell_at = position + len(block)
            back = dbcell_at - position if point_back else 3
            parts.append(block + record(0x00D7, struct.pack("<I", back)))
            dbcells.append(dbcell_at)
            position += len(parts[-1])
        index = struct.pack(f"<IIII{len(dbcells)}I", 0, 0, 0, 0, *dbcells)
        return record(0x020B, index) + b"".join(parts)

    return body


def xls(version: int, sheets: Sequence[tuple[str, SheetBody]]) -> bytes:
    stream_name = "Workbook" if version == BIFF8 else "Book"
    return compound_file_holding([(stream_name, workbook_stream(version, sheets))])


# ------------------------------------------------------------------ encrypted .xls


def test_password_protected_xls_is_refused_as_encrypted() -> None:
    # Given an .xls LibreOffice saved with a password to open
    data = fixture("encrypted.xls")
    # When its format is detected
    error = refusal(data)
    # Then it is refused as encrypted, as a password-protected .xlsx is, not left to calamine
    assert error.reason is RejectReason.ENCRYPTED
    assert error.message == refusal(password_protected_xlsx()).message


def test_filepass_after_a_write_protect_record_is_encrypted_too() -> None:
    # Given a workbook stream whose BOF is followed by WRITEPROTECT, then FILEPASS
    stream = bof(BIFF8, 0x0005) + record(0x0086) + record(0x002F, bytes(54))
    # When its format is detected
    error = refusal(compound_file_holding([("Workbook", stream + EOF_RECORD)]))
    # Then it is encrypted
    assert error.reason is RejectReason.ENCRYPTED


@pytest.mark.parametrize("name", ["hidden.xls", "pivot.xls", "hidden_tail.xls"])
def test_xls_without_password_is_detected_as_xls(name: str) -> None:
    # Given an .xls saved without a password / When its format is detected / Then it is xls
    assert detect_format(fixture(name), Limits()) == "xls"


def test_biff5_book_without_password_is_detected_as_xls() -> None:
    # Given a BIFF5 workbook (a "Book" stream) / When detected / Then it is xls
    assert detect_format(xls(BIFF5, [("Sheet1", row(0))]), Limits()) == "xls"


def test_an_empty_workbook_stream_is_still_left_to_calamine() -> None:
    # Given a compound file listing an empty Workbook stream (no records to look at)
    data = compound_file(["Workbook"])
    # When its format is detected / Then it is xls as before: calamine refuses it later
    assert detect_format(data, Limits()) == "xls"


# ------------------------------------------------------------------ compound-file streams

REGULAR_CONTENT = bytes(range(256)) * 40 + b"tail"  # 10,244 bytes: over the mini cutoff
MINI_CONTENT = b"mini stream " * 100  # 1,200 bytes: under it


def test_a_stream_at_or_over_the_cutoff_is_read_from_its_sector_chain() -> None:
    # Given a compound file with one large and one small stream
    data = compound_file_holding([("Small", MINI_CONTENT), ("Large", REGULAR_CONTENT)])
    # When the large one is read / Then its bytes come back whole
    assert cfb_stream(data, "Large", max_bytes=1 << 20) == REGULAR_CONTENT


def test_a_stream_under_the_cutoff_is_read_from_the_mini_stream() -> None:
    # Given the same compound file / When the small stream is read / Then its bytes come back
    data = compound_file_holding([("Small", MINI_CONTENT), ("Large", REGULAR_CONTENT)])
    assert cfb_stream(data, "Small", max_bytes=1 << 20) == MINI_CONTENT


@pytest.mark.parametrize("max_bytes", [0, 1, 63, 64, 65, 511, 512, 513, 5000])
@pytest.mark.parametrize("name", ["Small", "Large"])
def test_only_the_first_max_bytes_are_read(name: str, max_bytes: int) -> None:
    # Given both streams / When read up to max_bytes / Then that many leading bytes come back
    data = compound_file_holding([("Small", MINI_CONTENT), ("Large", REGULAR_CONTENT)])
    whole = MINI_CONTENT if name == "Small" else REGULAR_CONTENT
    assert cfb_stream(data, name, max_bytes=max_bytes) == whole[:max_bytes]


def test_libreoffice_streams_are_read_from_both_places() -> None:
    # Given .xls files whose Workbook stream is over (hidden.xls) and under (encrypted.xls)
    # the mini-stream cutoff
    # When their Workbook and SummaryInformation streams are read
    large = cfb_stream(fixture("hidden.xls"), "Workbook", max_bytes=1 << 20)
    small = cfb_stream(fixture("encrypted.xls"), "Workbook", max_bytes=1 << 20)
    summary = cfb_stream(fixture("hidden.xls"), "\x05SummaryInformation", max_bytes=1 << 20)
    # Then each starts as its format says: a BIFF8 BOF record, a property set's byte order
    assert len(large) >= 4096 > len(small)
    assert large.startswith(b"\x09\x08\x10\x00\x00\x06\x05\x00")
    assert small.startswith(b"\x09\x08\x10\x00\x00\x06\x05\x00")
    assert summary.startswith(b"\xfe\xff\x00\x00")


def test_a_missing_stream_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"no 'Nothing' stream"):
        cfb_stream(fixture("hidden.xls"), "Nothing", max_bytes=100)


def test_a_stream_inside_a_storage_is_not_a_top_level_stream() -> None:
    # Given pivot.xls, whose pivot cache stream "0001" sits in the _SX_DB_CUR storage
    assert "0001" in cfb_stream_names(fixture("pivot.xls"))
    # When it is asked for at the top level / Then it is not found
    with pytest.raises(ValueError, match=r"no '0001' stream"):
        cfb_stream(fixture("pivot.xls"), "0001", max_bytes=100)


def looping_chain(data: bytes) -> bytes:
    """The large stream's (entry 2's) second sector chained back to its first."""
    directory_at = (struct.unpack_from("<I", data, 48)[0] + 1) * SECTOR
    (start,) = struct.unpack_from("<I", data, directory_at + 2 * 128 + 116)
    looped = bytearray(data)
    struct.pack_into("<I", looped, SECTOR + 4 * (start + 1), start)  # the FAT is sector 0
    return bytes(looped)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: data[: len(data) - 3 * SECTOR], id="truncated file"),
        pytest.param(looping_chain, id="looping chain"),
    ],
)
def test_a_damaged_chain_is_a_value_error(damage: Callable[[bytes], bytes]) -> None:
    # Given a compound file whose large stream's chain is cut or loops
    data = damage(compound_file_holding([("Small", MINI_CONTENT), ("Large", REGULAR_CONTENT)]))
    # When the stream is read / Then it is a ValueError, not a hang or a short read
    with pytest.raises(ValueError, match=r"sector"):
        cfb_stream(data, "Large", max_bytes=1 << 20)


# ------------------------------------------------------------------ hidden rows and columns


def test_sheets_are_keyed_by_the_names_calamine_gives_them() -> None:
    # Given sheets named "Data", "Kosten €" (16-bit characters) and "Übersicht" (8-bit)
    data = fixture("hidden.xls")
    # When the sheet facts are read / Then the keys are calamine's sheet names, in order
    assert list(xls_sheet_facts(data)) == calamine_sheet_names(data)


def test_hidden_rows_are_found_where_calamine_numbers_them() -> None:
    # Given sheet "Data" (values row*100 + column) with rows 2, 5-7 and 29 hidden
    data = fixture("hidden.xls")
    # When its facts are read
    hidden = xls_sheet_facts(data)["Data"].hidden_rows
    # Then those rows are hidden, and calamine holds each hidden row's values at that index
    assert hidden == IndexRanges(((2, 2), (5, 7), (29, 29)))
    cells = calamine_rows(data, "Data")
    assert [cells[r][0] for r in range(len(cells)) if r in hidden] == [200, 500, 600, 700, 2900]


def test_hidden_columns_are_found_where_calamine_numbers_them() -> None:
    # Given sheet "Data" (header c0..c7) with columns 1, 4 and 5 hidden
    data = fixture("hidden.xls")
    # When its facts are read
    hidden = xls_sheet_facts(data)["Data"].hidden_columns
    # Then those columns are hidden, and calamine's header cells there are c1, c4 and c5
    assert hidden == IndexRanges(((1, 1), (4, 5)))
    header = calamine_rows(data, "Data")[0]
    assert [header[c] for c in range(len(header)) if c in hidden] == ["c1", "c4", "c5"]


def test_each_sheet_has_its_own_facts() -> None:
    # Given "Kosten €" with row 3 and column 0 hidden, and an untouched "Übersicht"
    facts = xls_sheet_facts(fixture("hidden.xls"))
    # When read / Then each sheet has its own
    assert facts["Kosten €"] == SheetFacts(IndexRanges(((3, 3),)), IndexRanges(((0, 0),)))
    assert facts["Übersicht"] == SheetFacts()


def test_rows_hidden_to_the_end_of_the_sheet_are_one_range() -> None:
    # Given sheet "Tail": ten filled rows, then every row down to 65535 hidden (LibreOffice
    # writes this as hidden empty rows by default, DEFAULTROWHEIGHT's fDyZero)
    data = fixture("hidden_tail.xls")
    # When its facts are read
    hidden = xls_sheet_facts(data)["Tail"].hidden_rows
    # Then rows 10..65535 are hidden and calamine's ten rows are not
    assert hidden == IndexRanges(((10, 65535),))
    assert len(calamine_rows(data, "Tail")) == 10


# ------------------------------------------------------------------ pivot tables


def test_pivot_table_area_and_header_row_are_found() -> None:
    # Given sheet "Pivot": a title in A1 and a DataPilot table placed at B4 with a page field
    # (Product), a row field (Region) and a data field (Sum of Amount)
    data = fixture("pivot.xls")
    # When its facts are read
    facts = xls_sheet_facts(data)
    # Then the table is its page field row (B5), a blank row and its body (B7:C12), and its
    # header row the body's first
    [pivot] = facts["Pivot"].pivot_tables
    assert pivot == PivotArea(first_row=4, first_column=1, last_row=11, last_column=2, header_row=6)
    assert facts["Sales"].pivot_tables == ()


def test_pivot_header_row_names_the_columns_in_calamine() -> None:
    # Given the same table / When calamine reads the sheet
    [pivot] = xls_sheet_facts(fixture("pivot.xls"))["Pivot"].pivot_tables
    cells = calamine_rows(fixture("pivot.xls"), "Pivot")
    columns = slice(pivot.first_column, pivot.last_column + 1)
    # Then the area starts at the page field, the header row names the columns and the rows
    # below hold the regions and the total
    assert cells[pivot.first_row][columns] == ["Product", "- all -"]
    assert cells[pivot.header_row][columns] == ["Region", "Sum - Amount"]
    assert [r[pivot.first_column] for r in cells[pivot.header_row + 1 : pivot.last_row + 1]] == [
        "East",
        "North",
        "South",
        "West",
        "Total Result",
    ]


def sxview(rows: tuple[int, int], first_data_row: int, page_fields: int) -> bytes:
    """An SXVIEW for a body over ``rows`` and columns 2..5 (C..F), its data from column 3."""
    ref = struct.pack("<4H", rows[0], rows[1], 2, 5)
    heads = struct.pack("<3H", min(rows[0] + 1, first_data_row), first_data_row, 3)
    counts = struct.pack("<7H", 0, 0, 1, 0xFFFF, 3, 1, 0)  # iCache ... cDimCol
    rest = struct.pack("<8H", page_fields, 1, 0, 0, 0, 0, 0, 0)  # cDimPg ... cchDataName
    return record(0x00B0, ref + heads + counts + rest)


def sxex(page_rows: int, page_columns: int) -> bytes:
    fields = struct.pack("<7H", 0, 0xFFFF, 0xFFFF, 0xFFFF, 0, page_rows, page_columns)
    return record(0x00F1, fields + bytes(10))


@pytest.mark.parametrize(
    ("records", "area"),
    [
        pytest.param(sxview((10, 20), 12, 0), (10, 2, 20, 5, 11), id="a column field"),
        pytest.param(sxview((10, 20), 11, 0), (10, 2, 20, 5, 10), id="no column fields"),
        pytest.param(sxview((10, 20), 12, 2), (7, 2, 20, 5, 11), id="two page fields"),
        pytest.param(sxview((10, 20), 12, 3) + sxex(2, 3), (7, 2, 20, 9, 11), id="page fields 2x3"),
        pytest.param(sxview((1, 20), 3, 4), (0, 2, 20, 5, 2), id="page fields off the top"),
    ],
)
def test_pivot_area_takes_in_its_page_fields_and_the_row_above_its_data(
    records: bytes, area: tuple[int, int, int, int, int]
) -> None:
    # Given a sheet with a pivot table's SXVIEW (and SXEX) records
    data = xls(BIFF8, [("Pivot", row(0) + number(0, 0, 1.0) + records)])
    # When its facts are read
    [pivot] = xls_sheet_facts(data)["Pivot"].pivot_tables
    # Then the area runs from its page fields (a row each and a blank one, three columns per
    # field across) to the body's end, and the header is the row above the first data row
    first_row, first_column, last_row, last_column, header_row = area
    assert pivot == PivotArea(first_row, first_column, last_row, last_column, header_row)


# ------------------------------------------------------------------ BIFF5, INDEX and DBCELL


def test_biff5_book_names_and_hidden_rows_and_columns() -> None:
    # Given a BIFF5 "Book" in cp1252: sheet "Kosten €" with row 1 and columns 1-2 hidden
    costs = colinfo(1, 2, hidden=True) + row(0) + row(1, hidden=True) + row(2)
    costs += label(0, 0, "Preis €") + number(1, 0, 1.5) + number(2, 3, 7.0)
    data = xls(BIFF5, [("Kosten €", costs), ("Übersicht", row(0) + number(0, 0, 9.0))])
    # When its facts are read
    facts = xls_sheet_facts(data)
    # Then the names are decoded as calamine decodes them, and the rows and columns found
    assert list(facts) == calamine_sheet_names(data) == ["Kosten €", "Übersicht"]
    assert facts["Kosten €"] == SheetFacts(IndexRanges(((1, 1),)), IndexRanges(((1, 2),)))
    assert calamine_rows(data, "Kosten €")[1][0] == 1.5


def mixed_cells(row_index: int) -> bytes:
    return number(row_index, 0, row_index) + formula(row_index, 1, 2) + number(row_index, 2, 3)


HIDDEN_IN_BLOCKS = {3, 40, 41, 99}


@pytest.mark.parametrize("point_back", [True, False], ids=["dbcells", "misleading dbcells"])
def test_row_blocks_jumped_by_index_give_the_same_facts(point_back: bool) -> None:
    # Given 100 rows in 32-row blocks with hidden rows in three of them, once with an INDEX and
    # DBCELLs as Excel writes them (or DBCELLs that point nowhere), once with neither
    blocks = row_blocks(100, mixed_cells, HIDDEN_IN_BLOCKS)
    indexed = xls(BIFF8, [("Data", indexed_sheet(blocks, point_back=point_back))])
    plain = xls(BIFF8, [("Data", b"".join(blocks))])
    # When both are read
    facts = xls_sheet_facts(indexed)
    # Then they agree, and match the rows hidden
    assert facts == xls_sheet_facts(plain)
    assert facts["Data"].hidden_rows == IndexRanges.of((r, r) for r in HIDDEN_IN_BLOCKS)
    assert calamine_rows(indexed, "Data")[99][0] == 99


def test_a_50_mb_workbook_stream_is_read_to_its_last_row() -> None:
    # Given a sheet of 65,536 rows of 40 cells (numbers and formulas), about 50 MB of records
    # (one row's cells repeated: only the ROW records' row numbers matter here)
    one_row = b"".join(formula(0, c, c) if c % 8 == 7 else number(0, c, c) for c in range(40))
    blocks = row_blocks(65536, lambda _: one_row, {65535})
    data = xls(BIFF8, [("Big", b"".join(blocks))])
    assert len(data) > 50_000_000
    # When its facts are read
    facts = xls_sheet_facts(data)
    # Then the skipped runs of cells lose no row: the last one is found hidden
    assert facts["Big"].hidden_rows == IndexRanges(((65535, 65535),))


# ------------------------------------------------------------------ damaged and encrypted


def damaged(change: Callable[[bytes], bytes]) -> bytes:
    stream = workbook_stream(BIFF8, [("Data", row(0, hidden=True) + number(0, 0, 1.0))])
    return compound_file_holding([("Workbook", change(stream))])


def bound_sheet_pointing_at(position: int) -> Callable[[bytes], bytes]:
    def change(stream: bytes) -> bytes:
        at = stream.index(b"\x85\x00") + 4
        return stream[:at] + struct.pack("<I", position) + stream[at + 4 :]

    return change


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(damaged(lambda s: s[:-10]), id="stream cut inside the sheet"),
        pytest.param(damaged(lambda s: s[:-4]), id="sheet without EOF"),
        pytest.param(damaged(lambda s: s[:30]), id="globals cut"),
        pytest.param(damaged(bound_sheet_pointing_at(3)), id="sheet position off a record"),
        pytest.param(damaged(bound_sheet_pointing_at(1 << 30)), id="sheet position past the end"),
        pytest.param(damaged(lambda s: b"\x00" * 20 + s), id="no BOF first"),
        pytest.param(fixture("encrypted.xls"), id="encrypted"),
        pytest.param(fixture("hidden.xls")[:6000], id="file cut"),
        pytest.param(compound_file(["WordDocument"]), id="no workbook stream"),
    ],
)
def test_a_damaged_or_unreadable_workbook_is_a_value_error(data: bytes) -> None:
    # Given a damaged, encrypted or foreign file / When its sheet facts are read
    # Then it is a ValueError (the caller has no facts), never a hang or a crash
    with pytest.raises(ValueError):  # noqa: PT011 - every damage has its own message
        xls_sheet_facts(data)
