"""One sheet's cleaning: calamine's rows → header found → columns planned → data rows told
apart, formatted and written as CSV. Pure Python; nothing here knows about files or workbooks.

A module per step, each with its rules in its docstring: ``rows`` (the rows as calamine gives
them), ``merges`` (merged cells filled), ``header`` (header row detection), ``columns`` (kept
columns, names, spec types), ``data_rows`` (data, blank and footer rows), ``csv_writer`` (chunks
of data rows → CSV) with ``column_text`` (a column's values → their texts), ``text_dates``
(dates typed as text) and ``table`` (the pass, and a second one when the sheet calls for it).
"""

from excel_cleaner.sheet.header import HeaderRowMissingError
from excel_cleaner.sheet.merges import MergedRange
from excel_cleaner.sheet.table import CleanedSheet, SheetOverrides, clean_sheet

__all__ = ["CleanedSheet", "HeaderRowMissingError", "MergedRange", "SheetOverrides", "clean_sheet"]
