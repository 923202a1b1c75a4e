"""The pipeline config's rules that span fields or items: a table's column references (primary key,
partitions, sequence column) and, across a file, unique cadences and one cadence and one target
per table.

They work on a validated ``PipelineConfig`` as on the raw file (mappings and lists as parsed),
so a file whose items are partly invalid still gets these checked where its values allow.
"""

from collections.abc import Iterable, Mapping, Sequence

from datalake_contracts import table_config as contract
from datalake_shared.config_problems import Location

BATCHES = "batches"
TABLES = "tables"


def duplicates(values: Iterable[str]) -> list[str]:
    """The values listed more than once, ignoring case, each once, in order."""
    seen: set[str] = set()
    repeated: list[str] = []
    for value in values:
        folded = value.casefold()
        if folded in seen and value not in repeated:
            repeated.append(value)
        seen.add(folded)
    return repeated


def column_list_problem(names: Sequence[str], columns: Sequence[str] | None) -> str | None:
    """What is wrong with a list of the table's columns (primary_key, partition_by), if any.
    ``columns`` is None when unknown (then only duplicates are checked)."""
    repeated = duplicates(names)
    if repeated:
        return f"lists {repeated} more than once"
    if columns is not None:
        unknown = [name for name in names if name not in columns]
        if unknown:
            return f"{unknown} not among columns {list(columns)}"
    return None


def sequence_column_problem(name: str, columns: Sequence[str] | None) -> str | None:
    """The sequence column sits between Op and the data columns in CDC files."""
    if contract.is_operation_column(name):
        return f"{contract.OPERATION_COLUMN!r} is the operation column, not a sequence"
    if name.casefold() in (column.casefold() for column in columns or ()):
        return (
            f"{name!r} is also listed in columns: CDC files carry the sequence column "
            "between Op and the data columns, so declare it here only"
        )
    return None


def get(item: object, name: str) -> object:
    """``item``'s value ``name``, whether a raw mapping or a model."""
    if isinstance(item, Mapping):
        return item.get(name)
    return getattr(item, name, None)


def items(data: object, name: str) -> list[object]:
    """The list ``name`` of ``data``; empty when it is not a list."""
    value = get(data, name)
    return list(value) if isinstance(value, list) else []


def _raw_column_names(table: object) -> list[str]:
    return [
        name
        for column in items(table, contract.COLUMNS)
        if isinstance(name := get(column, contract.COLUMN_NAME), str)
    ]


def column_reference_problems(data: object, tables: set[int]) -> list[tuple[Location, str]]:
    """The column reference rules of the raw file's ``tables`` (by index), checked against the
    names of their columns as written: validation skips them when one of a table's columns is
    invalid (the names are usually fine: a bad type must not hide a bad primary key)."""
    problems: list[tuple[Location, str]] = []
    for index, table in enumerate(items(data, TABLES)):
        if index not in tables:
            continue
        columns = _raw_column_names(table)
        for name in (contract.PRIMARY_KEY, contract.PARTITION_BY):
            values = get(table, name)
            if isinstance(values, list) and all(isinstance(value, str) for value in values):
                problem = column_list_problem(values, columns)
                if problem:
                    problems.append(((TABLES, index, name), problem))
        sequence = get(table, contract.SEQUENCE_COLUMN)
        if isinstance(sequence, str):
            problem = sequence_column_problem(sequence, columns)
            if problem:
                problems.append(((TABLES, index, contract.SEQUENCE_COLUMN), problem))
    return problems


def cross_item_problems(data: object) -> list[tuple[Location, str]]:
    """Rules between items of a file: unique cadences, one cadence and one target per table,
    every table's cadence configured. ``data`` is the raw file or a ``PipelineConfig``; items
    whose values are not even strings are left to the per-item validation."""
    problems: list[tuple[Location, str]] = []
    cadences: dict[str, int] = {}
    for index, batch in enumerate(items(data, BATCHES)):
        cadence = get(batch, contract.CADENCE)
        if not isinstance(cadence, str):
            continue
        if cadence in cadences:
            problems.append(
                (
                    (BATCHES, index, contract.CADENCE),
                    f"cadence {cadence!r} is configured twice (also batches[{cadences[cadence]}])",
                )
            )
        else:
            cadences[cadence] = index

    homes: dict[str, tuple[str, int]] = {}
    targets: dict[tuple[str, str], int] = {}
    for index, table in enumerate(items(data, TABLES)):
        cadence, source = get(table, contract.CADENCE), get(table, contract.SOURCE_TABLE)
        if isinstance(cadence, str) and contract.matches(contract.CADENCE_PATTERN, cadence):
            if cadence not in cadences:
                problems.append(
                    (
                        (TABLES, index, contract.CADENCE),
                        f"no batch config for cadence {cadence!r}; add it under batches "
                        f"(configured: {sorted(cadences)})",
                    )
                )
            if isinstance(source, str):
                home = homes.setdefault(source, (cadence, index))
                if home[1] != index:
                    same = home[0] == cadence
                    problems.append(
                        (
                            (TABLES, index, contract.SOURCE_TABLE),
                            f"{source!r} is listed twice for cadence {cadence!r} "
                            f"(also tables[{home[1]}])"
                            if same
                            else f"{source!r} already belongs to cadence {home[0]!r} "
                            f"(tables[{home[1]}]); a table has one cadence",
                        )
                    )
        database = get(table, contract.TARGET_DATABASE)
        name = get(table, contract.TARGET_TABLE)
        if isinstance(database, str) and isinstance(name, str):
            first = targets.setdefault((database, name), index)
            if first != index:
                problems.append(
                    (
                        (TABLES, index, contract.TARGET_TABLE),
                        f"{database}.{name} is already the target of tables[{first}]",
                    )
                )
    return problems
