# ruff: noqa: S608 - this module builds SQL: values go through renderer() and names through
# quote_identifier() (or ddl_name(), which refuses anything but plain names); nothing else enters.
"""Athena (Trino) SQL for a batch of changes: one MERGE, split only at the query-size limit.

Shape of a statement (one row per changed key, every value a literal)::

    MERGE INTO "db"."orders" AS t
    USING (SELECT CAST("order_id" AS varchar) AS "order_id", ..., "__cdc_op" FROM (VALUES
    ('o-1','19.99',...,CAST(ROW('1 Main St','Springfield','12345') AS row(...)),'upsert'),
    ('o-2',NULL,...,NULL,'delete')) AS v("order_id", ..., "__cdc_op")) AS s
    ON t."order_id" = s."order_id"
    WHEN MATCHED AND s."__cdc_op" = 'delete' THEN DELETE
    WHEN MATCHED THEN UPDATE SET "status" = s."status", ...
    WHEN NOT MATCHED AND s."__cdc_op" <> 'delete' THEN INSERT (...) VALUES (s."order_id", ...)

Every value is typed by a CAST to its column's type, once per column in the projection: the
literals are text, booleans, ``from_base64(...)``, and ARRAY/MAP of those, whose common type
across rows the engine finds on its own (an empty ``ARRAY[]`` is array(unknown), which fits any
array). A value holding a row also carries its own CAST in its row (see ``row_value_renderer``).

Values never become SQL: text goes into single-quoted literals with ``'`` doubled (Trino has no
backslash escapes, so a backslash is just a character), a NUL character is spliced in with
``chr(0)``, binary travels as base64 text, identifiers are double-quoted with ``"`` doubled.
The shapes were chosen to run on Athena and, transpiled by sqlglot (trino -> duckdb), on DuckDB.
"""

import base64
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, Final

# Moved to the shared layer (the maintenance planner writes Athena names too) and re-exported
# under the same names, which this package's modules and tests use.
from datalake_shared.athena_names import DDL_RESERVED as DDL_RESERVED  # noqa: PLC0414
from datalake_shared.athena_names import SQL_RESERVED as SQL_RESERVED  # noqa: PLC0414
from datalake_shared.athena_names import UnsafeIdentifierError as UnsafeIdentifierError  # noqa: PLC0414
from datalake_shared.athena_names import ddl_name
from datalake_shared.athena_names import is_plain_name as is_plain_name  # noqa: PLC0414
from datalake_shared.cdc_tables import iceberg_column_type
from iceberg_cdc.column_types import (
    ArrayType,
    ColumnType,
    MapType,
    ScalarType,
    StructType,
    contains_struct,
    quote_identifier,
)
from iceberg_cdc.conversion import ColumnValue

# StartQueryExecution's QueryString: at most 262,144 (bytes; counted as UTF-8 here).
ATHENA_MAX_QUERY_BYTES: Final = 262_144
DELETE_OP: Final = "delete"
UPSERT_OP: Final = "upsert"
OP_COLUMN_BASE: Final = "__cdc_op"
_ROW_SEPARATOR: Final = ",\n"
# How a row's VALUES tuple ends: its operation.
_DELETE_LITERAL: Final = f",'{DELETE_OP}')"
_UPSERT_LITERAL: Final = f",'{UPSERT_OP}')"


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: ColumnType


@dataclass(frozen=True, slots=True)
class TargetTable:
    database: str
    table: str
    columns: tuple[Column, ...]
    key_columns: tuple[str, ...]

    def __post_init__(self) -> None:
        names = {column.name for column in self.columns}
        missing = [key for key in self.key_columns if key not in names]
        if missing or not self.key_columns:
            raise ValueError(f"key columns {missing or '(none)'} are not columns of the table")

    @property
    def reference(self) -> str:
        return f"{quote_identifier(self.database)}.{quote_identifier(self.table)}"


@dataclass(frozen=True, slots=True)
class RowChange:
    """The final state of one key: its row (every column) to upsert, or its key to delete."""

    key: tuple[object, ...]
    values: Mapping[str, ColumnValue]
    delete: bool = False


