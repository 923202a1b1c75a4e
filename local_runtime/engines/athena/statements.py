"""Reading one Athena statement before it runs: its first keyword and statement type, the
OPTIMIZE / VACUUM syntax sqlglot has no parser for, ExecutionParameters, and where in the text
a table is named (for Athena's "line 1:15: Table ... does not exist")."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import sqlglot
from sqlglot import TokenType, exp
from sqlglot.dialects.trino import Trino
from sqlglot.errors import ParseError, TokenError

from local_runtime.engines.athena.catalog import CATALOG
from local_runtime.engines.athena.outcomes import AthenaQueryError

_DDL_KEYWORDS: Final = frozenset({"ALTER", "CREATE", "DESCRIBE", "DROP", "MSCK", "SHOW"})


@dataclass(frozen=True)
class TableRef:
    database: str
    name: str
    line: int
    column: int

    @property
    def athena_name(self) -> str:
        return f"{CATALOG}.{self.database}.{self.name}"


def position(sql: str, offset: int | None) -> tuple[int, int]:
    if offset is None:
        return 1, 1
    line = sql.count("\n", 0, offset) + 1
    return line, offset - (sql.rfind("\n", 0, offset) + 1) + 1


def table_offset(table: exp.Table) -> int | None:
    for part in ("catalog", "db", "this"):
        node = table.args.get(part)
        if isinstance(node, exp.Identifier) and "start" in node.meta:
            return int(node.meta["start"])
    return None


def statement_type(first_keyword: str) -> str:
    if first_keyword in _DDL_KEYWORDS:
        return "DDL"
    if first_keyword in ("EXPLAIN", "DESC"):
        return "UTILITY"
    return "DML"


@dataclass(frozen=True)
class Maintenance:
    keyword: str  # OPTIMIZE | VACUUM
    table: exp.Table


def parse_maintenance(keyword: str, rest: str) -> Maintenance:
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
    return Maintenance(keyword, table)


def first_keyword(sql: str) -> tuple[str, int]:
    """The statement's first keyword (upper case) and where the rest of the text starts."""
    try:
        tokens = Trino().tokenize(sql)
    except TokenError as error:
        raise AthenaQueryError("SYNTAX_ERROR", str(error)) from error
    if not tokens:
        raise AthenaQueryError("SYNTAX_ERROR", "line 1:1: the query is empty")
    first = tokens[0]
    return first.text.upper(), first.end + 1


def parse_error(error: ParseError) -> AthenaQueryError:
    first = error.errors[0] if error.errors else {}
    line, column = first.get("line") or 1, first.get("col") or 1
    description = str(first.get("description") or error).split(". Line")[0]
    return AthenaQueryError("SYNTAX_ERROR", f"line {line}:{column}: {description}")


def bind_parameters(tree: exp.Expr, parameters: Sequence[str]) -> exp.Expr:
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
