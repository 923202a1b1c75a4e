# ruff: noqa: S608 - this module builds SQL: every name goes through quote_identifier and no
# data value is ever interpolated (the only literals are the operation codes, a table property,
# and the value grammar's patterns and bounds).
"""Spark SQL for applying one table's DMS files to its Iceberg table: pure functions of a TableSpec.

Every name is a quoted identifier (backticks, a backtick doubled) and no data value is ever put in
a statement: the only literals are the operation codes, the Iceberg format version, and the
patterns and bounds of the value grammar. The local runtime and the tests run the very same
statements on DuckDB (transpiled by sqlglot), so everything here stays in the part of Spark SQL
that both engines share, with the same results (the engine tier runs both and compares).

Staging views (registered by the engine from the files, one row per file row) have the columns
``_cdc_op`` ('I', 'U' or 'D'; full-load rows are 'I'), ``_cdc_seq`` (the DMS sequence column as
read; NULL for full-load rows), ``_cdc_file_order`` (the file's position in landing order),
``_cdc_row_in_file`` (the row's position in its file) and the table's columns, as strings for CSV
files. The statements check CSV text against its type's grammar (invalid_values_sql), then cast
it to the configured types.
"""

from collections.abc import Sequence
from typing import Final

from .table_spec import (
    DELETE_OP,
    FILE_ORDER_COLUMN,
    HISTORY_OP_COLUMN,
    IN_TARGET_COLUMN,
    INSERT_OP,
    OP_COLUMN,
    RANK_COLUMN,
    ROW_IN_FILE_COLUMN,
    SEQ_COLUMN,
    UPDATE_OP,
    TableSpec,
    quote_identifier,
    sql_type,
    validate_catalog,
)

# --- statements ---------------------------------------------------------------------------------


def target_name(spec: TableSpec, catalog: str) -> str:
    return ".".join(
        quote_identifier(part)
        for part in (validate_catalog(catalog), spec.target_database, spec.target_table)
    )


def _columns_list(names: Sequence[str], prefix: str = "") -> str:
    return ", ".join(prefix + quote_identifier(name) for name in names)


def _target_columns(spec: TableSpec) -> list[tuple[str, str]]:
    """(name, SQL type) of the target table's columns."""
    columns = [(column.name, sql_type(column.type)) for column in spec.columns]
    if spec.mode == "history":
        columns += [
            (HISTORY_OP_COLUMN, "STRING"),
            (spec.sequence_column, sql_type(spec.sequence_type)),
        ]
    return columns


def _table_clauses(spec: TableSpec) -> str:
    clauses = " USING iceberg"
    if spec.partition_by:
        clauses += f" PARTITIONED BY ({_columns_list(spec.partition_by)})"
    return clauses + " TBLPROPERTIES ('format-version' = '2')"


def create_namespace_sql(spec: TableSpec, catalog: str) -> str:
    database = (
        quote_identifier(validate_catalog(catalog)) + "." + quote_identifier(spec.target_database)
    )
    return f"CREATE SCHEMA IF NOT EXISTS {database}"


def create_table_sql(spec: TableSpec, catalog: str) -> str:
    """The empty target table, for tables whose first files are CDC files."""
    definitions = ", ".join(
        f"{quote_identifier(name)} {column_type}" for name, column_type in _target_columns(spec)
    )
    return (
        f"CREATE TABLE IF NOT EXISTS {target_name(spec, catalog)} ({definitions})"
        f"{_table_clauses(spec)}"
    )


def typed_staging_sql(spec: TableSpec, staging_view: str) -> str:
    """The staging rows with every column cast to its configured type."""
    casts = [
        f"CAST({quote_identifier(OP_COLUMN)} AS STRING) AS {quote_identifier(OP_COLUMN)}",
        f"CAST({quote_identifier(SEQ_COLUMN)} AS {sql_type(spec.sequence_type)})"
        f" AS {quote_identifier(SEQ_COLUMN)}",
        quote_identifier(FILE_ORDER_COLUMN),
        quote_identifier(ROW_IN_FILE_COLUMN),
    ]
    casts += [
        f"CAST({quote_identifier(column.name)} AS {sql_type(column.type)})"
        f" AS {quote_identifier(column.name)}"
        for column in spec.columns
    ]
    return f"SELECT {', '.join(casts)} FROM {quote_identifier(staging_view)}"