@dataclass(frozen=True, slots=True)
class Statement:
    sql: str
    rows: tuple[RowChange, ...]

    @property
    def size(self) -> int:
        return len(self.sql.encode("utf-8"))


# ------------------------------------------------------------------------------ literals


def string_literal(text: str) -> str:
    """A Trino string literal: ``'`` doubled; NUL spliced in as chr(0) (kept out of the text)."""
    if "\x00" not in text:
        return "'" + text.replace("'", "''") + "'"
    parts = ["'" + part.replace("'", "''") + "'" for part in text.split("\x00")]
    return "(" + " || chr(0) || ".join(parts) + ")"


def _timestamp_text(moment: datetime) -> str:
    """Date, time and microseconds; an offset, if any, left out."""
    if moment.tzinfo is None:  # what the conversion gives: isoformat writes exactly this
        return moment.isoformat(" ", "microseconds")
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d} "
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}.{moment.microsecond:06d}"
    )


def _base64_literal(value: bytes) -> str:
    return f"from_base64('{base64.b64encode(value).decode('ascii')}')"


# By the value's exact type (bool before int does not matter: type(True) is bool). Numbers,
# dates and timestamps travel as text too: the CAST parses it exactly (no float or short-decimal
# literal on the way).
_SCALAR_LITERALS: Final[dict[type, Callable[[Any], str]]] = {
    bool: lambda value: "TRUE" if value else "FALSE",
    str: string_literal,
    int: lambda value: f"'{value}'",
    Decimal: lambda value: f"'{value:f}'",
    float: lambda value: f"'{value!r}'",
    datetime: lambda value: f"'{_timestamp_text(value)}'",
    date: lambda value: f"'{value.isoformat()}'",
    bytes: _base64_literal,
}


# ------------------------------------------------------------------------------ renderers
#
# A renderer writes the literals of one column type. It is built once per type (per table
# schema), so the type's dispatch is done while building it, never per value.

type Renderer = Callable[[ColumnValue], str]


def _scalar_renderer(column_type: ScalarType) -> Renderer:
    def render(value: ColumnValue) -> str:
        if value is None:
            return "NULL"
        write = _SCALAR_LITERALS.get(type(value))
        if write is None:
            raise TypeError(f"no {column_type.glue} literal for {type(value).__name__}")
        return write(value)

    return render


def _array_renderer(column_type: ArrayType) -> Renderer:
    element = renderer(column_type.element)

    def render(value: ColumnValue) -> str:
        if value is None:
            return "NULL"
        assert isinstance(value, list)
        return "ARRAY[" + ",".join([element(member) for member in value]) + "]"

    return render


def _map_renderer(column_type: MapType) -> Renderer:
    key, member = renderer(column_type.key), renderer(column_type.value)

    def render(value: ColumnValue) -> str:
        if value is None:
            return "NULL"
        assert isinstance(value, dict)
        keys = ",".join([key(k) for k in value])  # type: ignore[arg-type]
        values = ",".join([member(v) for v in value.values()])
        return f"MAP(ARRAY[{keys}],ARRAY[{values}])"

    return render


def _struct_renderer(column_type: StructType) -> Renderer:
    fields = [(f.name, renderer(f.type)) for f in column_type.fields]

    def render(value: ColumnValue) -> str:
        if value is None:
            return "NULL"
        assert isinstance(value, dict)
        return "ROW(" + ",".join([write(value.get(name)) for name, write in fields]) + ")"

    return render


def _build_renderer(column_type: ColumnType) -> Renderer:
    match column_type:
        case ScalarType():  # the common case, matched first
            return _scalar_renderer(column_type)
        case ArrayType():
            return _array_renderer(column_type)
        case MapType():
            return _map_renderer(column_type)
        case StructType():
            return _struct_renderer(column_type)


# Column types are frozen (hashable) values: a table's columns share their renderers.
renderer: Final[Callable[[ColumnType], Renderer]] = lru_cache(maxsize=1024)(_build_renderer)
"""The renderer of a column type (built on first use, then reused)."""


