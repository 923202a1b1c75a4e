"""What a cleaned workbook CSV holds, as excel_cleaner writes it and the workbook tables read it.

- Column names are ASCII snake_case (``COLUMN_NAME``): the cleaner makes every header one, a
  cleaning spec's ``renames`` must be one, and a workbook table's columns are declared with them.
- The types a cleaning spec's ``types`` may give a column (``WorkbookColumnType``) are the types a
  workbook table declares its columns with: a typed column holds the value written its way, or
  nothing (a value that cannot be of the type is written empty and counted).
- Each CSV starts with one header row; fields are separated by commas and quoted with ``"``
  only when they hold a comma, a quote (doubled) or a line break; lines end with ``\\n``.
"""

import re
from enum import StrEnum
from typing import Final

COLUMN_NAME: Final = re.compile(r"^[a-z_][a-z0-9_]*$")
HEADER_ROWS: Final = 1


class WorkbookColumnType(StrEnum):
    """How a typed column's values are written: text trimmed; integers without a fraction;
    numbers as Excel shows them (15 significant digits); ``true``/``false``; dates
    ``YYYY-MM-DD``; date-times ``YYYY-MM-DDTHH:MM:SS[.fff]``."""

    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
