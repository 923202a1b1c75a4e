"""Each sheet's facts that calamine does not give (``sheet_facts``), read by the workbook's
format: .xlsx/.xlsm from its parts (``intake.xlsx_layout``), .ods from content.xml
(``intake.ods_layout``), .xls from its BIFF records (``intake.biff_records``); .xlsb has none.

Hidden rows and columns are read only when the cleaning spec asks to drop them (a sheet's XML is
then read once more). What cannot be read is no pivot and nothing hidden, except when the spec
asked to drop hidden cells: then the workbook is ``corrupt``, as keeping rows the spec said to
drop would be a silent, wrong dataset.
"""

import struct
import zipfile
import zlib
from typing import Final

from excel_cleaner.intake import CheckedWorkbook
from excel_cleaner.intake.biff_records import xls_sheet_facts
from excel_cleaner.intake.ods_layout import ods_sheet_facts
from excel_cleaner.intake.xlsx_layout import xlsx_sheet_facts
from excel_cleaner.rejection import RejectReason, WorkbookRejectedError
from excel_cleaner.sheet_facts import SheetFacts

_UNREADABLE: Final = (
    ValueError,
    KeyError,
    struct.error,
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    NotImplementedError,
)


def _read(data: bytes, checked: CheckedWorkbook, *, hidden: bool) -> dict[str, SheetFacts]:
    if checked.format == "xlsx":
        return xlsx_sheet_facts(data, hidden=hidden)
    if checked.format == "ods":
        if checked.content_xml is None:
            raise ValueError("the OpenDocument file has no content.xml")
        return ods_sheet_facts(checked.content_xml, hidden=hidden)
    if checked.format == "xls":
        return xls_sheet_facts(data)
    return {}


def read_sheet_facts(
    data: bytes, checked: CheckedWorkbook, *, hidden: bool
) -> dict[str, SheetFacts]:
    """The facts per sheet name (a sheet missing from it has none); ``checked``: what the
    pre-parse checks found (the format, an .ods's content.xml)."""
    try:
        return _read(data, checked, hidden=hidden)
    except _UNREADABLE as error:
        if not hidden:
            return {}
        raise WorkbookRejectedError(
            RejectReason.CORRUPT,
            f"the hidden rows and columns the cleaning spec drops cannot be read: {error}",
        ) from error