def literal(value: ColumnValue, column_type: ColumnType) -> str:
    """``value`` as SQL whose CAST to ``column_type`` yields exactly ``value``."""
    return renderer(column_type)(value)


def _build_row_value_renderer(column_type: ColumnType) -> Renderer:
    """Values inside VALUES. A value holding a row carries its own CAST (a ROW literal has no
    field names: only a CAST gives them, and sqlglot rewrites a ROW outside a CAST into a DuckDB
    struct with made-up names); the others are cast once per column, in the projection."""
    inner = renderer(column_type)
    if not contains_struct(column_type):
        return inner
    cast_to = column_type.trino
    return lambda value: "NULL" if value is None else f"CAST({inner(value)} AS {cast_to})"


row_value_renderer: Final[Callable[[ColumnType], Renderer]] = lru_cache(maxsize=1024)(
    _build_row_value_renderer
)
"""The renderer of a column type's values inside VALUES (built on first use, then reused)."""


# ------------------------------------------------------------------------------ MERGE


def op_column_name(column_names: Iterable[str]) -> str:
    """The synthetic operation column: never the name of a table column (any case)."""
    taken = {name.lower() for name in column_names}
    name = OP_COLUMN_BASE
    while name.lower() in taken:
        name += "_"
    return name


@dataclass
class MergeBuilder:
    """Builds the MERGE statements for a table, packing rows up to ``max_bytes`` per statement."""

    table: TargetTable
    max_bytes: int = ATHENA_MAX_QUERY_BYTES
    op_column: str = field(init=False)
    _prefix: str = field(init=False)
    _suffix: str = field(init=False)
    _names: tuple[str, ...] = field(init=False)
    _keys: tuple[bool, ...] = field(init=False)
    """Per column (as ``_names``): whether it is a key column."""
    _writers: tuple[Renderer, ...] = field(init=False)
    """Per column (as ``_names``): its row value renderer."""

    def __post_init__(self) -> None:
        columns = self.table.columns
        self.op_column = op_column_name(column.name for column in columns)
        op = quote_identifier(self.op_column)
        names = [quote_identifier(column.name) for column in columns]
        projection = ", ".join(
            f"CAST({name} AS {column.type.trino}) AS {name}"
            for name, column in zip(names, columns, strict=True)
        )
        on = " AND ".join(
            f"t.{quote_identifier(key)} = s.{quote_identifier(key)}"
            for key in self.table.key_columns
        )
        keys = set(self.table.key_columns)
        updates = ", ".join(
            f"{quote_identifier(column.name)} = s.{quote_identifier(column.name)}"
            for column in columns
            if column.name not in keys
        )
        update_clause = f"WHEN MATCHED THEN UPDATE SET {updates}\n" if updates else ""
        self._prefix = (
            f"MERGE INTO {self.table.reference} AS t\n"
            f"USING (SELECT {projection}, {op} FROM (VALUES\n"
        )
        self._suffix = (
            f") AS v({', '.join(names)}, {op})) AS s\n"
            f"ON {on}\n"
            f"WHEN MATCHED AND s.{op} = '{DELETE_OP}' THEN DELETE\n"
            f"{update_clause}"
            f"WHEN NOT MATCHED AND s.{op} <> '{DELETE_OP}' THEN "
            f"INSERT ({', '.join(names)}) VALUES ({', '.join('s.' + name for name in names)})"
        )
        fixed = len(self._prefix.encode()) + len(self._suffix.encode())
        if fixed >= self.max_bytes:
            raise ValueError(f"max_bytes {self.max_bytes} cannot hold even an empty MERGE")
        self._names = tuple(column.name for column in columns)
        self._keys = tuple(column.name in keys for column in columns)
        self._writers = tuple(row_value_renderer(column.type) for column in columns)

    def row_sql(self, row: RowChange) -> str:
        cells = zip(self._writers, map(row.values.get, self._names), strict=True)
        if row.delete:  # the key, every other column NULL
            texts = [
                write(value) if key else "NULL"
                for (write, value), key in zip(cells, self._keys, strict=True)
            ]
            return "(" + ",".join(texts) + _DELETE_LITERAL
        return "(" + ",".join([write(value) for write, value in cells]) + _UPSERT_LITERAL

    def statement(self, rows_sql: Sequence[str], rows: Sequence[RowChange]) -> Statement:
        sql = self._prefix + _ROW_SEPARATOR.join(rows_sql) + self._suffix
        return Statement(sql, tuple(rows))

    def statements(
        self, rows: Sequence[RowChange]
    ) -> tuple[list[Statement], list[tuple[RowChange, str]]]:
        """As few statements as fit ``max_bytes``, rows in the given order; plus the rows that
        alone would exceed it, each with the reason."""
        fixed = len(self._prefix.encode()) + len(self._suffix.encode())
        separator = len(_ROW_SEPARATOR)
        statements: list[Statement] = []
        too_large: list[tuple[RowChange, str]] = []
        chunk_sql: list[str] = []
        chunk_rows: list[RowChange] = []
        size = fixed
        for row in rows:
            text = self.row_sql(row)
            row_bytes = len(text) if text.isascii() else len(text.encode("utf-8"))
            if fixed + row_bytes > self.max_bytes:
                too_large.append(
                    (row, f"its row needs {fixed + row_bytes} bytes of SQL; limit {self.max_bytes}")
                )
                continue
            extra = row_bytes + (separator if chunk_sql else 0)
            if chunk_sql and size + extra > self.max_bytes:
                statements.append(self.statement(chunk_sql, chunk_rows))
                chunk_sql, chunk_rows, size = [], [], fixed
                extra = row_bytes
            chunk_sql.append(text)
            chunk_rows.append(row)
            size += extra
        if chunk_sql:
            statements.append(self.statement(chunk_sql, chunk_rows))
        return statements, too_large


