"""A workbook's bytes → one clean table per sheet, or the reason the file is rejected.

The orchestration only, in order:

1. the pre-parse checks (``excel_cleaner.intake``): extension, size, the content's format, zip
   and cell limits, before python-calamine allocates anything;
2. calamine reads the workbook and the sheets to clean are chosen (``excel_cleaner.reader``;
   a spec naming a sheet the workbook lacks → ``sheet_not_found``); a sheet with more than
   ``max_rows`` rows rejects the file (``too_many_rows``): half a workbook would be a silently
   incomplete dataset;
3. each sheet is cleaned (``excel_cleaner.sheet``); empty sheets and sheets of titles or notes
   only are skipped and reported. No sheet with a table → ``no_data``; a cleaning spec naming
   headers or columns no sheet has → ``spec_mismatch``.

Every rejection is a ``WorkbookRejectedError`` (``excel_cleaner.rejection``).
"""

from collections.abc import Sequence
from dataclasses import dataclass

from excel_cleaner.intake import detect_format
from excel_cleaner.names import sheet_file_names
from excel_cleaner.reader import (
    SkippedSheet,
    load_sheet,
    merged_ranges,
    open_workbook,
    selected_sheets,
)
from excel_cleaner.rejection import Limits, RejectReason, WorkbookRejectedError
from excel_cleaner.sheet import CleanedSheet, HeaderRowMissingError, SheetOverrides, clean_sheet
from excel_cleaner.specs import CleaningSpec


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


def _overrides(spec: CleaningSpec | None) -> SheetOverrides:
    if spec is None:
        return SheetOverrides()
    return SheetOverrides(
        header_row=spec.header_row,
        renames=spec.renames,
        types=spec.types,
        date_order=spec.date_order,
    )


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
    book = open_workbook(data)
    try:
        selected, skipped = selected_sheets(book, spec)
        file_names = dict(zip(book.sheet_names, sheet_file_names(book.sheet_names), strict=True))
        overrides = _overrides(spec)
        tables: list[CleanedTable] = []
        for name in selected:
            sheet = load_sheet(book, name)
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
                    merges=merged_ranges(sheet, first_column, width),
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
