# ruff: noqa: S608 - statements are built from quoted identifiers and escaped literals only.
"""AthenaOnDuckDB: the local Athena (engine v3) stand-in, on DuckDB.

What runs is the SQL the application sends Athena, transpiled from Trino to DuckDB by sqlglot,
against the tables of the Glue catalog (moto):

- An Iceberg table (``table_type=ICEBERG``) is a DuckDB table ``"<database>"."<table>"`` in the
  DuckDB file given (one DuckDB schema per Glue database), created on first use with the Glue
  columns' types and given the columns the Glue table gains later. The file is the lake.
- An external table (CSV with OpenCSVSerde / LazySimpleSerDe, JSON lines, Parquet) is a view
  over local copies of the objects under its S3 location, refreshed at every query that reads
  it: partitions come from partition projection, or else from the Glue partitions.
- ``OPTIMIZE ... REWRITE DATA USING BIN_PACK`` and ``VACUUM`` check the table and do nothing
  (DuckDB has no files to compact); ``ALTER TABLE ... ADD COLUMNS`` updates the Glue table and
  the DuckDB table, as Athena updates the catalog and the Iceberg schema.

One statement per query, as Athena; a failure carries Athena's error name ("TABLE_NOT_FOUND:
...") and AthenaError fields. Statements run one at a time (one DuckDB connection).
"""

import calendar
import contextlib
import dataclasses
import datetime
import decimal
import gzip
import json
import math
import re
import shutil
import struct
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Self

import duckdb
import sqlglot
from botocore.exceptions import ClientError
from sqlglot import TokenType, exp
from sqlglot.dialects.trino import Trino
from sqlglot.errors import ErrorLevel, ParseError, TokenError, UnsupportedError
from sqlglot.expressions.datatypes import DType

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_s3 import S3Client

CATALOG: Final = "awsdatacatalog"  # the DuckDB file is attached under Athena's catalog name
DEFAULT_DATABASE: Final = "default"

# AthenaError.ErrorCategory values (Athena error catalog)
SYSTEM_ERROR: Final = 1
USER_ERROR: Final = 2
# AthenaError.ErrorType values used here (Athena error catalog)
USER_ERROR_TYPE: Final = 1000
ICEBERG_ERROR_TYPE: Final = 233
INTERNAL_ERROR_TYPE: Final = 200

_DDL_KEYWORDS: Final = frozenset({"ALTER", "CREATE", "DESCRIBE", "DROP", "MSCK", "SHOW"})
_HIDDEN_PREFIXES: Final = ("_", ".")
_HIVE_NULL_PARTITION: Final = "__HIVE_DEFAULT_PARTITION__"
_S3_OPERATIONS: Final = frozenset({"GetObject", "ListObjectsV2", "ListObjects", "HeadObject"})


# ---------------------------------------------------------------------------------- outcomes
@dataclass(frozen=True)
class QueryError:
    """Why a query FAILED, in Athena's terms (StateChangeReason and AthenaError)."""

    code: str  # Trino/Athena error name, e.g. TABLE_NOT_FOUND
    message: str  # the StateChangeReason: "<code>: <detail>"
    category: int = USER_ERROR
    error_type: int = USER_ERROR_TYPE
    retryable: bool = False


class AthenaQueryError(Exception):
    """A query fails with an Athena error name and a detail."""

    def __init__(
        self,
        code: str,
        detail: str,
        *,
        category: int = USER_ERROR,
        error_type: int = USER_ERROR_TYPE,
        retryable: bool = False,
    ) -> None:
        super().__init__(f"{code}: {detail}")
        self.error = QueryError(code, f"{code}: {detail}", category, error_type, retryable)


@dataclass(frozen=True)
class ResultColumn:
    """One column of a result set, as GetQueryResults' ColumnInfo describes it."""

    name: str
    type: str  # Athena type name: varchar, bigint, decimal, array, map, row...
    precision: int = 0
    scale: int = 0


@dataclass(frozen=True)
class QueryOutcome:
    state: str  # SUCCEEDED | FAILED
    statement_type: str  # DML | DDL | UTILITY (QueryExecution.StatementType)
    columns: tuple[ResultColumn, ...] = ()
    rows: tuple[tuple[str | None, ...], ...] = ()  # values as Athena prints them; None is NULL
    update_count: int | None = None  # rows inserted/updated/deleted by a DML statement
    error: QueryError | None = None
    duckdb_sql: str | None = None  # what ran on DuckDB, when something did
    engine_ms: int = 0

    @property
    def succeeded(self) -> bool:
        return self.state == "SUCCEEDED"

    @property
    def state_change_reason(self) -> str | None:
        return self.error.message if self.error else None

    def result_rows(self) -> list[list[str | None]]:
        """The result set as GetQueryResults pages it: the header row first (SELECT only)."""
        if not self.columns:
            return []
        return [[column.name for column in self.columns], *(list(row) for row in self.rows)]

    def to_csv(self) -> str:
        """The results file Athena writes: every value quoted, NULL as an empty field."""
        lines = []
        for row in self.result_rows():
            fields = (
                "" if value is None else '"' + value.replace('"', '""') + '"' for value in row
            )
            lines.append(",".join(fields))
        return "".join(line + "\n" for line in lines)


@dataclass(frozen=True)
class MaintenanceRun:
    """An OPTIMIZE or VACUUM the stand-in accepted (and had nothing to do for)."""

    statement: str  # OPTIMIZE | VACUUM
    database: str
    table: str
    sql: str


# ---------------------------------------------------------------------------------- Glue types
class GlueTypeError(ValueError):
    """A Glue/Hive column type this stand-in cannot read."""


_GLUE_SCALARS: Final[dict[str, str]] = {
    "string": "VARCHAR",
    "varchar": "VARCHAR",
    "char": "VARCHAR",
    "bigint": "BIGINT",
    "int": "INTEGER",
    "integer": "INTEGER",
    "smallint": "SMALLINT",
    "tinyint": "TINYINT",
    "double": "DOUBLE",
    "float": "REAL",
    "boolean": "BOOLEAN",
    "binary": "BLOB",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "decimal": "DECIMAL",
}
_PARAMETERISED: Final = frozenset({"decimal", "varchar", "char"})
_DEFAULT_DECIMAL: Final = (10, 0)  # Hive's DECIMAL without precision


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class GlueType:
    """A Glue (Hive DDL) column type: ``name``, its parameters, element/field types."""

    name: str
    params: tuple[int, ...] = ()
    children: tuple["GlueType", ...] = ()  # array: (element,), map: (key, value), struct: fields
    field_names: tuple[str, ...] = ()  # struct field names, in order

    @property
    def is_string(self) -> bool:
        return self.name in ("string", "varchar", "char")

    def glue(self) -> str:
        """The canonical Glue spelling, e.g. ``struct<a:string,b:decimal(12,2)>``."""
        if self.name == "array":
            return f"array<{self.children[0].glue()}>"
        if self.name == "map":
            return f"map<{self.children[0].glue()},{self.children[1].glue()}>"
        if self.name == "struct":
            fields = ",".join(
                f"{name}:{child.glue()}"
                for name, child in zip(self.field_names, self.children, strict=True)
            )
            return f"struct<{fields}>"
        if self.params:
            return f"{self.name}({','.join(str(p) for p in self.params)})"
        return self.name

    def duckdb(self) -> str:
        """The DuckDB column type (ICEBERG_TABLE.md's mapping)."""
        if self.name == "array":
            return f"{self.children[0].duckdb()}[]"
        if self.name == "map":
            return f"MAP({self.children[0].duckdb()}, {self.children[1].duckdb()})"
        if self.name == "struct":
            fields = ", ".join(
                f"{quote_identifier(name)} {child.duckdb()}"
                for name, child in zip(self.field_names, self.children, strict=True)
            )
            return f"STRUCT({fields})"
        if self.name == "decimal":
            precision, scale = (*self.params, *_DEFAULT_DECIMAL[len(self.params) :])[:2]
            return f"DECIMAL({precision},{scale})"
        return _GLUE_SCALARS[self.name]


