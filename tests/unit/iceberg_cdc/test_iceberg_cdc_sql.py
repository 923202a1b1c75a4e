from datetime import date, datetime
from decimal import Decimal

import duckdb
import pytest
import sqlglot
from iceberg_cdc_fakes import DEMO_COLUMNS

from iceberg_cdc.column_types import parse_glue_type
from iceberg_cdc.sql import (
    Column,
    MergeBuilder,
    RowChange,
    TargetTable,
    UnsafeIdentifierError,
    add_columns_sql,
    literal,
    op_column_name,
    string_literal,
)


def demo_table(database: str = "db", table: str = "orders") -> TargetTable:
    columns = tuple(Column(name, parse_glue_type(kind)) for name, kind in DEMO_COLUMNS)
    return TargetTable(database, table, columns, ("order_id",))


def evaluate(sql_expression: str) -> object:
    """The value DuckDB computes for a Trino expression (transpiled as the stand-in does)."""
    (query,) = sqlglot.transpile(f"SELECT {sql_expression}", read="trino", write="duckdb")
    row = duckdb.connect().execute(query).fetchone()
    assert row is not None
    return row[0]


@pytest.mark.parametrize(
    "text",
    [
        "'; DROP TABLE orders; --",
        "it''s",
        "back\\slash\\",
        "\\'",
        "line\nbreak\r\n",
        "nul\x00in\x00side",
        "\x00",
        "Ωmega 中文 😀 \u202e",
        "",
    ],
)
def test_string_literals_evaluate_to_the_exact_text(text: str) -> None:
    # Given text with quotes, backslashes, newlines, NUL and unicode
    # When written as a Trino literal and evaluated
    value = evaluate(f"CAST({string_literal(text)} AS varchar)")
    # Then it is the same text
    assert value == text


def test_quotes_are_doubled_and_nul_is_spliced_in() -> None:
    # Given text with a quote and a NUL / Then the literal doubles one and splices the other
    assert string_literal("a'b\x00c") == "('a''b' || chr(0) || 'c')"


@pytest.mark.parametrize(
    ("value", "glue_type", "expected"),
    [
        (Decimal("-0.01"), "decimal(12,2)", "'-0.01'"),
        (Decimal("1E+3"), "decimal(12,2)", "'1000'"),
        (9223372036854775807, "bigint", "'9223372036854775807'"),
        (1.5e300, "double", "'1.5e+300'"),
        (True, "boolean", "TRUE"),
        (date(2026, 11, 20), "date", "'2026-11-20'"),
        (datetime(2026, 11, 20, 10, 15, 30, 5), "timestamp", "'2026-11-20 10:15:30.000005'"),
        (b"\x00\xff", "binary", "from_base64('AP8=')"),
        (["a", None], "array<string>", "ARRAY['a',NULL]"),
        ({"k": "v"}, "map<string,string>", "MAP(ARRAY['k'],ARRAY['v'])"),
        ({"a": 1, "b": None}, "struct<a:bigint,b:string>", "ROW('1',NULL)"),
        (None, "string", "NULL"),
    ],
)
def test_literals_are_text_the_cast_parses_exactly(
    value: object, glue_type: str, expected: str
) -> None:
    # Given a converted value / When written as a literal / Then numbers travel as exact text
    assert literal(value, parse_glue_type(glue_type)) == expected  # type: ignore[arg-type]


