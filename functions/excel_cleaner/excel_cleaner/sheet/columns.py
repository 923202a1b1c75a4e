"""A sheet's columns: which are kept, their names, and the spec's types for them.

A column is dropped when it has neither a header nor any data value; a column with a header and
no values is kept, so the CSV's schema does not change when a column happens to be empty in one
upload. Names are unique snake_case (``excel_cleaner.names``), blank headers ``column_<n>``
after the spreadsheet column; a cleaning spec's ``renames`` and ``types`` apply here. A column
holding any date-time writes its plain dates at midnight too, so it has one format
(``csv_writer``).
"""

from collections.abc import Collection, Mapping, Sequence

from excel_cleaner.names import snake_case, unique_names
from excel_cleaner.specs import CONVERTERS, ColumnType, Converter


def kept_columns(headers: Sequence[str], with_data: Collection[int], width: int) -> list[int]:
    """The columns with a header, or without one but holding data."""
    return [c for c in range(width) if headers[c] or c in with_data]


def final_names(
    headers: Sequence[str],
    column_numbers: Sequence[int],
    renames: Mapping[str, str],
) -> tuple[list[str], set[str]]:
    """Unique snake_case names, with the spec's renames (matched on header text or name).

    A renamed column gets exactly its new name; another column that would have the same name
    gets a suffix instead.
    """
    bases = [snake_case(h) or f"column_{n}" for h, n in zip(headers, column_numbers, strict=True)]
    automatic = unique_names(bases)
    used: set[str] = set()
    fixed: dict[int, str] = {}
    for position, (header, name) in enumerate(zip(headers, automatic, strict=True)):
        for key in (header.strip(), name):
            if key and key in renames:
                fixed[position] = renames[key]
                used.add(key)
                break
    natural = {base for position, base in enumerate(bases) if position not in fixed}
    seen = set(fixed.values())
    names: list[str] = []
    for position, base in enumerate(bases):
        if position in fixed:
            names.append(fixed[position])
            continue
        candidate = base
        if candidate in seen:
            number = 2
            while f"{base}_{number}" in seen or f"{base}_{number}" in natural:
                number += 1
            candidate = f"{base}_{number}"
        seen.add(candidate)
        names.append(candidate)
    return names, used


def column_converters(
    names: Sequence[str], types: Mapping[str, ColumnType]
) -> list[Converter | None]:
    """Each column's converter for the spec's type; None where the spec gives none."""
    return [CONVERTERS[types[n]] if n in types else None for n in names]