class _GlueTypeReader:
    """Recursive descent over a Glue type string: array<T>, map<K,V>, struct<n:T,...>."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, why: str) -> GlueTypeError:
        return GlueTypeError(f"{why} at position {self.pos} of Glue type {self.text!r}")

    def skip_spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        self.skip_spaces()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise self.fail(f"expected {char!r}")
        self.pos += 1

    def word(self) -> str:
        self.skip_spaces()
        start = self.pos
        while self.pos < len(self.text) and (
            self.text[self.pos].isalnum() or self.text[self.pos] == "_"
        ):
            self.pos += 1
        return self.text[start : self.pos]

    def field_name(self) -> str:
        self.skip_spaces()
        if self.peek() == "`":
            end = self.text.find("`", self.pos + 1)
            if end < 0:
                raise self.fail("unterminated `")
            name = self.text[self.pos + 1 : end]
            self.pos = end + 1
            return name
        end = self.text.find(":", self.pos)
        if end < 0:
            raise self.fail("expected ':' after a struct field name")
        name = self.text[self.pos : end].strip()
        self.pos = end
        if not name:
            raise self.fail("empty struct field name")
        return name

    def read(self) -> GlueType:
        name = self.word().lower()
        if not name:
            raise self.fail("expected a type name")
        if name == "array":
            self.expect("<")
            element = self.read()
            self.expect(">")
            return GlueType("array", children=(element,))
        if name == "map":
            self.expect("<")
            key = self.read()
            self.expect(",")
            value = self.read()
            self.expect(">")
            return GlueType("map", children=(key, value))
        if name == "struct":
            return self.read_struct()
        if name not in _GLUE_SCALARS:
            raise self.fail(f"unknown type {name!r}")
        params: tuple[int, ...] = ()
        if self.peek() == "(":
            if name not in _PARAMETERISED:
                raise self.fail(f"{name} takes no parameters")
            self.pos += 1
            params = self.read_params()
        return GlueType("int" if name == "integer" else name, params=params)

    def read_struct(self) -> GlueType:
        self.expect("<")
        names: list[str] = []
        children: list[GlueType] = []
        if self.peek() != ">":
            while True:
                names.append(self.field_name())
                self.expect(":")
                children.append(self.read())
                if self.peek() != ",":
                    break
                self.pos += 1
        self.expect(">")
        return GlueType("struct", children=tuple(children), field_names=tuple(names))

    def read_params(self) -> tuple[int, ...]:
        params: list[int] = []
        while True:
            digits = self.word()
            if not digits.isdigit():
                raise self.fail("expected a number")
            params.append(int(digits))
            if self.peek() != ",":
                break
            self.pos += 1
        self.expect(")")
        return tuple(params)


def parse_glue_type(text: str) -> GlueType:
    """``decimal(12,2)``, ``array<string>``, ``map<string,array<int>>``, ``struct<a:string>``..."""
    reader = _GlueTypeReader(text)
    parsed = reader.read()
    if reader.peek():
        raise reader.fail("unexpected text after the type")
    if parsed.name == "decimal" and parsed.params:
        precision, scale = (*parsed.params, 0)[:2]
        if len(parsed.params) > 2 or not 1 <= precision <= 38 or scale > precision:
            raise GlueTypeError(f"invalid decimal precision/scale in {text!r}")
    return parsed


_SQLGLOT_SCALARS: Final[dict[DType, str]] = {
    exp.DataType.Type.TEXT: "string",
    exp.DataType.Type.BIGINT: "bigint",
    exp.DataType.Type.INT: "int",
    exp.DataType.Type.SMALLINT: "smallint",
    exp.DataType.Type.TINYINT: "tinyint",
    exp.DataType.Type.DOUBLE: "double",
    exp.DataType.Type.FLOAT: "float",
    exp.DataType.Type.BOOLEAN: "boolean",
    exp.DataType.Type.BINARY: "binary",
    exp.DataType.Type.VARBINARY: "binary",
    exp.DataType.Type.DATE: "date",
    exp.DataType.Type.TIMESTAMP: "timestamp",
    exp.DataType.Type.DECIMAL: "decimal",
    exp.DataType.Type.VARCHAR: "varchar",
    exp.DataType.Type.CHAR: "char",
}


def glue_type_from_sqlglot(data_type: exp.DataType) -> GlueType:
    """The Glue type of a column type in Athena DDL (as sqlglot parsed it, Hive dialect)."""
    kind = data_type.this
    if kind == exp.DataType.Type.ARRAY:
        return GlueType("array", children=(glue_type_from_sqlglot(data_type.expressions[0]),))
    if kind == exp.DataType.Type.MAP:
        key, value = data_type.expressions
        return GlueType(
            "map", children=(glue_type_from_sqlglot(key), glue_type_from_sqlglot(value))
        )
    if kind == exp.DataType.Type.STRUCT:
        fields = [f for f in data_type.expressions if isinstance(f, exp.ColumnDef)]
        return GlueType(
            "struct",
            children=tuple(glue_type_from_sqlglot(f.args["kind"]) for f in fields),
            field_names=tuple(f.name for f in fields),
        )
    name = _SQLGLOT_SCALARS.get(kind) if isinstance(kind, DType) else None
    if name is None:
        raise GlueTypeError(f"type {data_type.sql(dialect='hive')} has no Glue equivalent here")
    params = tuple(int(p.name) for p in data_type.expressions if isinstance(p, exp.DataTypeParam))
    return GlueType(name, params=params)


# ---------------------------------------------------------------------------------- catalog
_CSV_SERDES: Final = {
    "org.apache.hadoop.hive.serde2.OpenCSVSerde": "opencsv",
    "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe": "lazy",
}
_JSON_SERDES: Final = frozenset(
    {"org.openx.data.jsonserde.JsonSerDe", "org.apache.hive.hcatalog.data.JsonSerDe"}
)
_PARQUET_SERDE: Final = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"


@dataclass(frozen=True)
class CatalogTable:
    """What the engine needs of a Glue table."""

    database: str
    name: str
    columns: tuple[tuple[str, GlueType], ...]
    partition_keys: tuple[tuple[str, GlueType], ...]
    format: str  # iceberg | opencsv | lazy | json | parquet | unsupported
    location: str
    parameters: Mapping[str, str]
    serde_parameters: Mapping[str, str]
    problem: str | None = None  # why it cannot be read locally

    @property
    def is_iceberg(self) -> bool:
        return self.format == "iceberg"

    @property
    def qualified(self) -> str:
        names = (CATALOG, self.database, self.name)
        return ".".join(quote_identifier(name) for name in names)

    @classmethod
    def from_glue(cls, table: Mapping[str, Any]) -> "CatalogTable":
        parameters = {str(k): str(v) for k, v in (table.get("Parameters") or {}).items()}
        storage = table.get("StorageDescriptor") or {}
        serde = storage.get("SerdeInfo") or {}
        library = str(serde.get("SerializationLibrary", ""))
        problem: str | None = None
        columns: list[tuple[str, GlueType]] = []
        keys: list[tuple[str, GlueType]] = []
        for source, target in (
            (storage.get("Columns") or [], columns),
            (table.get("PartitionKeys") or [], keys),
        ):
            for column in source:
                try:
                    target.append((str(column["Name"]).lower(), parse_glue_type(column["Type"])))
                except (GlueTypeError, KeyError) as error:
                    problem = f"column {column.get('Name')!r}: {error}"
        if parameters.get("table_type", "").upper() == "ICEBERG":
            kind = "iceberg"
        elif table.get("TableType") == "VIRTUAL_VIEW":
            kind, problem = "unsupported", problem or "views are not supported locally"
        elif library in _CSV_SERDES:
            kind = _CSV_SERDES[library]
        elif library in _JSON_SERDES:
            kind = "json"
        elif library == _PARQUET_SERDE:
            kind = "parquet"
        else:
            kind, problem = (
                "unsupported",
                problem or f"SerDe {library or '(none)'} is not supported locally",
            )
        return cls(
            database=str(table["DatabaseName"]).lower(),
            name=str(table["Name"]).lower(),
            columns=tuple(columns),
            partition_keys=tuple(keys),
            format=kind,
            location=str(storage.get("Location", "")),
            parameters=parameters,
            serde_parameters={str(k): str(v) for k, v in (serde.get("Parameters") or {}).items()},
            problem=problem,
        )


# ---------------------------------------------------------------------------------- results
def _java_double(value: float) -> str:
    """A double as Trino prints it (Java's Double.toString)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    sign = "-" if value < 0 else ""
    _, digit_tuple, exponent = decimal.Decimal(repr(abs(value))).as_tuple()
    digits = "".join(str(d) for d in digit_tuple)
    assert isinstance(exponent, int)
    stripped = digits.rstrip("0")
    exponent += len(digits) - len(stripped)
    digits = stripped.lstrip("0") or "0"
    magnitude = len(digits) - 1 + exponent  # position of the first digit
    if -3 <= magnitude < 7:
        text = format(decimal.Decimal(f"{digits}E{exponent}"), "f")
        return sign + (text if "." in text else text + ".0")
    mantissa = digits[0] + "." + (digits[1:] or "0")
    return f"{sign}{mantissa}E{magnitude}"


def _java_float(value: float) -> str:
    """A REAL: the shortest decimal that reads back as the same 32-bit float."""
    if math.isnan(value) or math.isinf(value):
        return _java_double(value)
    for digits in range(1, 10):
        candidate = float(f"{value:.{digits}g}")
        if struct.unpack("f", struct.pack("f", candidate))[0] == value:
            return _java_double(candidate)
    return _java_double(value)


_INTEGER_TYPES: Final = {
    "tinyint": "tinyint",
    "smallint": "smallint",
    "integer": "integer",
    "bigint": "bigint",
    "utinyint": "smallint",
    "usmallint": "integer",
    "uinteger": "bigint",
    "ubigint": "decimal",
    "hugeint": "decimal",
    "uhugeint": "decimal",
}
_TIMESTAMP_DIGITS: Final = {"timestamp_s": 0, "timestamp_ms": 3, "timestamp": 6, "timestamp_ns": 6}
_ATHENA_TYPES: Final = {
    "varchar": "varchar",
    "boolean": "boolean",
    "double": "double",
    "float": "float",
    "decimal": "decimal",
    "date": "date",
    "time": "time",
    "timestamp with time zone": "timestamp with time zone",
    "blob": "varbinary",
    "uuid": "uuid",
    "interval": "interval day to second",
    "list": "array",
    "array": "array",
    "map": "map",
    "struct": "row",
    "tuple": "row",
    **{name: "timestamp" for name in _TIMESTAMP_DIGITS},
    **_INTEGER_TYPES,
}


def _children(duck_type: Any) -> list[tuple[str, Any]]:
    return list(duck_type.children)


def _column_info(name: str, duck_type: Any) -> ResultColumn:
    kind = str(duck_type.id)
    athena = "json" if str(duck_type) == "JSON" else _ATHENA_TYPES.get(kind, "varchar")
    precision, scale = 0, 0
    if kind == "decimal":
        parts = dict(_children(duck_type))
        precision, scale = int(parts["precision"]), int(parts["scale"])
    elif kind in _INTEGER_TYPES and athena == "decimal":
        precision = 38
    elif athena == "varchar":
        precision = 2147483647
    elif athena == "timestamp":
        precision = _TIMESTAMP_DIGITS.get(kind, 3)
    return ResultColumn(name=name, type=athena, precision=precision, scale=scale)


def _timestamp_text(value: datetime.datetime, digits: int) -> str:
    text = value.strftime("%Y-%m-%d %H:%M:%S")
    if digits:
        text += "." + f"{value.microsecond:06d}"[:digits]
    return text


def _value_text(value: Any, duck_type: Any) -> str:  # noqa: PLR0911 - one return per type
    """A non-NULL value as Athena's console and GetQueryResults print it."""
    kind = str(duck_type.id)
    if kind in ("list", "array"):
        element = dict(_children(duck_type))["child"]
        return "[" + ", ".join(_nested_text(item, element) for item in value) + "]"
    if kind == "map":
        parts = dict(_children(duck_type))
        return (
            "{"
            + ", ".join(
                f"{_nested_text(k, parts['key'])}={_nested_text(v, parts['value'])}"
                for k, v in value.items()
            )
            + "}"
        )
    if kind in ("struct", "tuple"):  # a tuple is an anonymous ROW(...): printed field0=...
        fields = _children(duck_type)
        items = value.values() if isinstance(value, dict) else value
        return (
            "{"
            + ", ".join(
                f"{name or f'field{index}'}={_nested_text(item, child)}"
                for index, ((name, child), item) in enumerate(zip(fields, items, strict=True))
            )
            + "}"
        )
    if isinstance(value, bool):
        return "true" if value else "false"
    if kind == "double":
        return _java_double(float(value))
    if kind == "float":
        return _java_float(float(value))
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if kind == "timestamp with time zone" and isinstance(value, datetime.datetime):
        return _timestamp_text(value.astimezone(datetime.UTC), 3) + " UTC"
    if kind in _TIMESTAMP_DIGITS and isinstance(value, datetime.datetime):
        return _timestamp_text(value, _TIMESTAMP_DIGITS[kind])
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return " ".join(f"{byte:02x}" for byte in bytes(value))
    return str(value)


def _nested_text(value: Any, duck_type: Any) -> str:
    return "null" if value is None else _value_text(value, duck_type)


def athena_text(value: Any, duck_type: Any) -> str | None:
    """A result value as GetQueryResults' VarCharValue (None: the field has no value: NULL)."""
    return None if value is None else _value_text(value, duck_type)


# ---------------------------------------------------------------------------------- SQL rewrites
def _decimal_literal_type(text: str) -> tuple[int, int] | None:
    """DECIMAL '12.50' is decimal(4,2) in Trino: precision and scale of the literal."""
    body = text.strip().lstrip("+-")
    whole, _, fraction = body.partition(".")
    if not (whole or fraction) or not (whole + fraction).isdigit():
        return None
    whole = whole.lstrip("0")
    scale = len(fraction)
    precision = max(len(whole) + scale, 1)
    return (precision, scale) if precision <= 38 else None


def _is_string_literal(node: exp.Expr) -> bool:
    return isinstance(node, exp.Literal) and node.is_string


def _fix_for_duckdb(tree: exp.Expr) -> exp.Expr:
    """Where DuckDB reads the transpiled Trino differently, say what Trino means.

    - ``ROW(a, b)`` (no field names) becomes DuckDB ``{'_0': a, '_1': b}``, which DuckDB will not
      cast to a named STRUCT column ("STRUCT to STRUCT cast must have at least one matching
      member"); Trino assigns rows by position: keep it an unnamed ``ROW(a, b)``.
    - ``DECIMAL '12.50'`` / ``CAST(x AS DECIMAL)`` become a bare DECIMAL, which is DECIMAL(18,3) in
      DuckDB (digits lost, values over 15 integer digits rejected); in Trino a literal has its
      own precision/scale and a bare DECIMAL is DECIMAL(38,0).
    - ``TIMESTAMP '2026-11-20 10:15:30 +02:00'`` becomes a TIMESTAMPTZ cast that DuckDB reads
      as time zone "+02:00" (unknown): write the offset the way DuckDB parses it.
    """
    for node in reversed(list(tree.find_all(exp.Struct, bfs=False))):
        if node.expressions and not any(
            isinstance(e, exp.PropertyEQ | exp.Alias | exp.Slice) for e in node.expressions
        ):
            node.replace(exp.Anonymous(this="ROW", expressions=list(node.expressions)))
    for cast in tree.find_all(exp.Cast):
        target = cast.to
        if target.this == exp.DataType.Type.DECIMAL and not target.expressions:
            literal = (
                _decimal_literal_type(cast.this.name) if _is_string_literal(cast.this) else None
            )
            precision, scale = literal or (38, 0)
            cast.set("to", exp.DataType.build(f"DECIMAL({precision}, {scale})"))
        elif target.this == exp.DataType.Type.TIMESTAMPTZ and _is_string_literal(cast.this):
            text = cast.this.name
            if len(text) > 7 and text[-7] == " " and text[-6] in "+-" and text[-3] == ":":
                cast.set("this", exp.Literal.string(text[:-7] + text[-6:]))
    return tree


def trino_to_duckdb(tree: exp.Expr) -> str:
    """One parsed Trino statement as DuckDB SQL (what ``sqlglot.transpile`` gives, fixed)."""
    try:
        return _fix_for_duckdb(tree.copy()).sql(
            dialect="duckdb", unsupported_level=ErrorLevel.RAISE
        )
    except UnsupportedError as error:
        raise AthenaQueryError("NOT_SUPPORTED", f"{error} (not translatable to DuckDB)") from error


# ---------------------------------------------------------------------------------- statements
@dataclass(frozen=True)
class _TableRef:
    database: str
    name: str
    line: int
    column: int

    @property
    def athena_name(self) -> str:
        return f"{CATALOG}.{self.database}.{self.name}"


def _position(sql: str, offset: int | None) -> tuple[int, int]:
    if offset is None:
        return 1, 1
    line = sql.count("\n", 0, offset) + 1
    return line, offset - (sql.rfind("\n", 0, offset) + 1) + 1


def _table_offset(table: exp.Table) -> int | None:
    for part in ("catalog", "db", "this"):
        node = table.args.get(part)
        if isinstance(node, exp.Identifier) and "start" in node.meta:
            return int(node.meta["start"])
    return None


def _statement_type(first_keyword: str) -> str:
    if first_keyword in _DDL_KEYWORDS:
        return "DDL"
    if first_keyword in ("EXPLAIN", "DESC"):
        return "UTILITY"
    return "DML"


@dataclass(frozen=True)
class _Maintenance:
    keyword: str  # OPTIMIZE | VACUUM
    table: exp.Table


def _parse_maintenance(keyword: str, rest: str) -> _Maintenance:
    """``OPTIMIZE <table> REWRITE DATA USING BIN_PACK [WHERE ...]`` or ``VACUUM <table>``."""
    usage = (
        "OPTIMIZE <table> REWRITE DATA USING BIN_PACK [WHERE <predicate>]"
        if keyword == "OPTIMIZE"
        else "VACUUM <table>"
    )
    try:
        tokens = [t for t in Trino().tokenize(rest) if t.text != ";"]
    except TokenError as error:
        raise AthenaQueryError("SYNTAX_ERROR", f"{error}; expected {usage}") from error
    position = 0
    while position < len(tokens):  # name parts separated by dots
        position += 1
        if position < len(tokens) and tokens[position].token_type == TokenType.DOT:
            position += 1
            continue
        break
    if position == 0:
        raise AthenaQueryError("SYNTAX_ERROR", f"missing table name; expected {usage}")
    name_text = rest[tokens[0].start : tokens[position - 1].end + 1]
    try:
        table = sqlglot.parse_one(name_text, read="trino", into=exp.Table)
    except ParseError as error:
        raise AthenaQueryError(
            "SYNTAX_ERROR", f"bad table name {name_text!r}; expected {usage}"
        ) from error
    trailing = [t.text.upper() for t in tokens[position:]]
    if keyword == "OPTIMIZE":
        if trailing[:4] != ["REWRITE", "DATA", "USING", "BIN_PACK"] or (
            len(trailing) > 4 and trailing[4] != "WHERE"
        ):
            raise AthenaQueryError("SYNTAX_ERROR", f"expected {usage}")
    elif trailing:
        raise AthenaQueryError(
            "SYNTAX_ERROR", f"unexpected {' '.join(trailing)!r}; expected {usage}"
        )
    return _Maintenance(keyword, table)


def _first_keyword(sql: str) -> tuple[str, int]:
    """The statement's first keyword (upper case) and where the rest of the text starts."""
    try:
        tokens = Trino().tokenize(sql)
    except TokenError as error:
        raise AthenaQueryError("SYNTAX_ERROR", str(error)) from error
    if not tokens:
        raise AthenaQueryError("SYNTAX_ERROR", "line 1:1: the query is empty")
    first = tokens[0]
    return first.text.upper(), first.end + 1


def _parse_error(error: ParseError) -> AthenaQueryError:
    first = error.errors[0] if error.errors else {}
    line, column = first.get("line") or 1, first.get("col") or 1
    description = str(first.get("description") or error).split(". Line")[0]
    return AthenaQueryError("SYNTAX_ERROR", f"line {line}:{column}: {description}")


def _bind_parameters(tree: exp.Expr, parameters: Sequence[str]) -> exp.Expr:
    """ExecutionParameters: each ``?`` in order takes one value (a SQL literal's text)."""
    placeholders = list(tree.find_all(exp.Placeholder))
    if len(placeholders) != len(parameters):
        raise AthenaQueryError(
            "INVALID_PARAMETER_USAGE",
            f"Incorrect number of parameters: expected {len(placeholders)} but found "
            f"{len(parameters)}",
        )
    for placeholder, text in zip(placeholders, parameters, strict=True):
        try:
            placeholder.replace(sqlglot.parse_one(text, read="trino"))
        except ParseError as error:
            raise AthenaQueryError("INVALID_PARAMETER_USAGE", f"bad parameter {text!r}") from error
    return tree


# ---------------------------------------------------------------------------------- external data
_JAVA_DATE_FIELDS: Final = {
    "yyyy": "%Y",
    "yy": "%y",
    "MM": "%m",
    "dd": "%d",
    "HH": "%H",
    "mm": "%M",
    "ss": "%S",
}
_RELATIVE_UNITS: Final = {
    "SECOND": datetime.timedelta(seconds=1),
    "MINUTE": datetime.timedelta(minutes=1),
    "HOUR": datetime.timedelta(hours=1),
    "DAY": datetime.timedelta(days=1),
    "WEEK": datetime.timedelta(weeks=1),
}


def _strptime_format(java_format: str) -> str:
    """A Java DateTimeFormatter pattern (yyyy-MM-dd, yyyy/MM/dd/HH...) as a strptime format."""
    out: list[str] = []
    position = 0
    while position < len(java_format):
        for pattern, directive in _JAVA_DATE_FIELDS.items():
            if java_format.startswith(pattern, position):
                out.append(directive)
                position += len(pattern)
                break
        else:
            char = java_format[position]
            if char.isalpha():
                raise ValueError(f"date pattern letter {char!r} is not supported locally")
            out.append("%%" if char == "%" else char)
            position += 1
    return "".join(out)


def _add_months(moment: datetime.datetime, months: int) -> datetime.datetime:
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _range_bound(text: str, date_format: str, now: datetime.datetime) -> datetime.datetime:
    """A date projection range bound: a date in the format, NOW, or NOW[+-]<n><UNIT>S."""
    bound = text.strip()
    if not bound.upper().startswith("NOW"):
        return datetime.datetime.strptime(bound, date_format).replace(tzinfo=datetime.UTC)
    offset = bound[3:].strip().upper()
    if not offset:
        return now
    sign = -1 if offset[0] == "-" else 1
    amount_text = "".join(c for c in offset[1:] if c.isdigit())
    unit = "".join(c for c in offset[1:] if c.isalpha()).removesuffix("S")
    amount = sign * int(amount_text or "0")
    if unit == "YEAR":
        return _add_months(now, 12 * amount)
    if unit == "MONTH":
        return _add_months(now, amount)
    if unit not in _RELATIVE_UNITS:
        raise ValueError(f"range bound {text!r} is not understood")
    return now + amount * _RELATIVE_UNITS[unit]


@dataclass(frozen=True)
class _Projection:
    """Partition projection of one column: is a value one of the projected partitions?"""

    column: str
    kind: str
    parameters: Mapping[str, str]

    def accepts(self, value: str, now: datetime.datetime) -> bool:  # noqa: PLR0911
        p = self.parameters
        if self.kind == "enum":
            return value in [v.strip() for v in p.get("values", "").split(",")]
        if self.kind == "integer":
            if not value.lstrip("-").isdigit():
                return False
            low, _, high = p.get("range", "").partition(",")
            return not low or int(low) <= int(value) <= int(high)
        if self.kind == "date":
            date_format = _strptime_format(p.get("format", "yyyy-MM-dd"))
            try:
                moment = datetime.datetime.strptime(value, date_format).replace(tzinfo=datetime.UTC)
            except ValueError:
                return False
            low, _, high = p.get("range", "").partition(",")
            if not low:
                return True
            return (
                _range_bound(low, date_format, now)
                <= moment
                <= _range_bound(high, date_format, now)
            )
        return True  # injected: any value the query gives


def _template_matcher(
    template: str, columns: Sequence[str]
) -> Callable[[str], dict[str, str] | None]:
    """Matches an object URI against storage.location.template (``.../dt=${dt}/``)."""
    pattern = "^"
    rest = template if template.endswith("/") else template + "/"
    while "${" in rest:
        literal, _, after = rest.partition("${")
        name, _, rest = after.partition("}")
        pattern += re.escape(literal) + f"(?P<p{columns.index(name.lower())}>[^/]+)"
    pattern += re.escape(rest)
    compiled = re.compile(pattern)

    def match(uri: str) -> dict[str, str] | None:
        found = compiled.match(uri)
        if found is None:
            return None
        return {columns[int(group[1:])]: value for group, value in found.groupdict().items()}

    return match


def _s3_uri(location: str) -> str:
    for scheme in ("s3a://", "s3n://"):
        if location.startswith(scheme):
            location = "s3://" + location[len(scheme) :]
    return location if location.endswith("/") else location + "/"


def _split_uri(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def _visible(key: str) -> bool:
    name = key.rsplit("/", 1)[-1]
    return bool(name) and not name.startswith(_HIDDEN_PREFIXES) and not key.endswith("$folder$")


def _local_name(index: int, key: str) -> str:
    name = key.rsplit("/", 1)[-1]
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
    return f"{index:06d}-{safe}"


def _sql_char(char: str) -> str:
    """A one-character option (delimiter, quote...) as a DuckDB constant expression."""
    if not char:
        return "''"
    return quote_literal(char) if char.isprintable() else f"chr({ord(char)})"


def _lower_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k).lower(): _lower_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_lower_keys(v) for v in value]
    return value


