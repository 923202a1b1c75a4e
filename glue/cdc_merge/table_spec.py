"""The table spec of the merge job: one table of a batch (the TableConfig JSON the batch planner
sends), validated, and the staging layout the engines register for its files.

Pure and engine-free: merge_sql builds the statements from it; the engines (SparkEngine,
DuckDbEngine) read its staging layout. Names are quoted by ``quote_identifier`` wherever SQL
takes them. The TableConfig's field names, choices, defaults, name rules and type grammar are
datalake_contracts.table_config's (the shared layer's pydantic model reads the same).
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from datalake_contracts import table_config as contract
from datalake_contracts.file_tracker_item import LoadType
from datalake_contracts.table_config import FileFormat, FullLoadLayout, Mode

# The staging columns: all start with the contract's RESERVED_COLUMN_PREFIX, which no data or
# sequence column may (a unit test holds them to it).
OP_COLUMN: Final = "_cdc_op"
SEQ_COLUMN: Final = "_cdc_seq"
FILE_ORDER_COLUMN: Final = "_cdc_file_order"
ROW_IN_FILE_COLUMN: Final = "_cdc_row_in_file"
RANK_COLUMN: Final = "_cdc_rank"
IN_TARGET_COLUMN: Final = "_cdc_in_target"
# A full-load file's Op field ("I" throughout) is read under this name and dropped.
FULL_LOAD_OP_FIELD: Final = "_cdc_full_load_op"
# History-mode tables keep every change: the data columns, then this operation column and the
# sequence column under its own name (neither can be a data column: the contract's Op rule).
HISTORY_OP_COLUMN: Final = "op"
INSERT_OP: Final = "I"
UPDATE_OP: Final = "U"
DELETE_OP: Final = "D"
# DMS names the operation column of its Parquet CDC files "Op".
PARQUET_OP_COLUMN: Final = contract.OPERATION_COLUMN


_CATALOG_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


@lru_cache(maxsize=4096)
def quote_identifier(name: str) -> str:
    """A Spark SQL identifier for any name: backticks around it, a backtick inside doubled."""
    if not name:
        raise ValueError("an identifier cannot be empty")
    return "`" + name.replace("`", "``") + "`"


@lru_cache(maxsize=256)
def sql_type(column_type: str) -> str:
    """The Spark SQL type of a configured column type (string, int, ..., decimal(p,s))."""
    canonical = contract.canonical_column_type(column_type)
    if canonical is None:
        raise ValueError(f"unsupported column type {column_type!r}")
    return canonical.upper()


def _is_reserved(name: str) -> bool:
    """Op (DMS's, and the history tables' op) or a staging column's name."""
    return contract.is_operation_column(name) or contract.is_reserved_column(name)


@dataclass(frozen=True)
class Column:
    name: str
    type: str


@dataclass(frozen=True)
class TableSpec:
    """One table of a batch (the TableConfig JSON the batch planner sends), validated."""

    source_table: str
    target_database: str
    target_table: str
    primary_key: tuple[str, ...]
    sequence_column: str
    columns: tuple[Column, ...]
    sequence_column_type: str = contract.DEFAULT_SEQUENCE_COLUMN_TYPE
    file_format: FileFormat = contract.DEFAULT_FILE_FORMAT
    mode: Mode = contract.DEFAULT_MODE
    full_load_layout: FullLoadLayout = contract.DEFAULT_FULL_LOAD_LAYOUT
    partition_by: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "TableSpec":
        """Parses a TableConfig dict; unknown keys (cadence, active...) are ignored.

        Raises ValueError listing every problem found.
        """
        errors: list[str] = []

        def text(key: str, pattern: str | None = None, default: str = "") -> str:
            value = data.get(key, default)
            if not isinstance(value, str) or not value:
                errors.append(f"{key}: a non-empty string is required")
                return ""
            if pattern is not None and not contract.matches(pattern, value):
                errors.append(f"{key}: {value!r} does not match {pattern}")
            return value

        def names(key: str, required: bool) -> tuple[str, ...]:
            value = data.get(key, [])
            if not isinstance(value, list) or not all(
                isinstance(item, str) and item for item in value
            ):
                errors.append(f"{key}: a list of column names is required")
                return ()
            if required and not value:
                errors.append(f"{key}: at least one column is required")
            return tuple(value)

        source_table = text(contract.SOURCE_TABLE, contract.SOURCE_TABLE_PATTERN)
        target_database = text(contract.TARGET_DATABASE, contract.TARGET_NAME_PATTERN)
        target_table = text(contract.TARGET_TABLE, contract.TARGET_NAME_PATTERN)
        sequence_column = text(contract.SEQUENCE_COLUMN)
        sequence_column_type = text(
            contract.SEQUENCE_COLUMN_TYPE, default=contract.DEFAULT_SEQUENCE_COLUMN_TYPE
        )
        file_format = text(contract.FILE_FORMAT, default=contract.DEFAULT_FILE_FORMAT)
        full_load_layout = text(
            contract.FULL_LOAD_LAYOUT, default=contract.DEFAULT_FULL_LOAD_LAYOUT
        )
        mode = text(contract.MODE, default=contract.DEFAULT_MODE)
        primary_key = names(contract.PRIMARY_KEY, required=True)
        partition_by = names(contract.PARTITION_BY, required=False)
        columns = _parse_columns(data.get(contract.COLUMNS), errors)

        try:
            if sql_type(sequence_column_type).lower() in contract.UNORDERED_TYPES:
                errors.append(f"{contract.SEQUENCE_COLUMN_TYPE}: a boolean cannot order changes")
        except ValueError as error:
            errors.append(f"{contract.SEQUENCE_COLUMN_TYPE}: {error}")
        known = {column.name for column in columns}
        # CDC files carry the sequence column between Op and the data columns: it is none of them.
        if sequence_column.lower() in {name.lower() for name in known} or _is_reserved(
            sequence_column
        ):
            errors.append(
                f"{contract.SEQUENCE_COLUMN}: {sequence_column!r} cannot be a data column, Op, "
                "or reserved"
            )
        if file_format not in contract.FILE_FORMATS:
            errors.append(f"{contract.FILE_FORMAT}: {file_format!r} is not csv or parquet")
        if mode not in contract.MODES:
            errors.append(f"{contract.MODE}: {mode!r} is not current or history")
        if full_load_layout not in contract.FULL_LOAD_LAYOUTS:
            errors.append(
                f"{contract.FULL_LOAD_LAYOUT}: {full_load_layout!r} is not one of "
                f"{contract.FULL_LOAD_LAYOUTS}"
            )
        for key, listed in (
            (contract.PRIMARY_KEY, primary_key),
            (contract.PARTITION_BY, partition_by),
        ):
            if len(set(listed)) != len(listed):
                errors.append(f"{key}: names repeat")
            errors.extend(
                f"{key}: {name!r} is not a column" for name in listed if name not in known
            )
        if errors:
            raise ValueError("invalid table spec: " + "; ".join(errors))
        return cls(
            source_table=source_table,
            target_database=target_database,
            target_table=target_table,
            primary_key=primary_key,
            sequence_column=sequence_column,
            columns=columns,
            sequence_column_type=sequence_column_type,
            file_format="parquet" if file_format == "parquet" else "csv",
            mode="history" if mode == "history" else "current",
            full_load_layout=(
                "op_sequence"
                if full_load_layout == "op_sequence"
                else "sequence"
                if full_load_layout == "sequence"
                else "columns"
            ),
            partition_by=partition_by,
        )

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def sequence_type(self) -> str:
        return self.sequence_column_type


