"""MergeBuilder at the query-size limit: every statement fits ``max_bytes`` (UTF-8 bytes) and is
packed (the next row would not have fitted), rows too large alone are set aside, and the
values a row carries become exactly the literals the MERGE needs."""

from datetime import datetime
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from iceberg_cdc_fakes import DEMO_COLUMNS

from iceberg_cdc.column_types import parse_glue_type
from iceberg_cdc.sql import Column, MergeBuilder, RowChange, Statement, TargetTable, literal

SEPARATOR_BYTES = len(",\n")


def demo_table() -> TargetTable:
    columns = tuple(Column(name, parse_glue_type(kind)) for name, kind in DEMO_COLUMNS)
    return TargetTable("db", "orders", columns, ("order_id",))


def small_table() -> TargetTable:
    columns = (Column("id", parse_glue_type("string")), Column("v", parse_glue_type("string")))
    return TargetTable("db", "t", columns, ("id",))


def empty_merge_bytes(table: TargetTable) -> int:
    """The bytes of the table's MERGE with no rows: what every statement costs."""
    return MergeBuilder(table).statement([], []).size


def row_bytes(table: TargetTable, row: RowChange) -> int:
    return len(MergeBuilder(table).row_sql(row).encode("utf-8"))


def row(key: str, text: str) -> RowChange:
    return RowChange((key,), {"id": key, "v": text})


def assert_fit_and_packed(
    table: TargetTable, statements: list[Statement], limit: int, rows: list[RowChange]
) -> None:
    assert [r for statement in statements for r in statement.rows] == rows
    for statement in statements:
        assert len(statement.sql.encode("utf-8")) <= limit
    for statement, following in pairwise(statements):
        assert statement.size + SEPARATOR_BYTES + row_bytes(table, following.rows[0]) > limit


# Texts of 1- to 4-byte UTF-8 characters (and quotes, which double in the literal).
texts = st.text(st.sampled_from("a'é中😀\x00"), max_size=60)


@settings(max_examples=60, deadline=None)
@given(values=st.lists(texts, min_size=1, max_size=25), room=st.integers(0, 400))
def test_every_statement_fits_the_limit_and_is_packed(values: list[str], room: int) -> None:
    # Given rows of multi-byte text and a limit that holds the largest row plus some room
    table = small_table()
    rows = [row(f"k{n}", text) for n, text in enumerate(values)]
    limit = empty_merge_bytes(table) + max(row_bytes(table, r) for r in rows) + room
    # When built
    statements, too_large = MergeBuilder(table, max_bytes=limit).statements(rows)
    # Then no row is set aside, every statement fits in UTF-8 bytes, and each one is packed:
    # the first row of the next statement would have pushed it over the limit
    assert too_large == []
    assert_fit_and_packed(table, statements, limit, rows)


@pytest.mark.parametrize("text", ["x" * 30, "é" * 30, "中" * 30, "😀" * 30, "'" * 30])
def test_two_rows_that_fill_the_limit_exactly_share_one_statement(text: str) -> None:
    # Given two rows (of 1- to 4-byte characters) and a limit of exactly their MERGE's bytes
    table = small_table()
    rows = [row("a", text), row("b", text)]
    limit = empty_merge_bytes(table) + row_bytes(table, rows[0]) + 2 + row_bytes(table, rows[1])
    # When built / Then one statement of exactly the limit holds both
    (statement,), too_large = MergeBuilder(table, max_bytes=limit).statements(rows)
    assert statement.size == limit
    assert statement.rows == tuple(rows)
    assert too_large == []


@pytest.mark.parametrize("text", ["x" * 30, "é" * 30, "中" * 30, "😀" * 30])
def test_two_rows_one_byte_over_the_limit_are_split(text: str) -> None:
    # Given two rows and a limit one byte short of their MERGE
    table = small_table()
    rows = [row("a", text), row("b", text)]
    limit = empty_merge_bytes(table) + row_bytes(table, rows[0]) + 2 + row_bytes(table, rows[1])
    # When built with one byte less / Then each row has a statement of its own, within it
    statements, too_large = MergeBuilder(table, max_bytes=limit - 1).statements(rows)
    assert [statement.rows for statement in statements] == [(rows[0],), (rows[1],)]
    assert_fit_and_packed(table, statements, limit - 1, rows)
    assert too_large == []