# ---------------------------------------------------------------------------------- the engine
@dataclass
class _Query:
    sql: str
    database: str | None
    first_keyword: str = ""
    refs: list[_TableRef] = field(default_factory=list)


class AthenaOnDuckDB:
    """Runs Athena (Trino) statements on DuckDB against the Glue catalog and S3 of moto.

    ``database_path`` is the DuckDB file holding the Iceberg tables; ``glue`` and ``s3`` are
    boto3 clients (moto's); external tables' objects are copied under ``data_dir`` (default:
    ``athena-data`` beside the database file) at each query that reads them.
    """

    def __init__(
        self,
        database_path: str | Path,
        glue: "GlueClient",
        s3: "S3Client",
        data_dir: Path | None = None,
    ) -> None:
        self.database_path = Path(database_path)
        self.data_dir = data_dir or self.database_path.parent / "athena-data"
        self._glue = glue
        self._s3 = s3
        self._lock = threading.RLock()
        self._connection: duckdb.DuckDBPyConnection | None = None
        self.statements: list[str] = []  # every statement run on DuckDB, in order
        self.maintenance: list[MaintenanceRun] = []
        self.now: Callable[[], datetime.datetime] = lambda: datetime.datetime.now(datetime.UTC)

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        if self._connection is None:
            self.database_path.parent.mkdir(parents=True, exist_ok=True)
            connection = duckdb.connect()
            connection.execute(
                f"ATTACH {quote_literal(str(self.database_path))} AS {quote_identifier(CATALOG)}"
            )
            connection.execute("SET TimeZone = 'UTC'")  # Athena's session time zone
            connection.execute(f"USE {quote_identifier(CATALOG)}")
            self._connection = connection
        return self._connection

    # ------------------------------------------------------------------ public API
    def execute(
        self, sql: str, database: str | None = None, parameters: Sequence[str] | None = None
    ) -> QueryOutcome:
        """Runs one statement; ``database`` is QueryExecutionContext.Database."""
        query = _Query(sql=sql, database=database.lower() if database else None)
        started = time.monotonic()
        with self._lock:
            try:
                outcome = self._execute(query, parameters)
            except AthenaQueryError as failure:
                outcome = QueryOutcome(
                    state="FAILED",
                    statement_type=_statement_type(query.first_keyword),
                    error=failure.error,
                )
            except (duckdb.Error, ClientError, OSError) as error:
                outcome = QueryOutcome(
                    state="FAILED",
                    statement_type=_statement_type(query.first_keyword),
                    error=_failure(error).error,
                    duckdb_sql=self.statements[-1] if self.statements else None,
                )
        elapsed = int((time.monotonic() - started) * 1000)
        return dataclasses.replace(outcome, engine_ms=elapsed)

    def table_rows(self, database: str, table: str) -> list[tuple[Any, ...]]:
        """Every row of a lake table as DuckDB returns it (for tests and the demo's report)."""
        with self._lock:
            cursor = self.connection.execute(
                f"SELECT * FROM {quote_identifier(CATALOG)}.{quote_identifier(database)}"
                f".{quote_identifier(table)}"
            )
            return cursor.fetchall()

    # ------------------------------------------------------------------ statements
    def _execute(self, query: _Query, parameters: Sequence[str] | None) -> QueryOutcome:
        keyword, rest_at = _first_keyword(query.sql)
        query.first_keyword = keyword
        if keyword in ("OPTIMIZE", "VACUUM"):
            return self._maintain(query, _parse_maintenance(keyword, query.sql[rest_at:]))
        if keyword == "ALTER":
            return self._alter(query)
        try:
            trees = [t for t in sqlglot.parse(query.sql, read="trino") if t is not None]
        except ParseError as error:
            raise _parse_error(error) from error
        except TokenError as error:
            raise AthenaQueryError("SYNTAX_ERROR", str(error)) from error
        if len(trees) != 1:
            raise AthenaQueryError(
                "INVALID_INPUT", f"Only one sql statement is allowed. Got: {query.sql.strip()}"
            )
        tree = trees[0]
        if parameters:
            tree = _bind_parameters(tree, parameters)
        elif any(True for _ in tree.find_all(exp.Placeholder)):
            raise AthenaQueryError(
                "INVALID_PARAMETER_USAGE", "the query has ? parameters but no ExecutionParameters"
            )
        if isinstance(tree, exp.Query | exp.Values):
            return self._run(query, tree, returns_rows=True)
        if isinstance(tree, exp.Insert | exp.Merge | exp.Update | exp.Delete):
            return self._run(query, tree, returns_rows=False)
        raise AthenaQueryError(
            "NOT_SUPPORTED",
            f"{keyword} statements are not supported by the local Athena stand-in "
            "(SELECT, WITH, INSERT, MERGE, UPDATE, DELETE, ALTER TABLE ADD COLUMNS, OPTIMIZE, "
            "VACUUM are)",
        )

    def _run(self, query: _Query, tree: exp.Expr, *, returns_rows: bool) -> QueryOutcome:
        tables = self._prepare(query, tree)
        if not returns_rows:
            self._check_writable(query, tree, tables)
        sql = trino_to_duckdb(tree)
        self._use(query.database)
        self.statements.append(sql)
        cursor = self.connection.execute(sql)
        description = cursor.description or []
        rows = cursor.fetchall()  # fetched in full before anything else runs
        if not returns_rows:
            count = int(rows[0][0]) if rows and rows[0] and rows[0][0] is not None else 0
            return QueryOutcome("SUCCEEDED", "DML", update_count=count, duckdb_sql=sql)
        types = [column[1] for column in description]
        columns = tuple(_column_info(str(c[0]), t) for c, t in zip(description, types, strict=True))
        formatted = tuple(
            tuple(athena_text(value, t) for value, t in zip(row, types, strict=True))
            for row in rows
        )
        return QueryOutcome("SUCCEEDED", "DML", columns=columns, rows=formatted, duckdb_sql=sql)

    def _check_writable(
        self, query: _Query, tree: exp.Expr, tables: Mapping[tuple[str, str], CatalogTable]
    ) -> None:
        target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        if not isinstance(target, exp.Table):
            return
        table = tables.get(
            ((target.db or query.database or DEFAULT_DATABASE).lower(), target.name.lower())
        )
        if table is None or table.is_iceberg:
            return
        if isinstance(tree, exp.Insert):
            raise AthenaQueryError(
                "NOT_SUPPORTED",
                f"INSERT into the external table {table.database}.{table.name} is not supported by "
                "the local Athena stand-in (only Iceberg tables are written locally)",
            )
        raise AthenaQueryError(
            "NOT_SUPPORTED", "Modifying Hive table rows is only supported for transactional tables"
        )

    def _maintain(self, query: _Query, maintenance: _Maintenance) -> QueryOutcome:
        ref = self._ref(query, maintenance.table)
        table = self._catalog(ref.database).get(ref.name)
        if table is None:
            raise AthenaQueryError("TABLE_NOT_FOUND", f"Table '{ref.athena_name}' does not exist")
        if not table.is_iceberg:
            raise AthenaQueryError(
                "NOT_SUPPORTED",
                f"{maintenance.keyword} is only supported for Iceberg tables "
                f"({ref.athena_name} is not one)",
            )
        self._materialise_iceberg(table)
        self.maintenance.append(
            MaintenanceRun(maintenance.keyword, table.database, table.name, query.sql)
        )
        return QueryOutcome("SUCCEEDED", "DML", update_count=0)

    def _alter(self, query: _Query) -> QueryOutcome:
        try:
            tree = sqlglot.parse_one(query.sql, read="hive")
        except (ParseError, TokenError) as error:
            raise AthenaQueryError("SYNTAX_ERROR", str(error).splitlines()[0]) from error
        actions = (tree.args.get("actions") or []) if isinstance(tree, exp.Alter) else []
        added = [
            definition
            for action in actions
            if isinstance(action, exp.Schema)
            for definition in action.expressions
            if isinstance(definition, exp.ColumnDef)
        ]
        if (
            not isinstance(tree, exp.Alter)
            or not isinstance(tree.this, exp.Table)
            or not added
            or (len(actions) != 1)
        ):
            raise AthenaQueryError(
                "NOT_SUPPORTED",
                "only ALTER TABLE <table> ADD COLUMNS (<name> <type>, ...) is supported by the "
                "local Athena stand-in",
            )
        ref = self._ref(query, tree.this)
        table = self._catalog(ref.database).get(ref.name)
        if table is None:
            raise AthenaQueryError("TABLE_NOT_FOUND", f"Table '{ref.athena_name}' does not exist")
        existing = {name for name, _ in (*table.columns, *table.partition_keys)}
        new_columns: list[tuple[str, GlueType]] = []
        for definition in added:
            name = definition.name.lower()
            if name in existing or name in dict(new_columns):
                raise AthenaQueryError("COLUMN_ALREADY_EXISTS", f"Column '{name}' already exists")
            try:
                new_columns.append((name, glue_type_from_sqlglot(definition.args["kind"])))
            except GlueTypeError as error:
                raise AthenaQueryError("NOT_SUPPORTED", f"column {name!r}: {error}") from error
        self._add_glue_columns(table, new_columns)
        if table.is_iceberg:  # external tables read the Glue columns at every query
            self._materialise_iceberg(self._catalog(ref.database)[ref.name])
        return QueryOutcome("SUCCEEDED", "DDL")

    def _add_glue_columns(
        self, table: CatalogTable, columns: Sequence[tuple[str, GlueType]]
    ) -> None:
        """What Athena does to the catalog for ADD COLUMNS: the new columns, at the end."""
        current: Any = self._glue.get_table(DatabaseName=table.database, Name=table.name)["Table"]
        writable = (
            "Name",
            "Description",
            "Owner",
            "LastAccessTime",
            "LastAnalyzedTime",
            "Retention",
            "StorageDescriptor",
            "PartitionKeys",
            "ViewOriginalText",
            "ViewExpandedText",
            "TableType",
            "Parameters",
            "TargetTable",
        )
        table_input: Any = {key: current[key] for key in writable if key in current}
        storage = dict(table_input.get("StorageDescriptor") or {})
        storage["Columns"] = [
            *(storage.get("Columns") or []),
            *({"Name": name, "Type": glue_type.glue()} for name, glue_type in columns),
        ]
        table_input["StorageDescriptor"] = storage
        self._glue.update_table(DatabaseName=table.database, TableInput=table_input)

    # ------------------------------------------------------------------ catalog → DuckDB
    def _ref(self, query: _Query, table: exp.Table) -> _TableRef:
        line, column = _position(query.sql, _table_offset(table))
        if table.catalog and table.catalog.lower() != CATALOG:
            raise AthenaQueryError(
                "CATALOG_NOT_FOUND",
                f"line {line}:{column}: Catalog '{table.catalog}' does not exist",
            )
        database = (table.db or query.database or DEFAULT_DATABASE).lower()
        return _TableRef(database, table.name.lower(), line, column)

    def _catalog(self, database: str) -> dict[str, CatalogTable]:
        """The Glue tables of a database (SCHEMA_NOT_FOUND if there is no such database)."""
        try:
            self._glue.get_database(Name=database)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "EntityNotFoundException":
                raise AthenaQueryError(
                    "SCHEMA_NOT_FOUND", f"Schema '{database}' does not exist"
                ) from error
            raise
        tables: dict[str, CatalogTable] = {}
        for page in self._glue.get_paginator("get_tables").paginate(DatabaseName=database):
            for glue_table in page["TableList"]:
                table = CatalogTable.from_glue(glue_table)
                tables[table.name] = table
        return tables

    def _prepare(self, query: _Query, tree: exp.Expr) -> dict[tuple[str, str], CatalogTable]:
        """Materialises what the statement reads or writes; fails on an unknown table."""
        cte_names = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
        refs = [
            self._ref(query, table)
            for table in tree.find_all(exp.Table)
            if table.name and not (not table.db and table.name.lower() in cte_names)
        ]
        query.refs = refs
        databases = {ref.database for ref in refs}
        catalogs: dict[str, dict[str, CatalogTable]] = {}
        for ref in sorted(refs, key=lambda r: (r.line, r.column)):
            if ref.database not in catalogs:
                try:
                    catalogs[ref.database] = self._catalog(ref.database)
                except AthenaQueryError as error:
                    raise AthenaQueryError(
                        "SCHEMA_NOT_FOUND",
                        f"line {ref.line}:{ref.column}: Schema '{ref.database}' does not exist",
                    ) from error
            if ref.name not in catalogs[ref.database]:
                raise AthenaQueryError(
                    "TABLE_NOT_FOUND",
                    f"line {ref.line}:{ref.column}: Table '{ref.athena_name}' does not exist",
                )
        if query.database and query.database not in catalogs:
            with contextlib.suppress(AthenaQueryError):  # only needed for unqualified names
                catalogs[query.database] = self._catalog(query.database)
                databases.add(query.database)
        for database in databases:
            self._ensure_schema(database)
            for table in catalogs[database].values():
                if table.is_iceberg and not table.problem:
                    self._materialise_iceberg(table)
        used: dict[tuple[str, str], CatalogTable] = {}
        for ref in refs:
            table = catalogs[ref.database][ref.name]
            if table.problem:
                raise AthenaQueryError("NOT_SUPPORTED", f"table {ref.athena_name}: {table.problem}")
            if not table.is_iceberg and (ref.database, ref.name) not in used:
                self._refresh_external(table)
            used[(ref.database, ref.name)] = table
        return used

    def _use(self, database: str | None) -> None:
        schema = database if database and self._schema_exists(database) else "main"
        self.connection.execute(f"USE {quote_identifier(CATALOG)}.{quote_identifier(schema)}")

    def _schema_exists(self, database: str) -> bool:
        rows = self.connection.execute(
            "SELECT 1 FROM duckdb_schemas() WHERE database_name = $catalog "
            "AND schema_name = $schema",
            {"catalog": CATALOG, "schema": database},
        ).fetchall()
        return bool(rows)

    def _ensure_schema(self, database: str) -> None:
        self.connection.execute(
            f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(CATALOG)}.{quote_identifier(database)}"
        )

    def _existing(self, table: CatalogTable) -> tuple[str | None, list[str]]:
        """("table" | "view" | None, its column names) of the DuckDB object for a Glue table."""
        names = {"catalog": CATALOG, "schema": table.database, "table": table.name}
        kinds = self.connection.execute(
            "SELECT 'table' FROM duckdb_tables() WHERE database_name = $catalog AND "
            "schema_name = $schema AND table_name = $table UNION ALL SELECT 'view' FROM "
            "duckdb_views() WHERE database_name = $catalog AND schema_name = $schema AND "
            "view_name = $table",
            names,
        ).fetchall()
        columns = self.connection.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = $catalog AND "
            "schema_name = $schema AND table_name = $table ORDER BY column_index",
            names,
        ).fetchall()
        return (str(kinds[0][0]) if kinds else None), [str(c[0]).lower() for c in columns]

    def _materialise_iceberg(self, table: CatalogTable) -> None:
        """The DuckDB table of an Iceberg table: created once, then given new Glue columns."""
        self._ensure_schema(table.database)
        wanted = [*table.columns, *table.partition_keys]
        kind, existing = self._existing(table)
        if kind == "view":
            self._statement(f"DROP VIEW {table.qualified}")
            kind = None
        if kind is None:
            columns = ", ".join(f"{quote_identifier(n)} {t.duckdb()}" for n, t in wanted)
            self._statement(f"CREATE TABLE IF NOT EXISTS {table.qualified} ({columns})")
            return
        for name, glue_type in wanted:
            if name not in existing:
                self._statement(
                    f"ALTER TABLE {table.qualified} ADD COLUMN {quote_identifier(name)} "
                    f"{glue_type.duckdb()}"
                )

    def _statement(self, sql: str) -> None:
        self.statements.append(sql)
        cursor = self.connection.execute(sql)
        if cursor.description:
            cursor.fetchall()

    # ------------------------------------------------------------------ external tables
    def _refresh_external(self, table: CatalogTable) -> None:
        """(Re)creates the view of an external table over fresh copies of its objects."""
        directory = self.data_dir / table.database / table.name
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True, exist_ok=True)
        groups: dict[tuple[str | None, ...], list[Path]] = {}
        for index, (uri, values) in enumerate(self._table_objects(table)):
            local = directory / _local_name(index, uri)
            self._download(table, uri, local)
            groups.setdefault(values, []).append(local)
        kind, _ = self._existing(table)
        if kind == "table":
            self._statement(f"DROP TABLE {table.qualified}")
        select = _external_select(
            table, sorted(groups.items(), key=lambda g: [v or "" for v in g[0]])
        )
        self._statement(f"CREATE OR REPLACE VIEW {table.qualified} AS {select}")

    def _download(self, table: CatalogTable, uri: str, local: Path) -> None:
        bucket, key = _split_uri(uri)
        body = self._s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        if table.format != "json":
            local.write_bytes(body)
            return
        if key.endswith(".gz"):
            body = gzip.decompress(body)
        local.write_text(_normalised_json_lines(table, body.decode("utf-8"), uri))

    def _list(self, prefix_uri: str) -> Iterator[str]:
        bucket, prefix = _split_uri(prefix_uri)
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                key = item["Key"]
                if item.get("Size", 0) > 0 and _visible(key):
                    yield f"s3://{bucket}/{key}"

    def _table_objects(self, table: CatalogTable) -> Iterator[tuple[str, tuple[str | None, ...]]]:
        """Each object the table reads, with its partition values (in partition key order)."""
        if not table.location.startswith(("s3://", "s3a://", "s3n://")):
            raise AthenaQueryError(
                "NOT_SUPPORTED", f"table {table.database}.{table.name} has no s3:// location"
            )
        location = _s3_uri(table.location)
        keys = [name for name, _ in table.partition_keys]
        if not keys:
            for uri in self._list(location):
                yield uri, ()
            return
        if table.parameters.get("projection.enabled", "").lower() == "true":
            yield from self._projected_objects(table, location, keys)
            return
        for partition in self._glue_partitions(table):
            values = tuple(None if v == _HIVE_NULL_PARTITION else v for v in partition["Values"])
            part_location = (partition.get("StorageDescriptor") or {}).get("Location")
            prefix = (
                _s3_uri(part_location)
                if part_location
                else location
                + "/".join(f"{k}={v}" for k, v in zip(keys, partition["Values"], strict=False))
                + "/"
            )
            for uri in self._list(prefix):
                yield uri, values

    def _glue_partitions(self, table: CatalogTable) -> Iterator[Mapping[str, Any]]:
        paginator = self._glue.get_paginator("get_partitions")
        for page in paginator.paginate(DatabaseName=table.database, TableName=table.name):
            yield from page["Partitions"]

    def _projected_objects(
        self, table: CatalogTable, location: str, keys: Sequence[str]
    ) -> Iterator[tuple[str, tuple[str | None, ...]]]:
        template = _s3_uri(
            table.parameters.get("storage.location.template")
            or location + "/".join(f"{k}=${{{k}}}" for k in keys)
        )
        try:
            match = _template_matcher(template, keys)
            projections = [
                _Projection(
                    column=key,
                    kind=table.parameters.get(f"projection.{key}.type", "injected").lower(),
                    parameters={
                        name.removeprefix(f"projection.{key}.").lower(): value
                        for name, value in table.parameters.items()
                        if name.startswith(f"projection.{key}.")
                    },
                )
                for key in keys
            ]
        except ValueError as error:  # a ${name} that is not a partition key
            raise AthenaQueryError(
                "HIVE_INVALID_METADATA",
                f"partition projection of {table.database}.{table.name}: {error}",
            ) from error
        now = self.now()
        for uri in self._list(template.partition("${")[0]):
            found = match(uri)
            if found is None or len(found) != len(keys):
                continue
            try:
                if all(p.accepts(found[p.column], now) for p in projections):
                    yield uri, tuple(found[key] for key in keys)
            except ValueError as error:
                raise AthenaQueryError(
                    "HIVE_INVALID_METADATA",
                    f"partition projection of {table.database}.{table.name}: {error}",
                ) from error


