from decimal import Decimal

import pytest

from iceberg_cdc.attribute_values import DecodeError, decode_item, decode_value, type_tag


@pytest.mark.parametrize(
    ("attribute", "expected"),
    [
        ({"S": "it's \\ \n 😀"}, "it's \\ \n 😀"),
        ({"N": "129.95"}, Decimal("129.95")),
        ({"B": "AAEC/w=="}, b"\x00\x01\x02\xff"),
        ({"B": ""}, b""),
        ({"BOOL": True}, True),
        ({"BOOL": False}, False),
        ({"NULL": True}, None),
        ({"M": {"a": {"S": "x"}, "b": {"N": "1"}}}, {"a": "x", "b": Decimal(1)}),
        ({"L": [{"S": "x"}, {"NULL": True}, {"L": []}]}, ["x", None, []]),
        ({"SS": ["b", "a", "b"]}, frozenset({"a", "b"})),
        ({"NS": ["1", "2.5"]}, frozenset({Decimal(1), Decimal("2.5")})),
        ({"BS": ["AQ==", "Ag=="]}, frozenset({b"\x01", b"\x02"})),
    ],
)
def test_every_dynamodb_type_decodes_to_its_python_value(attribute: dict, expected: object) -> None:
    # Given an attribute value of each DynamoDB type / When decoded
    decoded = decode_value(attribute)
    # Then it is the exact Python value, of the expected type
    assert decoded == expected
    assert type(decoded) is type(expected)


@pytest.mark.parametrize(
    "text",
    [
        "12345678901234567890123456789012345678",  # 38 digits, DynamoDB's maximum precision
        "123456789012345678901234567890123456789012345678901234567890",  # more than that
        "0.000000000000000000000000000000000001",
        "-9.9999999999999999999999999999999999999E+125",
        "1E-130",
    ],
)
def test_numbers_keep_every_digit(text: str) -> None:
    # Given a number with more digits than a float (or a 28-digit Decimal context) holds
    # When decoded
    number = decode_value({"N": text})
    # Then its value is exactly the text's
    assert number == Decimal(text)
    assert str(number) == str(Decimal(text))


def test_a_set_decoded_remembers_its_dynamodb_type() -> None:
    # Given sets of strings, numbers and binaries / When decoded / Then their tags are kept
    assert [
        type_tag(decode_value(a)) for a in ({"SS": ["a"]}, {"NS": ["1"]}, {"BS": ["AQ=="]})
    ] == [
        "SS",
        "NS",
        "BS",
    ]


def test_type_tags_of_scalars_and_documents() -> None:
    # Given decoded values of each kind / Then each names its DynamoDB type
    values = ["x", Decimal(1), b"x", True, None, {"a": None}, [None]]
    assert [type_tag(value) for value in values] == ["S", "N", "B", "BOOL", "NULL", "M", "L"]


def test_an_image_decodes_every_attribute() -> None:
    # Given a NewImage / When decoded / Then every attribute is there, by name
    image = {"order_id": {"S": "o-1"}, "amount": {"N": "1.50"}, "gift": {"BOOL": True}}
    assert decode_item(image) == {"order_id": "o-1", "amount": Decimal("1.50"), "gift": True}


@pytest.mark.parametrize(
    ("attribute", "problem"),
    [
        ({"N": "12abc"}, "not a number"),
        ({"N": "NaN"}, "not a number"),
        ({"N": "Infinity"}, "not a number"),
        ({"N": "1_000"}, "not a number"),
        ({"N": "1E+999999999"}, "out of DynamoDB's range"),
        ({"B": "not base64!"}, "invalid base64"),
        ({"BOOL": "true"}, "BOOL must be true or false"),
        ({"NULL": False}, "NULL must be true"),
        ({"SS": []}, "non-empty list"),
        ({"M": ["x"]}, "M must be an object"),
        ({"L": {"x": 1}}, "L must be a list"),
        ({"S": 5}, "expected a string"),
        ({"S": "x", "N": "1"}, "exactly one type key"),
        ({"X": "x"}, "unknown DynamoDB type"),
        ("x", "exactly one type key"),
    ],
)
def test_malformed_attribute_values_raise_decode_errors(attribute: object, problem: str) -> None:
    # Given an attribute value that is not valid DynamoDB JSON / When decoded / Then it is refused
    with pytest.raises(DecodeError, match=problem):
        decode_value(attribute)


def test_decode_error_names_where_the_bad_value_is() -> None:
    # Given a bad number nested in a map inside a list
    image = {"line_items": {"L": [{"M": {"qty": {"N": "two"}}}]}}
    # When decoded / Then the error's path leads to it
    with pytest.raises(DecodeError) as raised:
        decode_item(image, "$.NewImage")
    assert raised.value.path == "$.NewImage.line_items[0].qty"


def test_nesting_deeper_than_dynamodb_allows_is_refused() -> None:
    # Given a list nested 60 levels deep
    value: dict = {"S": "x"}
    for _ in range(60):
        value = {"L": [value]}
    # When decoded / Then it is refused instead of recursing without bound
    with pytest.raises(DecodeError, match="nested deeper"):
        decode_value(value)
