"""A workbook's bytes → one clean table per sheet, or the reason the file is rejected.

The orchestration only, in order:

1. the pre-parse checks (``excel_cleaner.intake``): extension, size, the content's format, zip
   and cell limits, before python-calamine allocates anything;
2. calamine reads the workbook and the sheets to clean are chosen (``excel_cleaner.reader``;
   a spec naming a sheet the workbook lacks → ``sheet_not_found``); a sheet with more than
   ``max_rows`` rows rejects the file (``too_many_rows``): half a workbook would be a silently
   incomplete dataset; a sheet holding a pivot table is skipped (a summary of data found
   elsewhere), unless the spec names it: it is then read from the pivot's column-header row
   (``workbook_facts``, which also finds the hidden rows and columns a spec drops);
3. each sheet is cleaned (``excel_cleaner.sheet``); empty sheets and sheets of titles or notes
   only are skipped and reported. No sheet with a table → ``no_data``; a cleaning spec naming
   headers or columns no sheet has → ``spec_mismatch``.

Every rejection is a ``WorkbookRejectedError`` (``excel_cleaner.rejection``).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from excel_cleaner.intake import check_workbook
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
from excel_cleaner.sheet.hidden import HiddenCells
from excel_cleaner.sheet_facts import IndexRanges, SheetFacts
from excel_cleaner.specs import CleaningSpec
from excel_cleaner.workbook_facts import read_sheet_facts


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


PIVOT_SKIPPED: Final = (
    "pivot table (a summary of other data: clean its source, or name the sheet in a cleaning spec)"
)


def _positions(columns: IndexRanges, first_column: int, width: int) -> frozenset[int]:
    """Sheet columns as positions in the rows calamine gives (from the first used column)."""
    return frozenset(
        c - first_column
        for first, last in columns.ranges
        for c in range(max(first, first_column), min(last, first_column + width - 1) + 1)
    )


def _overrides(spec: CleaningSpec | None, facts: SheetFacts) -> SheetOverrides:
    """The spec's overrides; on a pivot sheet (named by the spec), the header is the pivot's
    column-header row unless the spec gives one."""
    pivot_header = min((p.header_row for p in facts.pivot_tables), default=None)
    if spec is None:
        return SheetOverrides()
    header_row = spec.header_row
    if header_row is None and pivot_header is not None:
        header_row = pivot_header + 1
    return SheetOverrides(
        header_row=header_row,
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
    checked = check_workbook(data, limits)
    drop_rows = spec is not None and spec.drop_hidden_rows
    drop_columns = spec is not None and spec.drop_hidden_columns
    facts = read_sheet_facts(data, checked, hidden=drop_rows or drop_columns)
    named = spec is not None and spec.sheet is not None
    book = open_workbook(data)
    try:
        selected, skipped = selected_sheets(book, spec)
        file_names = dict(zip(book.sheet_names, sheet_file_names(book.sheet_names), strict=True))
        tables: list[CleanedTable] = []
        for name in selected:
            sheet_facts = facts.get(name, SheetFacts())
            if sheet_facts.pivot_tables and not named:
                skipped.append(SkippedSheet(name, PIVOT_SKIPPED))
                continue
            overrides = _overrides(spec, sheet_facts)
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
                    merges=merged_ranges(sheet, first_column, width, sheet_facts.merged_cells),
                    overrides=overrides,
                    hidden=HiddenCells(
                        rows=sheet_facts.hidden_rows if drop_rows else IndexRanges(),
                        columns=_positions(sheet_facts.hidden_columns, first_column, width)
                        if drop_columns
                        else frozenset(),
                    ),
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
    return CleanedWorkbook(checked.format, tuple(tables), tuple(skipped))
