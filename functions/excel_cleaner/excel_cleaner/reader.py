"""python-calamine, the Rust reader: a workbook opened, its sheets chosen, one sheet loaded.

A password-protected .xls is ``encrypted``; any reader error, and a Rust panic inside it, is
``corrupt``. Visible worksheets are selected (or the one sheet a cleaning spec names, hidden or
not); chart sheets and hidden sheets are skipped and reported. Merged ranges (calamine's, or
for .ods, where it reads none, ``intake.ods_merges``) are handed to the sheet cleaning in the
columns of the rows calamine gives.
"""

import io
from collections.abc import Sequence
from dataclasses import dataclass

from python_calamine import (
    CalamineSheet,
    CalamineWorkbook,
    PasswordError,
    SheetTypeEnum,
    SheetVisibleEnum,
)

from excel_cleaner.rejection import ENCRYPTED_MESSAGE, RejectReason, WorkbookRejectedError
from excel_cleaner.sheet import MergedRange
from excel_cleaner.specs import CleaningSpec


@dataclass(frozen=True, slots=True)
class SkippedSheet:
    sheet: str
    reason: str


def _reader_failed(error: BaseException) -> bool:
    """calamine's errors, and a Rust panic inside it (pyo3's PanicException is a
    BaseException): the file is unreadable. Interpreter exits and interrupts are not."""
    return isinstance(error, Exception) or type(error).__name__ == "PanicException"


def open_workbook(data: bytes) -> CalamineWorkbook:
    try:
        return CalamineWorkbook.from_filelike(io.BytesIO(data))
    except PasswordError as error:
        raise WorkbookRejectedError(RejectReason.ENCRYPTED, ENCRYPTED_MESSAGE) from error
    except BaseException as error:
        if not _reader_failed(error):
            raise
        raise WorkbookRejectedError(
            RejectReason.CORRUPT, f"unreadable workbook: {error}"
        ) from error


def merged_ranges(
    sheet: CalamineSheet,
    first_column: int,
    width: int,
    read_elsewhere: Sequence[tuple[int, int, int, int]] = (),
) -> list[MergedRange]:
    """calamine's merged ranges, or, where it reads none (.ods), those read from the file
    (``SheetFacts.merged_cells``), in the columns of the rows calamine gives."""
    ranges = sheet.merged_cell_ranges or [
        ((first_row, first_col), (last_row, last_col))
        for first_row, first_col, last_row, last_col in read_elsewhere
    ]
    merges: list[MergedRange] = []
    for (first_row, first_col), (last_row, last_col) in ranges:
        left = first_col - first_column
        if left < 0 or left >= width:
            continue  # its top-left cell is outside the used area: it holds no value
        merges.append(
            MergedRange(first_row, left, last_row, min(last_col - first_column, width - 1))
        )
    return merges


def selected_sheets(
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


def load_sheet(book: CalamineWorkbook, name: str) -> CalamineSheet:
    try:
        return book.get_sheet_by_name(name)
    except BaseException as error:
        if not _reader_failed(error):
            raise
        raise WorkbookRejectedError(
            RejectReason.CORRUPT, f"unreadable sheet {name!r}: {error}"
        ) from error