def _parse_columns(value: object, errors: list[str]) -> tuple[Column, ...]:
    if not isinstance(value, list) or not value:
        errors.append(f"{contract.COLUMNS}: a non-empty list of {{name, type}} is required")
        return ()
    columns: list[Column] = []
    seen: set[str] = set()
    for position, item in enumerate(value):
        name = item.get(contract.COLUMN_NAME) if isinstance(item, Mapping) else None
        column_type = item.get(contract.COLUMN_TYPE) if isinstance(item, Mapping) else None
        where = f"{contract.COLUMNS}[{position}]"
        if not isinstance(name, str) or not name or not isinstance(column_type, str):
            errors.append(f"{where}: a name and a type are required")
            continue
        try:
            sql_type(column_type)
        except ValueError as error:
            errors.append(f"{where}: {error}")
        # Spark resolves names case-insensitively: two names differing by case are one column.
        if name.lower() in seen:
            errors.append(f"{where}: {name!r} repeats")
        if _is_reserved(name):
            errors.append(f"{where}: {name!r} is reserved (Op, or used by the merge)")
        seen.add(name.lower())
        columns.append(Column(name, column_type))
    return tuple(columns)


def validate_catalog(catalog: str) -> str:
    if not _CATALOG_NAME.match(catalog):
        raise ValueError(f"invalid catalog name {catalog!r}")
    return catalog


# --- staging layout (what the engines register) -------------------------------------------------


def csv_field_names(spec: TableSpec, kind: LoadType) -> tuple[str, ...]:
    """Staging names of a headerless DMS CSV file's fields, by position.

    CDC files: ``Op, <sequence_column>, <columns...>``; full-load files: ``<columns...>``,
    preceded by what ``full_load_layout`` says.
    """
    if kind == "full":
        leading = {
            "columns": (),
            "sequence": (SEQ_COLUMN,),
            "op_sequence": (FULL_LOAD_OP_FIELD, SEQ_COLUMN),
        }[spec.full_load_layout]
        return (*leading, *spec.column_names)
    return (OP_COLUMN, SEQ_COLUMN, *spec.column_names)


def full_load_has_sequence(spec: TableSpec) -> bool:
    """Whether full-load rows carry their sequence value (else they rank before any change)."""
    return spec.full_load_layout != "columns"


def parquet_field_sources(spec: TableSpec, kind: LoadType) -> tuple[tuple[str, str], ...]:
    """(name in the Parquet file, staging name) pairs: Parquet files carry their column names."""
    data = tuple((name, name) for name in spec.column_names)
    if kind == "full":
        if full_load_has_sequence(spec):
            return ((spec.sequence_column, SEQ_COLUMN), *data)
        return data
    return ((PARQUET_OP_COLUMN, OP_COLUMN), (spec.sequence_column, SEQ_COLUMN), *data)


STAGING_METADATA_COLUMNS: Final = (OP_COLUMN, SEQ_COLUMN, FILE_ORDER_COLUMN, ROW_IN_FILE_COLUMN)