def _normalised_json_lines(table: CatalogTable, text: str, uri: str) -> str:
    """JSON lines as the OpenX SerDe reads them: keys case-insensitive, ``mapping.*`` applied."""
    mapping = {
        json_key.lower(): name.removeprefix("mapping.").lower()
        for name, json_key in table.serde_parameters.items()
        if name.startswith("mapping.")
    }
    ignore = table.serde_parameters.get("ignore.malformed.json", "").lower() == "true"
    lines: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError("not a JSON object")
        except ValueError as error:
            if ignore:
                lines.append("{}")
                continue
            raise AthenaQueryError(
                "HIVE_BAD_DATA",
                f"Error parsing field value of {uri} line {number}: {error}",
                error_type=1001,
            ) from error
        lowered = _lower_keys(record)
        lines.append(json.dumps({mapping.get(k, k): v for k, v in lowered.items()}))
    return "".join(line + "\n" for line in lines)


def _csv_source(table: CatalogTable, files: Sequence[Path]) -> str:
    serde = table.serde_parameters
    skip = int(table.parameters.get("skip.header.line.count", "0") or 0)
    if table.format == "opencsv":
        delimiter = serde.get("separatorChar", ",")
        quote = serde.get("quoteChar", '"')
        escape = serde.get("escapeChar", quote)
        null = "chr(0)"  # OpenCSVSerde has no NULL text: an empty field is ''
    else:
        delimiter = serde.get("field.delim") or serde.get("serialization.format") or "\x01"
        quote = ""  # LazySimpleSerDe does not quote
        escape = serde.get("escape.delim", "")
        null = quote_literal(serde.get("serialization.null.format", "\\N"))
    columns = ", ".join(f"{quote_literal(f'c{i}')}: 'VARCHAR'" for i in range(len(table.columns)))
    paths = ", ".join(quote_literal(str(path)) for path in files)
    return (
        f"read_csv([{paths}], header = false, skip = {skip}, auto_detect = false, "
        f"delim = {_sql_char(delimiter)}, quote = {_sql_char(quote)}, "
        f"escape = {_sql_char(escape)}, nullstr = {null}, columns = {{{columns}}}, "
        "null_padding = true, strict_mode = false, parallel = false)"
    )


