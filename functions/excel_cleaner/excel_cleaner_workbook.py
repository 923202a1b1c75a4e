"""A workbook's bytes → one clean table per sheet, or the reason the file is rejected.

Checks, cheapest first, before python-calamine parses anything:

1. the key ends in .xlsx, .xlsm, .xls or .ods (``unsupported_type``); not empty
   (``empty_file``); at most ``max_object_bytes`` (``too_large``).
2. The content decides the format, not the name (a ``.xls`` that is really an .xlsx is read):
   - a zip (xlsx/xlsm/ods): the central directory must list at most 10,000 entries, none
     encrypted, unpacking to at most ``max_uncompressed_bytes`` and at most
     ``max_decompression_ratio`` times the file's size (``zip_bomb`` / ``too_large``); then
     every entry is inflated once, in 1 MiB chunks, and thrown away: Python's zipfile stops at
     the declared size and checks the CRC, so an archive whose directory lies, or which is
     truncated or damaged, is ``corrupt`` before the Rust reader allocates anything. It must
     hold ``xl/workbook.xml`` or an OpenDocument spreadsheet's ``content.xml``.
   - an OLE2 compound file: its directory is read; an ``EncryptionInfo`` stream means a
     password-protected OOXML workbook (``encrypted``); a ``Workbook``/``Book`` stream is an
     .xls; anything else (a Word document...) is ``not_a_workbook``.
   - anything else (CSV or text renamed .xlsx, HTML, PDF...) is ``not_a_workbook``.
3. calamine reads the workbook; a password-protected .xls is ``encrypted``, any reader error
   ``corrupt``. A sheet with more than ``max_rows`` rows rejects the file (``too_many_rows``):
   half a workbook would be a silently incomplete dataset.

Visible worksheets are cleaned (``excel_cleaner_sheets``); empty, hidden and chart sheets are
skipped and reported. No sheet with a table → ``no_data``.
"""

import io
import struct
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from excel_cleaner_sheets import (
    CleanedSheet,
    HeaderRowMissingError,
    MergedRange,
    SheetOverrides,
    clean_sheet,
)
from excel_cleaner_specs import CleaningSpec
from excel_cleaner_values import sheet_file_names
from python_calamine import (
    CalamineSheet,
    CalamineWorkbook,
    PasswordError,
    SheetTypeEnum,
    SheetVisibleEnum,
)

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
        for entry in entries:
            with archive.open(entry) as stream:
                while stream.read(_CHUNK):
                    pass
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