def test_a_statement_after_a_split_is_packed_to_the_limit_too() -> None:
    # Given three equal rows and a limit of exactly two of them in one MERGE
    table = small_table()
    rows = [row("a", "中" * 20), row("b", "中" * 20), row("c", "中" * 20), row("d", "中" * 20)]
    one = row_bytes(table, rows[0])
    limit = empty_merge_bytes(table) + one + 2 + one
    # When built / Then the rows go two by two, each statement exactly at the limit
    statements, _ = MergeBuilder(table, max_bytes=limit).statements(rows)
    assert [len(statement.rows) for statement in statements] == [2, 2]
    assert [statement.size for statement in statements] == [limit, limit]


def test_a_row_that_alone_fills_the_limit_exactly_is_written() -> None:
    # Given a row whose MERGE alone is exactly the limit, between two that fit with it
    table = small_table()
    big = row("big", "😀" * 100)
    limit = empty_merge_bytes(table) + row_bytes(table, big)
    rows = [row("a", ""), big, row("c", "")]
    # When built
    statements, too_large = MergeBuilder(table, max_bytes=limit).statements(rows)
    # Then nothing is set aside and the big row has a statement of exactly the limit
    assert too_large == []
    assert [statement.rows for statement in statements] == [(rows[0],), (big,), (rows[2],)]
    assert statements[1].size == limit


def test_a_row_one_byte_over_the_limit_alone_is_set_aside() -> None:
    # Given a row whose MERGE alone is one byte over the limit, between two small rows
    table = small_table()
    big = row("big", "😀" * 100)
    limit = empty_merge_bytes(table) + row_bytes(table, big) - 1
    rows = [row("a", ""), big, row("c", "")]
    # When built
    statements, too_large = MergeBuilder(table, max_bytes=limit).statements(rows)
    # Then it alone is set aside, and the small rows before and after share a statement
    assert [r for r, _ in too_large] == [big]
    assert [statement.rows for statement in statements] == [(rows[0], rows[2])]


def test_the_size_of_a_row_set_aside_is_given_in_bytes() -> None:
    # Given a row of 4-byte characters too large for the limit / When built
    table = small_table()
    big = row("big", "😀" * 100)
    needed = empty_merge_bytes(table) + row_bytes(table, big)
    _, too_large = MergeBuilder(table, max_bytes=needed - 1).statements([big])
    # Then the reason gives the bytes the row needs and the limit
    ((_, reason),) = too_large
    assert reason == f"its row needs {needed} bytes of SQL; limit {needed - 1}"


def test_a_limit_of_exactly_an_empty_merge_is_refused() -> None:
    # Given a limit equal to the bytes of the table's MERGE without rows / Then it is refused
    fixed = empty_merge_bytes(demo_table())
    with pytest.raises(ValueError, match=r"cannot hold even an empty MERGE"):
        MergeBuilder(demo_table(), max_bytes=fixed)


def test_a_limit_one_byte_above_an_empty_merge_is_accepted() -> None:
    # Given a limit one byte above an empty MERGE / When built / Then every row is set aside
    table = small_table()
    builder = MergeBuilder(table, max_bytes=empty_merge_bytes(table) + 1)
    statements, too_large = builder.statements([row("a", "")])
    assert statements == []
    assert len(too_large) == 1


def test_no_rows_build_no_statement() -> None:
    # Given no rows / When built / Then there is nothing to run
    assert MergeBuilder(small_table()).statements([]) == ([], [])


def test_a_deleted_row_carries_only_its_key() -> None:
    # Given a delete whose row still holds every value
    table = small_table()
    deleted = RowChange(("a",), {"id": "a", "v": "old value"}, delete=True)
    # When written / Then only the key column has a value; the others are NULL
    assert MergeBuilder(table).row_sql(deleted) == "('a',NULL,'delete')"


def test_an_upserted_row_carries_every_value() -> None:
    # Given an upsert / When written / Then every column's value and the upsert op
    row_sql = MergeBuilder(small_table()).row_sql(RowChange(("a",), {"id": "a", "v": "new"}))
    assert row_sql == "('a','new','upsert')"


