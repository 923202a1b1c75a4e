from decimal import Decimal

import pytest

from iceberg_cdc.column_types import (
    ArrayType,
    MapType,
    ScalarType,
    StructField,
    StructType,
    TypeParseError,
    infer_glue_type,
    parse_glue_type,
)


@pytest.mark.parametrize(
    ("glue", "trino"),
    [
        ("string", "varchar"),
        ("varchar(20)", "varchar(20)"),
        ("char(3)", "char(3)"),
        ("tinyint", "tinyint"),
        ("smallint", "smallint"),
        ("int", "integer"),
        ("integer", "integer"),
        ("bigint", "bigint"),
        ("float", "real"),
        ("double", "double"),
        ("decimal(12,2)", "decimal(12,2)"),
        ("decimal", "decimal(10,0)"),
        ("decimal(7)", "decimal(7,0)"),
        ("boolean", "boolean"),
        ("date", "date"),
        ("timestamp", "timestamp(6)"),
        ("binary", "varbinary"),
        ("array<string>", "array(varchar)"),
        ("map<string,bigint>", "map(varchar,bigint)"),
        (
            "struct<street:string,city:string,postcode:string>",
            'row("street" varchar,"city" varchar,"postcode" varchar)',
        ),
        (
            "array<struct<a:map<string,array<decimal(38,9)>>,b:binary>>",
            'array(row("a" map(varchar,array(decimal(38,9))),"b" varbinary))',
        ),
    ],
)
def test_glue_types_render_as_trino_types(glue: str, trino: str) -> None:
    # Given a Glue column type / When parsed / Then it renders as the Trino type Athena casts to
    assert parse_glue_type(glue).trino == trino


def test_nested_types_parse_into_their_structure() -> None:
    # Given a nested Glue type with spaces and upper case / When parsed
    parsed = parse_glue_type(" MAP< string , ARRAY<struct<Name:string, total:decimal(5,2)>> >")
    # Then the tree is exact (struct field names keep their case)
    assert parsed == MapType(
        ScalarType("string"),
        ArrayType(
            StructType(
                (
                    StructField("Name", ScalarType("string")),
                    StructField("total", ScalarType("decimal", 5, 2)),
                )
            )
        ),
    )


def test_glue_text_round_trips() -> None:
    # Given a parsed type / When written back as Glue text / Then it parses to the same type
    text = "struct<a:array<map<string,decimal(38,9)>>,b:timestamp,c:varchar(9)>"
    assert parse_glue_type(parse_glue_type(text).glue) == parse_glue_type(text)


def test_struct_field_names_that_need_quoting_are_quoted_for_trino() -> None:
    # Given a struct with a backquoted field name holding a double quote
    parsed = parse_glue_type('struct<`we"ird name`:string>')
    # Then Trino sees a quoted identifier with the quote doubled
    assert parsed.trino == 'row("we""ird name" varchar)'


@pytest.mark.parametrize(
    "text",
    [
        "",
        "uuid",
        "array<string",
        "map<string>",
        "struct<a string>",
        "struct<a:int,A:int>",
        "decimal(39,2)",
        "decimal(5,6)",
        "varchar(0)",
        "string extra",
        "array<>",
        "struct<:int>",
    ],
)
def test_unsupported_or_malformed_types_are_refused(text: str) -> None:
    # Given a type text this function cannot write / When parsed / Then it is refused
    with pytest.raises(TypeParseError):
        parse_glue_type(text)


@pytest.mark.parametrize(
    ("value", "glue"),
    [
        ("x", "string"),
        (Decimal("1.5"), "decimal(38,9)"),
        (b"x", "binary"),
        (True, "boolean"),
        (frozenset({"a"}), "array<string>"),
        (frozenset({Decimal(1)}), "array<decimal(38,9)>"),
        (frozenset({b"x"}), "array<binary>"),
        ({"a": "b"}, "string"),
        (["a"], "string"),
        (None, None),
    ],
)
def test_new_column_types_are_inferred_from_the_dynamodb_type(
    value: object, glue: str | None
) -> None:
    # Given a value of an attribute the table lacks / Then its new column's type is inferred
    assert infer_glue_type(value) == glue  # type: ignore[arg-type]
