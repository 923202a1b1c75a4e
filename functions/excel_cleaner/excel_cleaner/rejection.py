"""Why a workbook is refused: the stable reason codes, the error that carries one, and the limits
behind most of them.

Every check, before python-calamine (``excel_cleaner.intake``) or around it
(``excel_cleaner.workbook``), raises ``WorkbookRejectedError``; the service quarantines the file
and reports ``reason``. The codes are part of the "failed" message and the quarantine metadata,
so they never change.
"""

from dataclasses import dataclass
from enum import StrEnum


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


ENCRYPTED_MESSAGE = "the workbook is password-protected (encrypted); save it without a password"


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