def test_one_merge_for_a_batch_with_every_clause() -> None:
    # Given an upsert and a delete of the demo table
    builder = MergeBuilder(demo_table())
    rows = [
        RowChange(("o-1",), {"order_id": "o-1", "status": "placed"}),
        RowChange(("o-2",), {"order_id": "o-2"}, delete=True),
    ]
    # When built
    statements, too_large = builder.statements(rows)
    # Then one MERGE holds both rows, deletes by the op column and types every column
    assert too_large == []
    (statement,) = statements
    assert statement.rows == tuple(rows)
    sql = statement.sql
    assert sql.startswith(
        'MERGE INTO "db"."orders" AS t\nUSING (SELECT CAST("order_id" AS varchar)'
    )
    assert 'CAST("amount" AS decimal(12,2)) AS "amount"' in sql
    assert 'CAST("updated_at" AS timestamp(6)) AS "updated_at"' in sql
    assert 'ON t."order_id" = s."order_id"' in sql
    assert "WHEN MATCHED AND s.\"__cdc_op\" = 'delete' THEN DELETE" in sql
    assert 'WHEN MATCHED THEN UPDATE SET "customer_id" = s."customer_id"' in sql
    assert "WHEN NOT MATCHED AND s.\"__cdc_op\" <> 'delete' THEN INSERT" in sql
    assert (
        "('o-2',NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,'delete')" in sql
    )
    for dialect in ("trino", "athena"):
        assert isinstance(sqlglot.parse_one(sql, read=dialect), sqlglot.exp.Merge)


def test_only_values_holding_rows_carry_their_own_cast() -> None:
    # Given an upsert with a struct, a map and an array
    builder = MergeBuilder(demo_table())
    row = RowChange(
        ("o-1",),
        {
            "order_id": "o-1",
            "tags": ["a"],
            "attributes": {"k": "v"},
            "shipping_address": {"street": "s", "city": None, "postcode": None},
        },
    )
    # When its row is written
    text = builder.row_sql(row)
    # Then the struct is cast in the row (a ROW literal has no field names), the array and the
    # map are bare literals typed by the projection's CAST
    assert ",ARRAY['a'],MAP(ARRAY['k'],ARRAY['v'])," in text
    row_type = 'row("street" varchar,"city" varchar,"postcode" varchar)'
    assert f"CAST(ROW('s',NULL,NULL) AS {row_type})" in text


def test_arrays_of_structs_are_cast_in_the_row() -> None:
    # Given an array<struct> column / When a value is written / Then the whole array is cast
    columns = (
        Column("id", parse_glue_type("string")),
        Column("items", parse_glue_type("array<struct<sku:string,qty:bigint>>")),
    )
    builder = MergeBuilder(TargetTable("db", "t", columns, ("id",)))
    text = builder.row_sql(RowChange(("x",), {"id": "x", "items": [{"sku": "A", "qty": 1}]}))
    assert "CAST(ARRAY[ROW('A','1')] AS array(row(\"sku\" varchar,\"qty\" bigint)))" in text


def test_a_hostile_value_stays_inside_its_literal() -> None:
    # Given a key that is an injection attempt
    builder = MergeBuilder(demo_table())
    hostile = 'x\'); DROP TABLE "db"."orders"; --'
    (statement,), _ = builder.statements([RowChange((hostile,), {"order_id": hostile})])
    # When parsed as Trino / Then it is a single MERGE whose values include the exact text
    parsed = sqlglot.parse(statement.sql, read="trino")
    assert len(parsed) == 1
    assert isinstance(parsed[0], sqlglot.exp.Merge)
    literals = [node.this for node in parsed[0].find_all(sqlglot.exp.Literal) if node.is_string]
    assert hostile in literals


