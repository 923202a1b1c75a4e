"""Which files are workbooks: by the key's extension, then the size, then the first bytes.

The content decides the format, not the name (a ``.xls`` that is really an .xlsx is read): a zip
goes to ``zip_container``, an OLE2 compound file to ``compound_file``; anything else (CSV or text
renamed .xlsx, HTML, PDF...) is ``not_a_workbook``, described so the uploader sees what it was.
"""

from dataclasses import dataclass
from typing import Final

from excel_cleaner.intake.compound_file import CFB_MAGIC, check_cfb
from excel_cleaner.intake.zip_container import ZIP_MAGIC, check_zip
from excel_cleaner.rejection import Limits, RejectReason, WorkbookRejectedError

SUPPORTED_SUFFIXES: Final = (".xlsx", ".xlsm", ".xls", ".ods")


def suffix_of(key: str) -> str:
    name = key.rsplit("/", 1)[-1]
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def check_key(key: str) -> None:
    suffix = suffix_of(key)
    if suffix not in SUPPORTED_SUFFIXES:
        shown = repr(suffix) if suffix else "no extension"
        raise WorkbookRejectedError(
            RejectReason.UNSUPPORTED_TYPE,
            f"unsupported file type ({shown}); expected one of {', '.join(SUPPORTED_SUFFIXES)}",
        )


def check_size(size: int, limits: Limits) -> None:
    if size == 0:
        raise WorkbookRejectedError(RejectReason.EMPTY_FILE, "the file is empty (0 bytes)")
    if size > limits.max_object_bytes:
        raise WorkbookRejectedError(
            RejectReason.TOO_LARGE,
            f"the file is {size} bytes; the limit is {limits.max_object_bytes} bytes",
        )


def describe_content(data: bytes) -> str:
    """What a file that is no workbook seems to be, for the failure message."""
    head = data[:4096]
    if head.startswith(b"%PDF"):
        return "a PDF document"
    if head.startswith(b"\x1f\x8b"):
        return "a gzip archive"
    if b"\x00" in head:
        return "binary content of an unknown kind"
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if text.startswith("<"):
        return "an HTML or XML document"
    first_line = text.split("\n", 1)[0]
    if any(separator in first_line for separator in (",", ";", "\t", "|")):
        return "text with delimited values (a CSV file renamed?)"
    return "plain text"


@dataclass(frozen=True, slots=True)
class CheckedWorkbook:
    """A workbook past every pre-parse check: its format, and for .ods the content.xml the
    checks inflated (read again by the sheet facts, not inflated again)."""

    format: str
    content_xml: bytes | None = None


def detect_format(data: bytes, limits: Limits) -> str:
    """The workbook's format ("xlsx", "ods", "xls"...) once every pre-parse check has passed."""
    return check_workbook(data, limits).format


def check_workbook(data: bytes, limits: Limits) -> CheckedWorkbook:
    """Every pre-parse check, cheapest first; raises WorkbookRejectedError with the reason."""
    check_size(len(data), limits)
    if data.startswith(ZIP_MAGIC):
        return CheckedWorkbook(*check_zip(data, limits))
    if data.startswith(CFB_MAGIC):
        return CheckedWorkbook(check_cfb(data))
    raise WorkbookRejectedError(
        RejectReason.NOT_A_WORKBOOK,
        f"not an Excel or OpenDocument workbook: the file is {describe_content(data)}",
    )
