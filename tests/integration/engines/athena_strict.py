"""Strict checks for the SQL the project sends to Athena (no Trino or Athena runs here).

- ``parse_statements``: sqlglot's ``trino`` dialect with ``ErrorLevel.RAISE``. A statement
  sqlglot does not know falls back to a generic ``exp.Command`` (anything parses as one), so a
  Command is never counted as parsed: ``check_statement`` matches it against a strict pattern
  of Athena's documented grammar instead (``OPTIMIZE``, ``VACUUM``), or refuses it.
- ``decode_merge``: reads a parsed iceberg_cdc MERGE back into Python values, node by node; a
  node that is not one of the literal shapes the builder writes (a value that became SQL) fails.
- ``ATHENA_MAX_QUERY_BYTES``: StartQueryExecution's QueryString limit, from Athena's service
  quotas (262,144 bytes of UTF-8), written here independently of the function's constant.
"""

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Final

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel

from iceberg_cdc.column_types import ArrayType, ColumnType, MapType, ScalarType, StructType
from iceberg_cdc.conversion import ColumnValue
from iceberg_cdc.sql import TargetTable

ATHENA_MAX_QUERY_BYTES: Final = 262_144

# Trino's reserved keywords (trino.io/docs/current/language/reserved.html; Athena's list of
# keywords to quote in SELECT statements): a column name the engine cannot take bare.
TRINO_RESERVED: Final = frozenset(
    """alter and as between by case cast constraint create cross cube current_catalog
    current_date current_path current_role current_schema current_time current_timestamp
    current_user deallocate delete describe distinct drop else end escape except execute exists
    extract false for from full group grouping having in inner insert intersect into is join
    json_array json_exists json_object json_query json_table json_value left like listagg
    localtime localtimestamp natural normalize not null on or order outer prepare recursive
    right rollup select skip table then trim true uescape union unnest using values when where
    with""".split()  # noqa: SIM905 - the documented list, as written
)

# An Athena identifier: double-quoted ("" inside for a quote) or bare.
_IDENTIFIER: Final = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_]*)'
_TABLE: Final = rf"(?P<table>(?:{_IDENTIFIER}\.)?{_IDENTIFIER})"
# docs.aws.amazon.com/athena/latest/ug/optimize-statement.html and vacuum-statement.html:
#   OPTIMIZE [db_name.]table_name REWRITE DATA USING BIN_PACK [WHERE predicate]
#   VACUUM [database_name.]target_table
# Keywords upper case and single spaces: stricter than Athena, never looser.
ATHENA_GRAMMAR: Final = {
    "OPTIMIZE": re.compile(
        rf"OPTIMIZE {_TABLE} REWRITE DATA USING BIN_PACK(?: WHERE (?P<predicate>.+))?", re.S
    ),
    "VACUUM": re.compile(rf"VACUUM {_TABLE}"),
}


class StrictParseError(AssertionError):
    """The statement does not parse strictly (or only as a generic Command)."""


@dataclass(frozen=True)
class GrammarMatch:
    """A statement sqlglot knows only as a Command, matched against Athena's grammar."""

    keyword: str
    table: tuple[str, ...]
    """Its (database,) table, unquoted."""


def parse_statements(sql: str) -> list[exp.Expr]:
    """Every statement of ``sql``, parsed by sqlglot's trino dialect with ErrorLevel.RAISE."""
    try:
        parsed = sqlglot.parse(sql, read="trino", error_level=ErrorLevel.RAISE)
    except sqlglot.errors.SqlglotError as error:
        raise StrictParseError(f"sqlglot (trino) refuses it: {error}") from None
    statements = [statement for statement in parsed if statement is not None]
    if len(statements) != len(parsed):
        raise StrictParseError("an empty statement (a stray ';')")
    return statements


def parse_one[E: exp.Expr](sql: str, kind: type[E]) -> E:
    """The single statement of ``sql``, which must parse as ``kind`` (never as a Command)."""
    statements = parse_statements(sql)
    if len(statements) != 1:
        raise StrictParseError(f"{len(statements)} statements where one was expected")
    (statement,) = statements
    if isinstance(statement, exp.Command):
        raise StrictParseError(f"sqlglot knows it only as a Command: {sql[:80]!r}")
    if not isinstance(statement, kind):
        raise StrictParseError(f"a {type(statement).__name__}, not a {kind.__name__}")
    return statement


def unquote(identifier: str) -> str:
    if identifier.startswith('"'):
        return identifier[1:-1].replace('""', '"')
    return identifier


def _split_table(text: str) -> tuple[str, ...]:
    parts = re.findall(_IDENTIFIER, text)
    return tuple(unquote(part) for part in parts)


def check_statement(sql: str) -> exp.Expr | GrammarMatch:
    """The parsed statement, or, for one sqlglot knows only as a Command, its match against
    Athena's grammar (a WHERE predicate must then parse strictly on its own)."""
    statements = parse_statements(sql)
    if len(statements) != 1:
        raise StrictParseError(f"{len(statements)} statements where one was expected")
    (statement,) = statements
    if not isinstance(statement, exp.Command):
        return statement
    keyword = sql.split(" ", 1)[0]
    pattern = ATHENA_GRAMMAR.get(keyword)
    match = pattern.fullmatch(sql) if pattern else None
    if match is None:
        raise StrictParseError(f"neither parsed nor of Athena's grammar: {sql[:120]!r}")
    predicate = match.groupdict().get("predicate")
    if predicate is not None:
        parse_one(f"SELECT 1 FROM t WHERE {predicate}", exp.Select)  # noqa: S608 - parsed only
    return GrammarMatch(keyword, _split_table(match.group("table")))


def utf8_size(sql: str) -> int:
    return len(sql.encode("utf-8"))


