import json
from datetime import date, datetime
from decimal import Decimal

import pytest

from iceberg_cdc.column_types import parse_glue_type
from iceberg_cdc.conversion import ConversionError, convert, json_text


def to(glue_type: str, value: object) -> object:
    return convert(value, parse_glue_type(glue_type), "column")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("glue_type", "value", "expected"),
    [
        ("string", "x", "x"),
        ("string", Decimal("1.50"), "1.50"),
        ("string", True, "true"),
        ("string", b"\x00\xff", "AP8="),
        ("bigint", Decimal("9223372036854775807"), 9223372036854775807),
        ("bigint", Decimal("5.000"), 5),
        ("bigint", "42", 42),
        ("int", Decimal("-2147483648"), -2147483648),
        ("decimal(12,2)", Decimal("1234567890.12"), Decimal("1234567890.12")),
        ("decimal(12,2)", Decimal("1.5"), Decimal("1.50")),
        ("decimal(38,6)", Decimal("99999999999999999999999999999999.999999"), None),
        ("double", Decimal("1.5E+300"), 1.5e300),
        ("boolean", True, True),
        ("boolean", "FALSE", False),
        ("date", "2026-11-20", date(2026, 11, 20)),
        ("timestamp", "2026-11-20T10:15:30.123456Z", datetime(2026, 11, 20, 10, 15, 30, 123456)),
        ("timestamp", "2026-11-20T12:15:30+02:00", datetime(2026, 11, 20, 10, 15, 30)),
        ("timestamp", "2026-11-20 10:15:30", datetime(2026, 11, 20, 10, 15, 30)),
        ("timestamp", Decimal("1795170930123"), datetime(2026, 11, 20, 10, 35, 30, 123000)),
        ("binary", b"\x00\x01", b"\x00\x01"),
        ("array<string>", frozenset({"b", "a"}), ["a", "b"]),
        ("array<bigint>", frozenset({Decimal(10), Decimal(9)}), [9, 10]),
        ("array<binary>", frozenset({b"\x02", b"\x01"}), [b"\x01", b"\x02"]),
        ("array<string>", ["z", None, "a"], ["z", None, "a"]),
        ("map<string,bigint>", {"a": Decimal(1), "b": None}, {"a": 1, "b": None}),
        ("map<bigint,string>", {"1": "x", "20": "y"}, {1: "x", 20: "y"}),
        (
            "struct<street:string,city:string,postcode:string>",
            {"Street": "1 Main", "city": "X", "ignored": "y"},
            {"street": "1 Main", "city": "X", "postcode": None},
        ),
        ("string", None, None),
    ],
)
def test_values_convert_exactly_to_their_column_type(
    glue_type: str, value: object, expected: object
) -> None:
    # Given a decoded DynamoDB value and a column type / When converted
    converted = to(glue_type, value)
    # Then it is the exact value of that type
    if expected is None and value is not None:
        expected = value
    assert converted == expected
    assert type(converted) is type(expected)


@pytest.mark.parametrize(
    ("glue_type", "value", "problem"),
    [
        ("bigint", Decimal("5.5"), "not a whole number"),
        ("bigint", Decimal("9223372036854775808"), "out of the bigint range"),
        ("tinyint", Decimal("128"), "out of the tinyint range"),
        ("decimal(12,2)", Decimal("1.999"), "more than 2 decimal places"),
        ("decimal(12,2)", Decimal("10000000000"), "does not fit decimal"),
        ("double", Decimal("1E+400"), "out of the double range"),
        ("float", Decimal("1E+39"), "out of the float range"),
        ("bigint", "twelve", "not a number"),
        ("bigint", True, "expected a number"),
        ("boolean", Decimal(1), "expected BOOL"),
        ("date", "20/11/2026", "not an ISO-8601 date"),
        ("date", Decimal(20261120), "expected an ISO date string"),
        ("timestamp", "yesterday", "not an ISO-8601 timestamp"),
        ("timestamp", Decimal("1.0001"), "sub-microsecond"),
        ("timestamp", Decimal("1E+20"), "out of range"),
        ("binary", "AAEC", "expected B"),
        ("array<string>", "x", "for an array"),
        ("map<string,string>", ["x"], "expected M for a map"),
        ("struct<a:string>", "x", "expected M for a struct"),
        ("varchar(3)", "abcd", "longer than 3"),
        ("string", "\ud800", "lone UTF-16 surrogate"),
        ("map<bigint,string>", {"1": "a", "01": "b"}, "same map key"),
    ],
)
def test_values_that_cannot_be_stored_as_they_are_are_refused(
    glue_type: str, value: object, problem: str
) -> None:
    # Given a value its column cannot hold without changing it / When converted / Then refused
    with pytest.raises(ConversionError, match=problem):
        to(glue_type, value)


def test_conversion_error_names_the_nested_path() -> None:
    # Given a bad number deep in a struct of arrays
    column_type = parse_glue_type("struct<items:array<bigint>>")
    # When converted / Then the error's path leads to the element
    with pytest.raises(ConversionError) as raised:
        convert({"items": [Decimal(1), Decimal("1.5")]}, column_type, "meta")
    assert raised.value.path == "meta.items[1]"


def test_json_text_is_canonical_and_exact() -> None:
    # Given a map with unsorted keys, exact numbers, sets, binaries and unicode
    value = {
        "b": [Decimal("12345678901234567890.123456789"), True, None],
        "a": {"z": frozenset({"y", "x"}), "n": frozenset({Decimal(3), Decimal("1.5")})},
        "c": b"\x00\x01",
        "é": 'it\'s "quoted"\n',
    }
    # When written as JSON text
    text = json_text(value)  # type: ignore[arg-type]
    # Then keys are sorted, numbers exact, sets sorted, binaries base64, unicode kept
    assert text == (
        '{"a":{"n":[1.5,3],"z":["x","y"]},"b":[12345678901234567890.123456789,true,null],'
        '"c":"AAE=","é":"it\'s \\"quoted\\"\\n"}'
    )
    assert json.loads(text, parse_float=Decimal)["b"][0] == Decimal(
        "12345678901234567890.123456789"
    )


def test_a_string_column_holds_maps_and_lists_as_json_text() -> None:
    # Given line items (an L of M) and a string column / When converted / Then JSON text
    items = [{"sku": "A", "qty": Decimal(2)}]
    assert to("string", items) == '[{"qty":2,"sku":"A"}]'
