"""Header text → snake_case column names, and sheet names → CSV file names. Pure Python.

Column names: ASCII snake_case. Accents are folded (``Größe`` → ``grosse``, ``Café`` →
``cafe``), camelCase is split, ``%`` ``#`` ``&`` become ``pct``
``num`` ``and``, anything else that is not a letter or digit separates words, and a name that
starts with a digit gets ``col_`` in front. ASCII because the CSVs are read by Athena and Glue,
whose column names are lowercase letters, digits and underscores; cell *values* keep every
Unicode character. A header with nothing left (blank, or only non-Latin letters such as 数量)
becomes ``column_<n>``, n being the spreadsheet column number; duplicates get ``_2``, ``_3``...
"""

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Final

from datalake_shared.workbook_csv import COLUMN_NAME

_LETTERS_WITHOUT_DECOMPOSITION: Final = str.maketrans(
    {
        "ß": "ss",
        "ẞ": "SS",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "ø": "o",
        "Ø": "O",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "ð": "d",
        "Ð": "D",
        "þ": "th",
        "Þ": "TH",
        "\u0131": "i",  # dotless i
        "%": " pct ",
        "#": " num ",
        "&": " and ",
    }
)
_CAMEL_BOUNDARY: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_WORD: Final = re.compile(r"[^a-z0-9]+")
# A column name as the CSVs hold it (and workbook tables declare it).
IDENTIFIER: Final = COLUMN_NAME


def ascii_fold(text: str) -> str:
    """Latin letters without their accents; characters with no ASCII form are dropped."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LETTERS_WITHOUT_DECOMPOSITION))
    return decomposed.encode("ascii", "ignore").decode("ascii")


def snake_case(text: str) -> str:
    """``"Unit Price (€)"`` → ``unit_price``; ``"OrderID"`` → ``order_id``; may return ''."""
    words = _CAMEL_BOUNDARY.sub(" ", ascii_fold(text.strip()))
    name = _NOT_WORD.sub("_", words.lower()).strip("_")
    if name[:1].isdigit():
        name = f"col_{name}"
    return name


def unique_names(names: Sequence[str]) -> list[str]:
    """Later duplicates get ``_2``, ``_3``... skipping suffixes that another column already has."""
    taken = set(names)
    seen: set[str] = set()
    result: list[str] = []
    for name in names:
        candidate = name
        if candidate in seen:
            number = 2
            while f"{name}_{number}" in taken or f"{name}_{number}" in seen:
                number += 1
            candidate = f"{name}_{number}"
        seen.add(candidate)
        result.append(candidate)
    return result


def column_names(headers: Sequence[str], column_numbers: Sequence[int]) -> list[str]:
    """snake_case names for header texts; blank ones become ``column_<spreadsheet column>``."""
    bases = [
        snake_case(header) or f"column_{number}"
        for header, number in zip(headers, column_numbers, strict=True)
    ]
    return unique_names(bases)


def sheet_file_names(sheet_names: Iterable[str]) -> list[str]:
    """One unique snake_case file name per sheet (``sheet_<n>`` when nothing is left)."""
    return unique_names(
        [snake_case(name) or f"sheet_{index}" for index, name in enumerate(sheet_names, 1)]
    )
