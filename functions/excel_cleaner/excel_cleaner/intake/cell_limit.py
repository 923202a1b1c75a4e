"""The bound on a sheet's dense grid, shared by the .xlsx and the .ods cell counters.

calamine reads a sheet's cells, then allocates a dense rows x columns grid (~30 bytes a cell;
for .ods every sheet at once, when the workbook is opened). So each sheet's XML is bounded while
``zip_container.check_zip`` inflates it anyway, and a sheet whose grid would exceed ``max_cells``
rejects the workbook (``too_many_cells``): a few KB with values at A1 and XFD1048576 would
otherwise ask for hundreds of GB and the function would be killed, then retried.

The bound is rows x columns up to the farthest valued cell (calamine's grid starts at the first
one: it can only be smaller). How each format's cells are placed and counted is in
``xlsx_cells`` and ``ods_cells``; ``xml_patterns`` holds the regex pieces both build on.
"""

from excel_cleaner.rejection import RejectReason, WorkbookRejectedError


def column_letters(number: int) -> str:
    """1 → "A", 27 → "AA", 16384 → "XFD"."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def decimal_number(digits: bytes) -> int:
    """A run of decimal digits as a number, capped above anything a reader accepts (Python
    refuses to convert more than 4,300 digits)."""
    digits = digits.lstrip(b"0") or b"0"
    return int(digits) if len(digits) <= 18 else 10**18


def too_many_cells(sheet: str, rows: int, columns: int, limit: int) -> WorkbookRejectedError:
    return WorkbookRejectedError(
        RejectReason.TOO_MANY_CELLS,
        f"sheet {sheet!r} has a value in row {rows} and one in column "
        f"{column_letters(columns)}: it would load as {rows} x {columns} = {rows * columns} "
        f"cells; the limit is {limit} (a stray value far from the data?)",
    )
