"""Each sheet's facts that calamine does not give (``sheet_facts``), read by the workbook's
format: .xlsx/.xlsm from its parts (``intake.xlsx_layout``), .ods from content.xml
(``intake.ods_layout``), .xls from its BIFF records (``intake.biff_records``); .xlsb has none.

Hidden rows and columns are read only when the cleaning spec asks to drop them (a sheet's XML is
then read once more). What cannot be read is no pivot and nothing hidden, except when the spec
asked to drop hidden cells: then the workbook is ``corrupt``, as keeping rows the spec said to
drop would be a silent, wrong dataset.
"""

import io
import struct
import zipfile
import zlib
from typing import Final

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


def _read(data: bytes, kind: str, *, hidden: bool) -> dict[str, SheetFacts]:
    if kind == "xlsx":
        return xlsx_sheet_facts(data, hidden=hidden)
    if kind == "ods":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return ods_sheet_facts(archive.read("content.xml"), hidden=hidden)
    if kind == "xls":
        return xls_sheet_facts(data)
    return {}


def read_sheet_facts(data: bytes, kind: str, *, hidden: bool) -> dict[str, SheetFacts]:
    """The facts per sheet name (a sheet missing from it has none)."""
    try:
        return _read(data, kind, hidden=hidden)
    except _UNREADABLE as error:
        if not hidden:
            return {}
        raise WorkbookRejectedError(
            RejectReason.CORRUPT,
            f"the hidden rows and columns the cleaning spec drops cannot be read: {error}",
        ) from error