# ------------------------------------------------------------------------------ MERGE values


def _text(node: exp.Expression) -> str:
    """A text literal as the builder writes it: '...', or pieces joined with || chr(0) ||.
    Iterative: a text of many NULs is a chain of thousands of ||."""
    pieces: list[str] = []
    pending = [node.this if isinstance(node, exp.Paren) else node]
    while pending:
        part = pending.pop()
        match part:
            case exp.Literal(is_string=True):
                pieces.append(str(part.this))
            case exp.DPipe():
                pending.extend([part.expression, part.this])
            case exp.Chr() if [str(code) for code in part.expressions] == ["0"]:
                pieces.append("\x00")
            case _:
                raise StrictParseError(f"{part.sql('trino')[:80]!r} is not a text literal")
    return "".join(pieces)


_SCALAR_READERS: Final = {
    "tinyint": int,
    "smallint": int,
    "int": int,
    "bigint": int,
    "decimal": Decimal,
    "float": float,
    "double": float,
    "date": date.fromisoformat,
    "timestamp": datetime.fromisoformat,
}


def _scalar(node: exp.Expression, column_type: ScalarType) -> ColumnValue:
    if column_type.name == "boolean":
        if not isinstance(node, exp.Boolean):
            raise StrictParseError(f"{node.sql('trino')!r} is not TRUE or FALSE")
        return bool(node.this)
    if column_type.name == "binary":
        if not isinstance(node, exp.FromBase64):
            raise StrictParseError(f"{node.sql('trino')[:80]!r} is not from_base64('...')")
        try:
            return base64.b64decode(_text(node.this), validate=True)
        except binascii.Error as error:
            raise StrictParseError(f"not base64: {error}") from None
    text = _text(node)
    reader = _SCALAR_READERS.get(column_type.name)
    return text if reader is None else reader(text)  # type: ignore[operator]


def decode_value(node: exp.Expression, column_type: ColumnType) -> ColumnValue:
    """The value a literal of the builder's shapes stands for, typed as ``column_type``."""
    if isinstance(node, exp.Null):
        return None
    if isinstance(node, exp.Cast):
        expected = exp.DataType.build(column_type.trino, dialect="trino")
        if node.to != expected:
            raise StrictParseError(f"cast to {node.to.sql('trino')}, not {column_type.trino}")
        return decode_value(node.this, column_type)
    match column_type:
        case ScalarType():
            return _scalar(node, column_type)
        case ArrayType():
            if not isinstance(node, exp.Array):
                raise StrictParseError(f"{node.sql('trino')[:80]!r} is not an ARRAY[...]")
            return [decode_value(item, column_type.element) for item in node.expressions]
        case MapType():
            keys, values = node.args.get("keys"), node.args.get("values")
            if not (isinstance(keys, exp.Array) and isinstance(values, exp.Array)):
                raise StrictParseError(f"{node.sql('trino')[:80]!r} is not MAP(ARRAY, ARRAY)")
            if len(keys.expressions) != len(values.expressions):
                raise StrictParseError("a MAP with more keys than values, or fewer")
            decoded: dict[object, ColumnValue] = {}
            for key, value in zip(keys.expressions, values.expressions, strict=True):
                decoded[decode_value(key, column_type.key)] = decode_value(value, column_type.value)
            return decoded
        case StructType():
            if not isinstance(node, exp.Struct) or len(node.expressions) != len(column_type.fields):
                raise StrictParseError(f"{node.sql('trino')[:80]!r} is not a ROW of the fields")
            return {
                field.name: decode_value(member, field.type)
                for field, member in zip(column_type.fields, node.expressions, strict=True)
            }


@dataclass(frozen=True)
class DecodedRow:
    values: dict[str, ColumnValue]
    operation: str


def _check_shape(merge: exp.Merge, table: TargetTable, op_column: str) -> exp.Values:
    target = merge.this
    if not isinstance(target, exp.Table) or (target.db, target.name) != (
        table.database,
        table.table,
    ):
        raise StrictParseError(f"MERGE INTO {target.sql('trino')}, not {table.reference}")
    values = merge.find(exp.Values)
    select = merge.find(exp.Select)
    if values is None or select is None:
        raise StrictParseError("no SELECT ... FROM (VALUES ...) source")
    names = [column.name for column in table.columns]
    alias = values.args.get("alias")
    declared = [column.name for column in alias.columns] if alias else []
    if declared != [*names, op_column]:
        raise StrictParseError(f"VALUES columns {declared} are not {[*names, op_column]}")
    projected = select.expressions[: len(names)]
    for column, expression in zip(table.columns, projected, strict=True):
        cast = expression.this if isinstance(expression, exp.Alias) else None
        expected = exp.DataType.build(column.type.trino, dialect="trino")
        if (
            not isinstance(cast, exp.Cast)
            or expression.alias != column.name
            or cast.this.name != column.name
            or cast.to != expected
        ):
            raise StrictParseError(f"{expression.sql('trino')!r} does not type {column.name!r}")
    return values


def decode_merge(sql: str, table: TargetTable, op_column: str) -> list[DecodedRow]:
    """The rows of one iceberg_cdc MERGE, parsed strictly and read back into values."""
    merge = parse_one(sql, exp.Merge)
    values = _check_shape(merge, table, op_column)
    rows: list[DecodedRow] = []
    for item in values.expressions:
        members: Sequence[exp.Expression] = item.expressions
        if not isinstance(item, exp.Tuple) or len(members) != len(table.columns) + 1:
            raise StrictParseError(f"a VALUES row of {len(members)} members")
        decoded = {
            column.name: decode_value(member, column.type)
            for column, member in zip(table.columns, members, strict=False)
        }
        rows.append(DecodedRow(decoded, _text(members[-1])))
    return rows
