"""OLE2 compound files (.xls, and password-protected OOXML): the directory is read by hand.

Its stream names tell the kinds apart before calamine is involved: an ``EncryptionInfo`` or
``EncryptedPackage`` stream means a password-protected .xlsx (``encrypted``), a ``Workbook`` or
``Book`` stream an .xls, anything else (a Word document...) is ``not_a_workbook``. Every chain
walked is bounded by the file's sector count, so a looping or damaged directory is ``corrupt``.
"""

import struct
from typing import Final

from excel_cleaner.rejection import RejectReason, WorkbookRejectedError

CFB_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_STREAMS: Final = frozenset({"EncryptionInfo", "EncryptedPackage"})
_XLS_STREAMS: Final = frozenset({"Workbook", "Book"})
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
