"""OLE2 compound files (.xls, and password-protected OOXML): the directory is read by hand.

Its stream names tell the kinds apart before calamine is involved: an ``EncryptionInfo`` or
``EncryptedPackage`` stream means a password-protected .xlsx (``encrypted``), a ``Workbook`` or
``Book`` stream an .xls, anything else (a Word document...) is ``not_a_workbook``. An .xls saved
with a password to open still has its ``Workbook`` stream, but a FILEPASS record follows the
first BOF record in it and everything after is ciphered: that is ``encrypted`` too, not a file
for calamine to fail on. ``cfb_stream`` reads a stream's first bytes for that check and for
``biff_records``. Every chain walked is bounded by the file's sector count, so a looping or
damaged directory is ``corrupt``.
"""

import struct
from dataclasses import dataclass
from typing import Final

from excel_cleaner.rejection import ENCRYPTED_MESSAGE, RejectReason, WorkbookRejectedError

CFB_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
XLS_STREAMS: Final = ("Workbook", "Book")  # BIFF8, then BIFF5
_ENCRYPTED_STREAMS: Final = frozenset({"EncryptionInfo", "EncryptedPackage"})
_MAX_REGULAR_SECTOR: Final = 0xFFFFFFFA
_NO_STREAM: Final = 0xFFFFFFFF
_CFB_HEADER: Final = 512
_DIRECTORY_ENTRY: Final = 128
_MINI_SECTOR: Final = 64
_STORAGE, _STREAM, _ROOT = 1, 2, 5

_BOF: Final = 0x0809  # BIFF5 and BIFF8
_WRITE_PROTECT: Final = 0x0086  # may stand between the BOF and the FILEPASS
_FILEPASS: Final = 0x002F


def _walk(first: int, table: list[int], limit: int, bound: int) -> list[int]:
    """The sector numbers of the chain from ``first`` through ``table``, at most ``limit`` of
    them; ValueError if it leaves the table or runs past ``bound`` sectors (it loops)."""
    numbers: list[int] = []
    visited = bytearray(len(table))
    current = first
    while current < _MAX_REGULAR_SECTOR and len(numbers) < limit:
        if current >= len(table) or len(numbers) >= bound or visited[current]:
            raise ValueError("a sector chain is broken or loops")
        visited[current] = 1
        numbers.append(current)
        current = table[current]
    return numbers


def _runs(numbers: list[int]) -> list[tuple[int, int]]:
    """The runs of consecutive numbers, as (first, last) pairs."""
    runs: list[tuple[int, int]] = []
    if not numbers:
        return runs
    first = previous = numbers[0]
    for number in numbers[1:]:
        if number != previous + 1:
            runs.append((first, previous))
            first = number
        previous = number
    runs.append((first, previous))
    return runs


@dataclass(frozen=True, slots=True)
class _Entry:
    """One directory entry: its name, kind (1 storage, 2 stream, 5 root), the red-black tree
    links and where its bytes are."""

    name: str
    kind: int
    left: int
    right: int
    child: int
    start: int
    size: int