def _external_select(
    table: CatalogTable, groups: Sequence[tuple[tuple[str | None, ...], list[Path]]]
) -> str:
    """The view's SELECT: one branch per partition, or typed NULLs and no rows when empty."""
    selects: list[str] = []
    for values, files in groups:
        fields: list[str] = []
        if table.format in ("opencsv", "lazy"):
            source = _csv_source(table, files)
            cast = "CAST" if table.format == "opencsv" else "TRY_CAST"
            for index, (name, glue_type) in enumerate(table.columns):
                raw = quote_identifier(f"c{index}")
                value = (
                    raw
                    if glue_type.is_string
                    else (f"{cast}(NULLIF({raw}, '') AS {glue_type.duckdb()})")
                )
                fields.append(f"{value} AS {quote_identifier(name)}")
        elif table.format == "json":
            columns = ", ".join(
                f"{quote_literal(name)}: {quote_literal(glue_type.duckdb())}"
                for name, glue_type in table.columns
            )
            paths = ", ".join(quote_literal(str(path)) for path in files)
            source = f"read_json([{paths}], format = 'newline_delimited', columns = {{{columns}}})"
            fields = [quote_identifier(name) for name, _ in table.columns]
        else:  # parquet
            paths = ", ".join(quote_literal(str(path)) for path in files)
            source = f"read_parquet([{paths}], union_by_name = true)"
            fields = [
                f"CAST({column} AS {glue_type.duckdb()}) AS {column}"
                for column, glue_type in ((quote_identifier(n), t) for n, t in table.columns)
            ]
        for (name, glue_type), partition in zip(table.partition_keys, values, strict=True):
            literal = "NULL" if partition is None else quote_literal(partition)
            fields.append(f"CAST({literal} AS {glue_type.duckdb()}) AS {quote_identifier(name)}")
        selects.append(f"SELECT {', '.join(fields)} FROM {source}")
    if selects:
        return " UNION ALL ".join(selects)
    empty = ", ".join(
        f"CAST(NULL AS {glue_type.duckdb()}) AS {quote_identifier(name)}"
        for name, glue_type in (*table.columns, *table.partition_keys)
    )
    return f"SELECT {empty} WHERE false"


