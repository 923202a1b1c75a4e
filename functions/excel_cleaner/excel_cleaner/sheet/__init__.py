"""One sheet's cleaning: calamine's rows → header found → data rows scanned → columns fixed →
CSV written. Pure Python; nothing here knows about files or workbooks.

A module per step, each with its rules in its docstring: ``rows`` (the rows as calamine gives
them), ``merges`` (merged cells filled), ``header`` (header row detection), ``data_scan`` (the
first pass: blank rows, footers, column types), ``columns`` (kept columns, names, spec types),
``csv_writer`` (the second pass: rows → CSV) and ``table`` (the two passes, in order).
"""

from excel_cleaner.sheet.header import HeaderRowMissingError
from excel_cleaner.sheet.merges import MergedRange
from excel_cleaner.sheet.table import CleanedSheet, SheetOverrides, clean_sheet

__all__ = ["CleanedSheet", "HeaderRowMissingError", "MergedRange", "SheetOverrides", "clean_sheet"]