def test_statements_split_only_at_the_size_limit() -> None:
    # Given 50 rows and a limit that holds about a fifth of them per statement
    table = demo_table()
    rows = [
        RowChange((f"o-{n:03d}",), {"order_id": f"o-{n:03d}", "status": "x" * 100})
        for n in range(50)
    ]
    one = MergeBuilder(table).statements(rows)[0]
    limit = (one[0].size // 5) + 1500
    # When built with that limit
    statements, too_large = MergeBuilder(table, max_bytes=limit).statements(rows)
    # Then several statements, each within the limit, hold every row once, in order
    assert len(statements) > 1
    assert all(statement.size <= limit for statement in statements)
    assert [row for statement in statements for row in statement.rows] == rows
    assert too_large == []


def test_a_row_larger_than_the_limit_is_set_aside() -> None:
    # Given a row whose text alone exceeds the limit, between two small ones
    table = demo_table()
    rows = [
        RowChange(("a",), {"order_id": "a"}),
        RowChange(("big",), {"order_id": "big", "status": "x" * 5000}),
        RowChange(("c",), {"order_id": "c"}),
    ]
    # When built with a 4 KB limit
    statements, too_large = MergeBuilder(table, max_bytes=4096).statements(rows)
    # Then the big row is returned with a reason and the others are written
    assert [row.key for row, _ in too_large] == [("big",)]
    assert "limit 4096" in too_large[0][1]
    assert [row.key for statement in statements for row in statement.rows] == [("a",), ("c",)]


def test_size_counts_utf8_bytes() -> None:
    # Given rows of 3-byte characters / When split at a limit
    table = demo_table()
    rows = [RowChange((f"{n}",), {"order_id": f"{n}", "status": "中" * 300}) for n in range(20)]
    statements, _ = MergeBuilder(table, max_bytes=8000).statements(rows)
    # Then every statement is within the limit in bytes, not characters
    assert all(len(statement.sql.encode("utf-8")) <= 8000 for statement in statements)


def test_a_limit_too_small_for_the_statement_itself_is_refused() -> None:
    # Given a limit smaller than an empty MERGE of the table / Then the builder refuses it
    with pytest.raises(ValueError, match="cannot hold even an empty MERGE"):
        MergeBuilder(demo_table(), max_bytes=500)


def test_op_column_never_clashes_with_a_table_column() -> None:
    # Given tables that already have the op column's names / Then another name is chosen
    assert op_column_name(["order_id"]) == "__cdc_op"
    assert op_column_name(["__CDC_OP", "__cdc_op_"]) == "__cdc_op__"


def test_table_with_only_key_columns_has_no_update_clause() -> None:
    # Given a table whose every column is part of the key
    columns = (Column("a", parse_glue_type("string")), Column("b", parse_glue_type("bigint")))
    builder = MergeBuilder(TargetTable("db", "t", columns, ("a", "b")))
    # When built / Then there is nothing to update, and the statement still parses
    (statement,), _ = builder.statements([RowChange(("x", 1), {"a": "x", "b": 1})])
    assert "UPDATE SET" not in statement.sql
    assert 'ON t."a" = s."a" AND t."b" = s."b"' in statement.sql
    sqlglot.parse_one(statement.sql, read="athena")


def test_identifiers_are_quoted_with_double_quotes_doubled() -> None:
    # Given a database and a column whose names hold double quotes
    columns = (Column('we"ird', parse_glue_type("string")),)
    table = TargetTable('d"b', "t", columns, ('we"ird',))
    # When built / Then each name is one quoted identifier
    (statement,), _ = MergeBuilder(table).statements([RowChange(("x",), {'we"ird': "x"})])
    assert statement.sql.startswith('MERGE INTO "d""b"."t" AS t')
    assert 'CAST("we""ird" AS varchar) AS "we""ird"' in statement.sql


def test_add_columns_ddl_uses_glue_types_and_bare_names() -> None:
    # Given new columns / When the DDL is built / Then it is Athena's Hive-style ALTER TABLE
    sql = add_columns_sql(
        "datalake_cdc", "orders", [("gift_note", "string"), ("score", "decimal(38,9)")]
    )
    assert (
        sql == "ALTER TABLE datalake_cdc.orders ADD COLUMNS (gift_note string, score decimal(38,9))"
    )
    for dialect in ("trino", "athena"):
        assert isinstance(sqlglot.parse_one(sql, read=dialect), sqlglot.exp.Alter)


@pytest.mark.parametrize(
    "name",
    [
        "Gift",
        "gift note",
        "select",
        "a;b",
        'x"',
        "",
        "1st",
        "current_user",
        "unnest",
        "any",
        "unique",
    ],
)
def test_add_columns_refuses_names_that_would_need_quoting(name: str) -> None:
    # Given a column name Athena DDL would need backticks for / Then no DDL is built
    with pytest.raises(UnsafeIdentifierError):
        add_columns_sql("datalake_cdc", "orders", [(name, "string")])
