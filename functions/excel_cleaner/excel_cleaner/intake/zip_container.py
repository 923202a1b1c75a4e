"""Zip workbooks (.xlsx, .xlsm, .ods): the archive is checked whole before calamine opens it.

The central directory must list at most 10,000 entries, none encrypted (nor, for .ods, a
content.xml its manifest declares encrypted: ``encrypted``), unpacking to at most
``max_decompression_ratio`` times the file's size (``zip_bomb``, whatever the size: a 2 GB
bomb is a bomb) and at most ``max_uncompressed_bytes`` (``too_large``). Then every entry is
inflated once, in chunks, and thrown away: Python's zipfile stops at the declared size and
checks the CRC, so an archive whose directory lies, or which is truncated or damaged, is
``corrupt`` before the Rust reader allocates anything. It must hold ``xl/workbook.xml`` or an
OpenDocument spreadsheet's ``content.xml``. While a sheet's XML streams by, the grid calamine
would allocate for it is bounded (``too_many_cells``: ``xlsx_cells``, ``ods_cells``).
"""

import io
import zipfile
import zlib
from typing import Final

from excel_cleaner.intake.cell_limit import too_many_cells
from excel_cleaner.intake.ods_cells import ods_cell_count
from excel_cleaner.intake.ods_layout import MAX_MANIFEST_BYTES, ods_is_encrypted
from excel_cleaner.intake.xlsx_cells import SheetScan, walked_span
from excel_cleaner.rejection import ENCRYPTED_MESSAGE, Limits, RejectReason, WorkbookRejectedError

ZIP_MAGIC: Final = (b"PK\x03\x04", b"PK\x05\x06")
MAX_ZIP_ENTRIES: Final = 10_000
ODS_MIMETYPE: Final = b"application/vnd.oasis.opendocument.spreadsheet"
ODS_MANIFEST: Final = "META-INF/manifest.xml"
_CHUNK: Final = 1 << 20
_SHEET_DIRECTORIES: Final = ("xl/worksheets/", "xl/chartsheets/", "xl/dialogsheets/")
_SHEET_CHUNK: Final = 1 << 18  # the quick check runs faster over chunks that stay in cache


def _part_name(name: str) -> str:
    """A zip entry's name as calamine matches it: any case, "\\" for "/"."""
    return name.replace("\\", "/").lstrip("/").lower()


def is_sheet_part(name: str) -> bool:
    """A zip entry calamine may read as a sheet (chart and dialog sheets too)."""
    return _part_name(name).startswith(_SHEET_DIRECTORIES)


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


def _check_ods_not_encrypted(archive: zipfile.ZipFile) -> None:
    """An OpenDocument file saved with a password keeps its zip entries plain and encrypts
    content.xml itself, which its manifest declares."""
    try:
        manifest = archive.getinfo(ODS_MANIFEST)
    except KeyError:
        return  # no manifest: nothing is declared encrypted
    try:
        if manifest.file_size > MAX_MANIFEST_BYTES:
            raise ValueError(f"{ODS_MANIFEST} is larger than {MAX_MANIFEST_BYTES} bytes")
        encrypted = ods_is_encrypted(archive.read(manifest))
    except (ValueError, zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:
        raise WorkbookRejectedError(
            RejectReason.CORRUPT, f"corrupt OpenDocument manifest: {error}"
        ) from error
    if encrypted:
        raise WorkbookRejectedError(RejectReason.ENCRYPTED, ENCRYPTED_MESSAGE)


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


def _check_directory(entries: list[zipfile.ZipInfo], size: int, limits: Limits) -> None:
    """The central directory's promises: entry count, no encrypted entry, ratio, size."""
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
    # The ratio first: a bomb is a bomb whatever its size (a 2 GB one is over both limits).
    ratio = unpacked / size
    if ratio > limits.max_decompression_ratio:
        raise WorkbookRejectedError(
            RejectReason.ZIP_BOMB,
            f"the workbook unpacks to {ratio:.0f} times its size ({unpacked} bytes; a zip "
            f"bomb?); the limit is {limits.max_decompression_ratio:g}",
        )
    if unpacked > limits.max_uncompressed_bytes:
        raise WorkbookRejectedError(
            RejectReason.TOO_LARGE,
            f"the workbook unpacks to {unpacked} bytes; the limit is "
            f"{limits.max_uncompressed_bytes} bytes",
        )


def check_zip(data: bytes, limits: Limits) -> tuple[str, bytes | None]:
    """The archive's format ("xlsx", "ods"...) once its entries are within the limits, and
    for .ods its content.xml, inflated here once (the sheet facts read it too)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as error:
        raise WorkbookRejectedError(
            RejectReason.CORRUPT, f"corrupt zip archive: {error}"
        ) from error
    _check_directory(entries, len(data), limits)
    kind = _zip_format(archive, {entry.filename for entry in entries})
    if kind == "ods":
        _check_ods_not_encrypted(archive)
    try:
        scans: list[tuple[zipfile.ZipInfo, SheetScan]] = []
        contents: dict[str, bytes] = {}
        for entry in entries:
            scan = None
            if kind == "xlsx" and is_sheet_part(entry.filename):
                scan = SheetScan(entry.filename, limits.max_cells)
                scans.append((entry, scan))
            if content := _read_through(archive, entry, scan):
                contents[entry.filename] = content
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
        cells = max(map(ods_cell_count, contents.values()), default=0)
        if cells > limits.max_cells:
            raise WorkbookRejectedError(
                RejectReason.TOO_MANY_CELLS,
                f"the workbook's sheets would load as {cells} cells at once (repeated rows or "
                f"cells count as often as they repeat); the limit is {limits.max_cells}",
            )
    return kind, contents.get("content.xml")