class _CompoundFile:
    """The sectors, allocation table and directory of a compound file (ValueError if damaged)."""

    def __init__(self, data: bytes) -> None:
        if len(data) < _CFB_HEADER or not data.startswith(CFB_MAGIC):
            raise ValueError("shorter than a compound file header")
        (shift,) = struct.unpack_from("<H", data, 30)
        if shift not in (9, 12):
            raise ValueError(f"unexpected sector size 2^{shift}")
        self.data = data
        self.size = 1 << shift
        self.wide_sizes = shift == 12  # version 4: version 3 may leave junk in the high half
        self.budget = len(data) // self.size + 1  # no chain visits more sectors than there are
        self.fat = self._allocation_table()
        self.entries = self._directory()

    def sector(self, number: int) -> bytes:
        start = (number + 1) * self.size
        if number >= _MAX_REGULAR_SECTOR or start + self.size > len(self.data):
            raise ValueError(f"sector {number} is outside the file")
        return self.data[start : start + self.size]

    def _allocation_table(self) -> list[int]:
        per_sector = self.size // 4
        fat_sectors = [
            n for n in struct.unpack_from("<109I", self.data, 76) if n < _MAX_REGULAR_SECTOR
        ]
        (next_difat,) = struct.unpack_from("<I", self.data, 68)
        budget = self.budget
        while next_difat < _MAX_REGULAR_SECTOR:
            budget -= 1
            if budget < 0:
                raise ValueError("the sector allocation chain loops")
            values = struct.unpack(f"<{per_sector}I", self.sector(next_difat))
            fat_sectors.extend(n for n in values[:-1] if n < _MAX_REGULAR_SECTOR)
            next_difat = values[-1]
        fat: list[int] = []
        for number in fat_sectors[: self.budget]:
            fat.extend(struct.unpack(f"<{per_sector}I", self.sector(number)))
        return fat

    def _directory(self) -> list[_Entry]:
        (first,) = struct.unpack_from("<I", self.data, 48)
        entries: list[_Entry] = []
        try:
            blocks = _walk(first, self.fat, self.budget + 1, self.budget)
        except ValueError as error:
            raise ValueError("the directory chain is broken") from error
        for number in blocks:
            block = self.sector(number)
            for offset in range(0, self.size, _DIRECTORY_ENTRY):
                entries.append(self._entry(block, offset))
        return entries

    def _entry(self, block: bytes, offset: int) -> _Entry:
        (length,) = struct.unpack_from("<H", block, offset + 64)
        kind = block[offset + 66]
        left, right, child = struct.unpack_from("<III", block, offset + 68)
        start, size = struct.unpack_from("<IQ", block, offset + 116)
        if not 2 <= length <= 64 or kind not in (_STORAGE, _STREAM, _ROOT):
            return _Entry("", 0, _NO_STREAM, _NO_STREAM, _NO_STREAM, 0, 0)
        name = block[offset : offset + length - 2].decode("utf-16-le", "replace")
        return _Entry(
            name, kind, left, right, child, start, size if self.wide_sizes else size & 0xFFFFFFFF
        )

    def top_level(self, name: str) -> _Entry:
        """The stream called ``name`` directly under the root storage."""
        if not self.entries or self.entries[0].kind != _ROOT:
            raise ValueError("the directory has no root entry")
        pending = [self.entries[0].child]
        seen: set[int] = set()
        while pending:
            number = pending.pop()
            if number == _NO_STREAM:
                continue
            if number in seen or number >= len(self.entries):
                raise ValueError("the directory tree is broken or loops")
            seen.add(number)
            entry = self.entries[number]
            if entry.kind == _STREAM and entry.name.casefold() == name.casefold():
                return entry
            pending += (entry.left, entry.right)
        raise ValueError(f"no {name!r} stream")

    def read(self, entry: _Entry, max_bytes: int) -> bytes:
        wanted = min(entry.size, max(max_bytes, 0))
        (cutoff,) = struct.unpack_from("<I", self.data, 56)
        if entry.size >= cutoff:
            return self._read_regular(entry.start, wanted)
        return self._read_mini(entry.start, wanted)

    def _read_regular(self, first: int, wanted: int) -> bytes:
        count = -(-wanted // self.size)
        numbers = _walk(first, self.fat, count, self.budget)
        if len(numbers) < count:
            raise ValueError("a stream's sector chain ends before its size")
        spans: list[bytes] = []  # runs of consecutive sectors are sliced at once
        for run_first, run_last in _runs(numbers):
            self.sector(run_last)  # raises if the run leaves the file
            spans.append(self.data[(run_first + 1) * self.size : (run_last + 2) * self.size])
        if spans:  # the last sector's slack, cut before joining rather than after
            spans[-1] = spans[-1][: len(spans[-1]) - (count * self.size - wanted)]
        return b"".join(spans)

    def _read_mini(self, first: int, wanted: int) -> bytes:
        root = self.entries[0]
        (mini_shift,) = struct.unpack_from("<H", self.data, 32)
        if mini_shift != 6:
            raise ValueError(f"unexpected mini sector size 2^{mini_shift}")
        (mini_fat_first,) = struct.unpack_from("<I", self.data, 60)
        per_sector = self.size // 4
        mini_fat: list[int] = []
        for number in _walk(mini_fat_first, self.fat, self.budget + 1, self.budget):
            mini_fat.extend(struct.unpack(f"<{per_sector}I", self.sector(number)))
        container = self._read_regular(root.start, min(root.size, len(self.data)))
        count = -(-wanted // _MINI_SECTOR)
        numbers = _walk(first, mini_fat, count, len(mini_fat))
        if len(numbers) < count:
            raise ValueError("a stream's mini sector chain ends before its size")
        parts: list[bytes] = []
        for number in numbers:
            start = number * _MINI_SECTOR
            if start + _MINI_SECTOR > len(container):
                raise ValueError(f"mini sector {number} is outside the mini stream")
            parts.append(container[start : start + _MINI_SECTOR])
        return b"".join(parts)[:wanted]


def cfb_stream_names(data: bytes) -> set[str]:
    """The names in an OLE2 compound file's directory (raises ValueError if it is damaged)."""
    return {entry.name for entry in _CompoundFile(data).entries if entry.kind}


def cfb_stream(data: bytes, name: str, max_bytes: int) -> bytes:
    """The first ``max_bytes`` (at most) of the stream ``name`` directly under the root, from
    the regular sectors or the mini stream; ValueError if it is missing or the file damaged."""
    try:
        compound = _CompoundFile(data)
        return compound.read(compound.top_level(name), max_bytes)
    except struct.error as error:
        raise ValueError(f"truncated compound file structure: {error}") from error


def _first_record_kinds(stream_head: bytes, count: int) -> list[int]:
    kinds: list[int] = []
    position = 0
    while len(kinds) < count and position + 4 <= len(stream_head):
        kind, length = struct.unpack_from("<HH", stream_head, position)
        kinds.append(kind)
        position += 4 + length
    return kinds


def _starts_encrypted(workbook_head: bytes) -> bool:
    """Whether a FILEPASS record follows the first BOF (past an optional WRITEPROTECT)."""
    kinds = _first_record_kinds(workbook_head, 3)
    if kinds[:1] != [_BOF]:
        return False
    following = kinds[2:] if kinds[1:2] == [_WRITE_PROTECT] else kinds[1:]
    return following[:1] == [_FILEPASS]


def _is_encrypted_xls(data: bytes, names: set[str]) -> bool:
    """Whether the workbook stream starts with a FILEPASS record; a stream that cannot be read
    is left for calamine to refuse as corrupt, as it was before this check."""
    name = next(n for n in XLS_STREAMS if n in names)
    try:
        return _starts_encrypted(cfb_stream(data, name, max_bytes=256))
    except ValueError:
        return False


def check_cfb(data: bytes) -> str:
    try:
        names = cfb_stream_names(data)
    except (ValueError, struct.error) as error:
        raise WorkbookRejectedError(
            RejectReason.CORRUPT, f"corrupt OLE2 compound file: {error}"
        ) from error
    if names & _ENCRYPTED_STREAMS:
        raise WorkbookRejectedError(RejectReason.ENCRYPTED, ENCRYPTED_MESSAGE)
    if names & set(XLS_STREAMS):
        if _is_encrypted_xls(data, names):
            raise WorkbookRejectedError(RejectReason.ENCRYPTED, ENCRYPTED_MESSAGE)
        return "xls"
    raise WorkbookRejectedError(
        RejectReason.NOT_A_WORKBOOK,
        "not a workbook: an OLE2 compound file without a workbook stream "
        "(a Word document or another Office file renamed?)",
    )