# --- what a value must look like -----------------------------------------------------------------
# CSV values are text, and Spark's CAST and DuckDB's (TRY_)CAST disagree at the edges: 1.5 into an
# int truncates on one and rounds on the other; 1e3, " true " or 24:00:00 pass on one only. So a
# CSV value must match its type's one grammar in full, then fit the type's range, before it is
# cast. The patterns use what Java regex and RE2 read alike, anchored with \A and \z (Java's $
# also matches before a final newline), written for Spark SQL's string literals (a backslash
# doubled), which sqlglot carries over to DuckDB unchanged.
_YEAR: Final = "(000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})"  # 0001-9999
_DATE: Final = _YEAR + "-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
_TIME: Final = "([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]([.][0-9]{1,6})?"  # micros, as both keep
_PATTERNS: Final = {
    "DOUBLE": "-?[0-9]+([.][0-9]+)?([eE][-+]?[0-9]+)?",
    "BOOLEAN": "(?i:true|false|t|f|1|0)",
    "DATE": _DATE,
    "TIMESTAMP": _DATE + "[ T]" + _TIME,
}
_INTEGER_RANGES: Final = {"INT": 2**31, "BIGINT": 2**63}
_MAX_DOUBLE: Final = "1.7976931348623157E308"
# Rows end in LF. A CR may stand in a value only as part of a quoted CR LF: elsewhere (CR LF row
# ends, a lone CR) DuckDB's reader fails or drops it and Spark's keeps it in the value.
_LONE_CR: Final = "\\\\r([^\\\\n]|\\\\z)"


def _anchored(pattern: str) -> str:
    return "'\\\\A" + pattern + "\\\\z'"


def _decimal_pattern(precision: int, scale: int) -> str:
    """Digits that fit DECIMAL(p,s) exactly: leading zeros and trailing fraction zeros aside,
    at most p-s integer digits and s fraction digits."""
    whole = f"0*[0-9]{{1,{precision - scale}}}" if precision > scale else "0+"
    fraction = f"([.][0-9]{{1,{scale}}}0*)?" if scale else "([.]0+)?"
    return "-?" + whole + fraction


def _fits(column: str, column_type: str) -> str:
    """SQL: the CSV text in ``column`` is a value of the type, exactly (NULL when it is NULL)."""
    kind = sql_type(column_type)
    if kind in _INTEGER_RANGES:
        bound = _INTEGER_RANGES[kind]
        digits = len(str(bound))
        return (
            f"{column} RLIKE {_anchored(f'-?0*[0-9]{{1,{digits}}}')}"
            f" AND CAST({column} AS DECIMAL({digits},0)) BETWEEN -{bound} AND {bound - 1}"
        )
    if kind.startswith("DECIMAL("):
        precision, scale = (int(part) for part in kind[len("DECIMAL(") : -1].split(","))
        return f"{column} RLIKE {_anchored(_decimal_pattern(precision, scale))}"
    pattern = f"{column} RLIKE {_anchored(_PATTERNS[kind])}"
    if kind == "DOUBLE":
        return f"{pattern} AND ABS(CAST({column} AS DOUBLE)) <= {_MAX_DOUBLE}"
    # The pattern bounds each field; the cast refuses days a month does not have.
    return f"{pattern} AND CAST({column} AS {kind}) IS NOT NULL"


def _invalid(spec: TableSpec, name: str, column_type: str) -> str:
    """SQL: the staged value of ``name`` is not a value of its type."""
    column = quote_identifier(name)
    kind = sql_type(column_type)
    if spec.file_format != "csv":  # Parquet values come typed: they must convert
        return f"{column} IS NOT NULL AND CAST({column} AS {kind}) IS NULL"
    if kind == "STRING":
        return f"{column} RLIKE '{_LONE_CR}'"
    return f"{column} IS NOT NULL AND NOT COALESCE({_fits(column, column_type)}, FALSE)"