def test_a_null_struct_value_is_a_bare_null() -> None:
    # Given an upsert whose struct column is NULL / When written
    builder = MergeBuilder(demo_table())
    text = builder.row_sql(RowChange(("o-1",), {"order_id": "o-1", "shipping_address": None}))
    # Then the struct is NULL without a CAST of its own
    assert "CAST(NULL" not in text
    assert text.count("NULL") == len(DEMO_COLUMNS) - 1


def test_a_struct_value_is_filled_by_field_name() -> None:
    # Given a struct value missing a field / When written as a literal
    struct = parse_glue_type("struct<a:string,b:string,c:string>")
    # Then each field takes its own value, and a missing one is NULL
    assert literal({"c": "z", "a": "x"}, struct) == "ROW('x',NULL,'z')"


@pytest.mark.parametrize(
    ("value", "glue_type", "expected"),
    [
        (False, "boolean", "FALSE"),
        (-5, "bigint", "'-5'"),
        (0.1, "double", "'0.1'"),
        (datetime(999, 1, 2, 3, 4, 5), "timestamp", "'0999-01-02 03:04:05.000000'"),
        (["a", "b'"], "array<string>", "ARRAY['a','b''']"),
        ([], "array<string>", "ARRAY[]"),
        ({"k": 1, "j": None}, "map<string,bigint>", "MAP(ARRAY['k','j'],ARRAY['1',NULL])"),
        ("a\x00", "string", "('a' || chr(0) || '')"),
    ],
)
def test_more_literals_the_cast_parses_exactly(
    value: object, glue_type: str, expected: str
) -> None:
    # Given a converted value / When written as a literal / Then it is the exact text
    assert literal(value, parse_glue_type(glue_type)) == expected  # type: ignore[arg-type]


def test_a_value_of_no_known_python_type_has_no_literal() -> None:
    # Given a value conversion never produces / When written / Then it is refused
    with pytest.raises(TypeError):
        literal(object(), parse_glue_type("string"))  # type: ignore[arg-type]


def test_a_table_without_key_columns_is_refused() -> None:
    # Given a table with columns but no key / Then it cannot be a MERGE target
    columns = small_table().columns
    with pytest.raises(ValueError, match=r"key columns"):
        TargetTable("db", "t", columns, ())


def test_a_key_that_is_not_a_column_is_refused() -> None:
    # Given a key naming a column the table lacks / Then it cannot be a MERGE target
    columns = small_table().columns
    with pytest.raises(ValueError, match=r"key columns"):
        TargetTable("db", "t", columns, ("id", "missing"))


def test_the_merge_of_a_small_table_is_exactly_this_statement() -> None:
    # Given a table keyed by id with a number and a text column, an upsert and a delete
    columns = (
        Column("id", parse_glue_type("string")),
        Column("n", parse_glue_type("bigint")),
        Column("v", parse_glue_type("string")),
    )
    rows = [
        RowChange(("a",), {"id": "a", "n": 1, "v": "x"}),
        RowChange(("b",), {"id": "b"}, delete=True),
    ]
    # When built
    (statement,), _ = MergeBuilder(TargetTable("db", "t", columns, ("id",))).statements(rows)
    # Then it is the documented shape, clause by clause (what Athena receives)
    assert statement.sql.split("\n") == [
        'MERGE INTO "db"."t" AS t',
        'USING (SELECT CAST("id" AS varchar) AS "id", CAST("n" AS bigint) AS "n", '
        'CAST("v" AS varchar) AS "v", "__cdc_op" FROM (VALUES',
        "('a','1','x','upsert'),",
        '(\'b\',NULL,NULL,\'delete\')) AS v("id", "n", "v", "__cdc_op")) AS s',
        'ON t."id" = s."id"',
        "WHEN MATCHED AND s.\"__cdc_op\" = 'delete' THEN DELETE",
        'WHEN MATCHED THEN UPDATE SET "n" = s."n", "v" = s."v"',
        "WHEN NOT MATCHED AND s.\"__cdc_op\" <> 'delete' THEN "
        'INSERT ("id", "n", "v") VALUES (s."id", s."n", s."v")',
    ]