def _failure(error: Exception) -> AthenaQueryError:
    """A DuckDB (or S3/Glue) error under the Athena (Trino) error name closest to it."""
    if isinstance(error, ClientError):
        failed = error.response.get("Error", {})
        code = (
            "HIVE_FILESYSTEM_ERROR"
            if error.operation_name in _S3_OPERATIONS
            else ("HIVE_METASTORE_ERROR")
        )
        return AthenaQueryError(
            code,
            f"{error.operation_name}: {failed.get('Code')}: {failed.get('Message')}",
            category=SYSTEM_ERROR,
            error_type=INTERNAL_ERROR_TYPE,
        )
    message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    lowered = message.lower()
    if isinstance(error, duckdb.TransactionException):
        # A write-write conflict: what an Iceberg commit conflict is on Athena.
        return AthenaQueryError(
            "ICEBERG_COMMIT_ERROR",
            message,
            category=SYSTEM_ERROR,
            error_type=ICEBERG_ERROR_TYPE,
            retryable=True,
        )
    if "merge into command cannot affect the same target row" in lowered:
        return AthenaQueryError(
            "MERGE_TARGET_ROW_MULTIPLE_MATCHES",
            "One MERGE target table row matched more than one source row",
        )
    if isinstance(error, duckdb.ParserException):
        code = "SYNTAX_ERROR"
    elif isinstance(error, duckdb.CatalogException):
        code = "FUNCTION_NOT_FOUND" if "function" in lowered else "TABLE_NOT_FOUND"
    elif isinstance(error, duckdb.BinderException):
        code = "COLUMN_NOT_FOUND" if "column" in lowered else "TYPE_MISMATCH"
    elif isinstance(error, duckdb.ConversionException):
        code = "INVALID_CAST_ARGUMENT"
    elif isinstance(error, duckdb.OutOfRangeException):
        code = "NUMERIC_VALUE_OUT_OF_RANGE"
    elif isinstance(error, duckdb.ConstraintException):
        code = "CONSTRAINT_VIOLATION"
    elif isinstance(error, duckdb.InvalidInputException):
        code = "INVALID_FUNCTION_ARGUMENT"
    else:
        return AthenaQueryError(
            "GENERIC_INTERNAL_ERROR",
            message,
            category=SYSTEM_ERROR,
            error_type=INTERNAL_ERROR_TYPE,
        )
    return AthenaQueryError(code, message)