def invalid_values_sql(spec: TableSpec, staging_view: str) -> str:
    """Per staged file (its ``_cdc_file_order``, in order): how many rows have an unknown
    operation, how many lack a key column, then per column how many values are not values of
    its type (the sequence column first, then the columns; labels: invalid_values_labels).

    Spark's (non-ANSI) CAST turns what it cannot read into NULL and DuckDB's differs from it at
    the edges: counting first turns silent NULLs and engine quirks into a failed table that
    names the file and the columns.
    """
    op = quote_identifier(OP_COLUMN)
    checks = [
        _count_where(f"{op} IS NULL OR {op} NOT IN ('{INSERT_OP}', '{UPDATE_OP}', '{DELETE_OP}')")
    ]
    # A row without its key never matches in a MERGE: it would be inserted again on every run.
    key_missing = " OR ".join(f"{quote_identifier(name)} IS NULL" for name in spec.primary_key)
    checks.append(_count_where(key_missing))
    checks += [_count_where(_invalid(spec, *column)) for column in _checked_columns(spec)]
    order = quote_identifier(FILE_ORDER_COLUMN)
    return (
        f"SELECT {order}, {', '.join(checks)} FROM {quote_identifier(staging_view)}"
        f" GROUP BY {order} ORDER BY {order}"
    )


def _checked_columns(spec: TableSpec) -> list[tuple[str, str]]:
    """The sequence column, then the columns (strings too: a CR only in a CR LF)."""
    return [(SEQ_COLUMN, spec.sequence_type), *((c.name, c.type) for c in spec.columns)]


def invalid_values_labels(spec: TableSpec) -> tuple[str, ...]:
    """What each number of invalid_values_sql counts, in order, after the file order."""
    return (
        "operation",
        "primary key (NULL)",
        *(
            spec.sequence_column if name == SEQ_COLUMN else name
            for name, _ in _checked_columns(spec)
        ),
    )


RAW_LINE_COLUMN: Final = "value"
_QUOTE_CR_AT_END: Final = '"\\\\r\\\\z'


def raw_file_checks_sql(raw_view: str) -> str:
    """Per CSV file (``_cdc_file_order``), from its raw lines (``value``, bytes as read, split
    at LF): how many quote characters it holds, how many lines are not valid UTF-8, and how many
    end in a quote and a CR (``"`` CR LF).

    A file with an odd number of quotes has an unterminated quoted field, which Spark's reader
    silently runs to the end of the file. Spark's reader also turns bytes that are not UTF-8
    into U+FFFD; here they show as a line that does not survive decoding and encoding again.
    And it skips a CR after a closing quote, so CR LF row ends after a quoted field would pass.
    """
    value = quote_identifier(RAW_LINE_COLUMN)
    order = quote_identifier(FILE_ORDER_COLUMN)
    quotes = f"OCTET_LENGTH({value}) - OCTET_LENGTH(REPLACE({value}, '\"', ''))"
    not_utf8 = f"ENCODE({value}, 'UTF-8') <> CAST({value} AS BINARY)"
    quote_cr = f"{value} RLIKE '{_QUOTE_CR_AT_END}'"
    return (
        f"SELECT {order}, COALESCE(SUM({quotes}), 0), {_count_where(not_utf8)},"
        f" {_count_where(quote_cr)} FROM {quote_identifier(raw_view)}"
        f" GROUP BY {order} ORDER BY {order}"
    )


def latest_changes_sql(spec: TableSpec, staging_view: str) -> str:
    """The last change of each primary key: greatest sequence, then later file, then later row.

    Full-load rows have no sequence value and rank before every CDC change of their key.
    """
    order = ", ".join(
        (
            f"{quote_identifier(SEQ_COLUMN)} DESC NULLS LAST",
            f"{quote_identifier(FILE_ORDER_COLUMN)} DESC",
            f"{quote_identifier(ROW_IN_FILE_COLUMN)} DESC",
        )
    )
    selected = _columns_list((OP_COLUMN, SEQ_COLUMN, *spec.column_names))
    return (
        f"SELECT {selected} FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY "
        f"{_columns_list(spec.primary_key)} ORDER BY {order}) AS {quote_identifier(RANK_COLUMN)}"
        f" FROM ({typed_staging_sql(spec, staging_view)}) AS typed) AS ranked"
        f" WHERE {quote_identifier(RANK_COLUMN)} = 1"
    )


def _key_match(spec: TableSpec, left: str, right: str) -> str:
    return " AND ".join(
        f"{left}.{quote_identifier(name)} = {right}.{quote_identifier(name)}"
        for name in spec.primary_key
    )


def _is_delete(alias: str) -> str:
    return f"{alias}.{quote_identifier(OP_COLUMN)} = '{DELETE_OP}'"


def _is_upsert(alias: str) -> str:
    return f"{alias}.{quote_identifier(OP_COLUMN)} <> '{DELETE_OP}'"