# ------------------------------------------------------------------------------ DDL


def add_columns_sql(database: str, table: str, columns: Sequence[tuple[str, str]]) -> str:
    """``ALTER TABLE db.t ADD COLUMNS (name glue_type, ...)`` (Glue type names, as Athena DDL
    expects). Raises ``UnsafeIdentifierError`` for a name that would need quoting."""
    if not columns:
        raise ValueError("no columns to add")
    definitions = ", ".join(f"{ddl_name(name)} {glue_type}" for name, glue_type in columns)
    return f"ALTER TABLE {ddl_name(database)}.{ddl_name(table)} ADD COLUMNS ({definitions})"


# Where a created table's files go: the lake bucket's iceberg/ prefix (the function's S3 rights).
_BUCKET_NAME: Final = re.compile(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]")


def create_table_sql(
    database: str, table: str, columns: Sequence[tuple[str, str]], bucket: str
) -> str:
    """``CREATE TABLE IF NOT EXISTS db.t (name glue_type, ...) LOCATION 's3://<bucket>/iceberg/<t>/'
    TBLPROPERTIES ('table_type'='ICEBERG')``. Names go through ``ddl_name`` and the bucket must
    be an S3 bucket name, so nothing in the statement needs escaping; the types are Glue types
    the pipeline config validated (``cdc_tables.iceberg_column_type``)."""
    if not columns:
        raise ValueError("a table needs at least one column")
    if not _BUCKET_NAME.fullmatch(bucket):
        raise UnsafeIdentifierError(f"{bucket!r} is not an S3 bucket name")
    try:
        definitions = ", ".join(
            f"{ddl_name(name)} {iceberg_column_type(glue_type)}" for name, glue_type in columns
        )
    except ValueError as error:
        raise UnsafeIdentifierError(str(error)) from error
    name = ddl_name(table)
    return (
        f"CREATE TABLE IF NOT EXISTS {ddl_name(database)}.{name} ({definitions}) "
        f"LOCATION 's3://{bucket}/iceberg/{name}/' TBLPROPERTIES ('table_type'='ICEBERG')"
    )
