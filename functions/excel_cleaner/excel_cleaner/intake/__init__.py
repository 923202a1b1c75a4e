"""The checks a workbook's bytes pass before python-calamine parses anything, cheapest first.

1. the key ends in .xlsx, .xlsm, .xls or .ods (``unsupported_type``); not empty
   (``empty_file``); at most ``max_object_bytes`` (``too_large``) — ``formats``.
2. The content decides the format, not the name: a zip's directory and entries are checked and
   each sheet's grid is bounded as its XML streams by (``zip_container``, with ``xlsx_cells``
   and ``ods_cells``); an OLE2 compound file's directory tells an .xls from a
   password-protected .xlsx (``compound_file``); anything else is ``not_a_workbook``.

They run first because calamine is a Rust reader that allocates what a file declares: a zip
bomb or a few KB with values at A1 and XFD1048576 would exhaust the function's memory, and the
function would be killed, then retried. Only what the rest of the cleaner calls is exported.
"""

from excel_cleaner.intake.formats import (
    SUPPORTED_SUFFIXES,
    CheckedWorkbook,
    check_key,
    check_size,
    check_workbook,
    detect_format,
    suffix_of,
)

__all__ = [
    "SUPPORTED_SUFFIXES",
    "CheckedWorkbook",
    "check_key",
    "check_size",
    "check_workbook",
    "detect_format",
    "suffix_of",
]