def merge_sql(spec: TableSpec, catalog: str, latest_view: str) -> str:
    """Current mode: apply the latest change of each key (delete, update, or insert)."""
    if spec.mode != "current":
        raise ValueError("MERGE is for current-mode tables")
    names = spec.column_names
    non_key = [name for name in names if name not in spec.primary_key]
    statement = (
        f"MERGE INTO {target_name(spec, catalog)} AS t"
        f" USING {quote_identifier(latest_view)} AS s ON {_key_match(spec, 't', 's')}"
        f" WHEN MATCHED AND {_is_delete('s')} THEN DELETE"
    )
    if non_key:  # a table of keys only has nothing to update
        assignments = ", ".join(
            f"{quote_identifier(name)} = s.{quote_identifier(name)}" for name in non_key
        )
        statement += f" WHEN MATCHED THEN UPDATE SET {assignments}"
    return statement + (
        f" WHEN NOT MATCHED AND {_is_upsert('s')}"
        f" THEN INSERT ({_columns_list(names)}) VALUES ({_columns_list(names, 's.')})"
    )


def _count_where(condition: str) -> str:
    return "COALESCE(SUM(CASE WHEN " + condition + " THEN 1 ELSE 0 END), 0)"


def merge_counts_sql(spec: TableSpec, catalog: str, latest_view: str) -> str:
    """(inserted, updated, deleted) that merge_sql will do, computed before running it."""
    keys = _columns_list(spec.primary_key)
    present = f"m.{quote_identifier(spec.primary_key[0])} IS NOT NULL"
    in_target = "c." + quote_identifier(IN_TARGET_COLUMN)
    counts = (
        _count_where(f"{_is_upsert('c')} AND NOT {in_target}"),
        _count_where(f"{_is_upsert('c')} AND {in_target}"),
        _count_where(f"{_is_delete('c')} AND {in_target}"),
    )
    return (
        f"SELECT {', '.join(counts)}"
        f" FROM (SELECT s.{quote_identifier(OP_COLUMN)},"
        f" {present} AS {quote_identifier(IN_TARGET_COLUMN)}"
        f" FROM {quote_identifier(latest_view)} AS s"
        f" LEFT JOIN (SELECT DISTINCT {keys} FROM {target_name(spec, catalog)}) AS m"
        f" ON {_key_match(spec, 's', 'm')}) AS c"
    )


def history_insert_sql(spec: TableSpec, catalog: str, staging_view: str) -> str:
    """History mode: append every change, with its operation and sequence value."""
    if spec.mode != "history":
        raise ValueError("appending changes is for history-mode tables")
    target_columns = (*spec.column_names, HISTORY_OP_COLUMN, spec.sequence_column)
    selected = (*spec.column_names, OP_COLUMN, SEQ_COLUMN)
    return (
        f"INSERT INTO {target_name(spec, catalog)} ({_columns_list(target_columns)})"
        f" SELECT {_columns_list(selected)} FROM ({typed_staging_sql(spec, staging_view)}) AS c"
    )


def history_counts_sql(spec: TableSpec, staging_view: str) -> str:
    """(inserted, updated, deleted): the appended change rows by operation."""
    op = quote_identifier(OP_COLUMN)
    counts = (
        _count_where(f"{op} = '{INSERT_OP}'"),
        _count_where(f"{op} = '{UPDATE_OP}'"),
        _count_where(f"{op} = '{DELETE_OP}'"),
    )
    return f"SELECT {', '.join(counts)} FROM {quote_identifier(staging_view)}"


def replace_table_sql(spec: TableSpec, catalog: str, staging_view: str) -> str:
    """Full load: (re)create the table from the full-load rows, the last row of a key winning."""
    selected = list(spec.column_names)
    if spec.mode == "history":
        selected_sql = _columns_list(selected) + (
            f", {quote_identifier(OP_COLUMN)} AS {quote_identifier(HISTORY_OP_COLUMN)}"
            f", {quote_identifier(SEQ_COLUMN)} AS {quote_identifier(spec.sequence_column)}"
        )
    else:
        selected_sql = _columns_list(selected)
    return (
        f"CREATE OR REPLACE TABLE {target_name(spec, catalog)}{_table_clauses(spec)}"
        f" AS SELECT {selected_sql} FROM ({latest_changes_sql(spec, staging_view)}) AS loaded"
    )


def row_count_sql(spec: TableSpec, catalog: str) -> str:
    return f"SELECT COUNT(*) FROM {target_name(spec, catalog)}"
