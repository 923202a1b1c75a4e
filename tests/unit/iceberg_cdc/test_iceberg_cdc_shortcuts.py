"""The shortcuts of the SQL build (issue 19) give what the general rules give, for any input.

Decoding, conversion and literals take a short path for the common case (an S, N or M member, a
plain number, a number that fits its column, printable text, a naive timestamp) and fall back on
the general code for everything else. These properties hold each short path to its rule.
"""

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, localcontext
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iceberg_cdc.attribute_values import DecodeError, decode_item, decode_value, parse_number
from iceberg_cdc.column_types import parse_glue_type
from iceberg_cdc.conversion import INTEGER_RANGES, ConversionError, convert, json_text
from iceberg_cdc.sql import literal

# DynamoDB's number grammar (the oracle; at most 125 and at least -130 as adjusted exponent).
NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
NUMBER_TEXT = st.one_of(
    st.from_regex(r"[+-]?[0-9]{0,6}(\.[0-9]{0,4})?([eE][+-]?[0-9]{1,3})?", fullmatch=True),
    st.text(alphabet="0123456789.+-eE _١²\u00a0x", max_size=8),
)


def outcome(action: Any, *args: Any) -> tuple[str, Any]:
    try:
        return ("value", action(*args))
    except (DecodeError, ConversionError) as error:
        return ("refused", str(error))


# ------------------------------------------------------------------------------ decoding

LEAVES = st.one_of(
    st.builds(lambda text: {"S": text}, st.text(max_size=6)),
    st.builds(lambda text: {"N": text}, NUMBER_TEXT),
    st.sampled_from([{"B": "AAE="}, {"B": "not base64"}, {"B": 5}, {"BOOL": True}, {"BOOL": 1}]),
    st.sampled_from([{"NULL": True}, {"NULL": False}, {"SS": ["a", "b"]}, {"SS": ["a", 1]}]),
    st.sampled_from([{"NS": ["1", "2.5"]}, {"NS": ["x"]}, {"BS": ["AA=="]}, {"SS": []}]),
    st.sampled_from([{}, {"S": "a", "N": "1"}, {"X": 1}, {"S": 5}, {"N": 5}, "x", 5, None]),
    st.sampled_from([{"M": [1]}, {"L": {"a": 1}}, {"M": {1: {"S": "x"}}}]),
)
VALUES = st.recursive(
    LEAVES,
    lambda members: st.one_of(
        st.builds(lambda m: {"M": m}, st.dictionaries(st.text(max_size=2), members, max_size=3)),
        st.builds(lambda items: {"L": items}, st.lists(members, max_size=3)),
    ),
    max_leaves=12,
)


@given(VALUES)
def test_a_value_decodes_alike_inside_an_image_and_alone(value: Any) -> None:
    # Given any attribute value, valid or not / When decoded as an image's member and alone
    inside = outcome(decode_item, {"a": value}, "$")
    alone = outcome(decode_value, value, "$.a")
    # Then both give the same value, or the same error at the same place
    assert inside == (("value", {"a": alone[1]}) if alone[0] == "value" else alone)


@pytest.mark.parametrize("leaf", [{"S": "x"}, {"N": "1"}, {"M": {}}, {"L": []}, {"BOOL": True}])
@pytest.mark.parametrize("container", ["M", "L"])
def test_values_nest_40_levels_deep_and_no_deeper(leaf: dict[str, Any], container: str) -> None:
    # Given a value holding ``leaf`` 40 and 41 levels down
    nested: dict[int, Any] = {}
    value: Any = leaf
    for depth in range(1, 42):
        value = {"M": {"k": value}} if container == "M" else {"L": [value]}
        nested[depth] = value
    # When decoded in an image / Then 40 levels are decoded and 41 refused
    assert outcome(decode_item, {"a": nested[40]})[0] == "value"
    refused = outcome(decode_item, {"a": nested[41]})
    assert refused[0] == "refused"
    assert refused[1].endswith("nested deeper than 40 levels")


@given(NUMBER_TEXT)
def test_numbers_are_parsed_exactly_as_the_grammar_says(text: str) -> None:
    # Given any text / When parsed as a DynamoDB number
    parsed = outcome(parse_number, text)
    # Then it is refused unless it follows the grammar, and is otherwise the exact number
    if NUMBER.fullmatch(text) is None:
        assert parsed == ("refused", f": not a number: {text!r:.60}")
    elif Decimal(text) and not -130 <= Decimal(text).adjusted() <= 125:
        assert parsed[0] == "refused"
    else:
        assert parsed == ("value", Decimal(text))
        assert str(parsed[1]) == str(Decimal(text))


# ------------------------------------------------------------------------------ conversion

NUMBERS = st.one_of(
    st.decimals(min_value=-(10**25), max_value=10**25, places=None),
    st.sampled_from([Decimal("1E+500"), Decimal("-1E-500"), Decimal("-0"), Decimal("0E-20")]),
)
# Values decoding never gives (it refuses such text). A decimal column refuses them; an integer
# column answers infinities and sNaN with other errors, so its property leaves them out.
NOT_NUMBERS = [Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"), Decimal("-Infinity")]


@given(NUMBERS | st.just(Decimal("NaN")), st.sampled_from(sorted(INTEGER_RANGES)))
def test_numbers_become_integers_only_when_whole_and_in_range(value: Decimal, glue: str) -> None:
    # Given any number and an integer column / When converted
    converted = outcome(convert, value, parse_glue_type(glue), "c")
    # Then a whole number in the column's range is that integer; anything else is refused
    low, high = INTEGER_RANGES[glue]
    whole = value.is_finite() and value == value.to_integral_value()
    if whole and low <= int(value) <= high:
        assert converted == ("value", int(value))
        assert type(converted[1]) is int
    else:
        assert converted[0] == "refused"


@given(NUMBERS | st.sampled_from(NOT_NUMBERS), st.sampled_from([(12, 2), (38, 9), (3, 0), (5, 5)]))
def test_numbers_become_decimals_only_when_exact_at_the_scale(
    value: Decimal, precision_scale: tuple[int, int]
) -> None:
    # Given any number and a decimal(p,s) column / When converted
    precision, scale = precision_scale
    column_type = parse_glue_type(f"decimal({precision},{scale})")
    converted = outcome(convert, value, column_type, "c")
    # Then a number with at most s decimals and p-s integer digits keeps its value, written
    # with s decimals; anything else is refused
    with localcontext() as context:
        context.prec = 2000
        fits = value.is_finite() and abs(value) < Decimal(10) ** (precision - scale)
        exact = fits and (value * Decimal(10) ** scale) % 1 == 0
    if exact:
        assert converted[0] == "value"
        assert converted[1] == value
        assert converted[1].as_tuple().exponent == -scale
    else:
        assert converted[0] == "refused"


@given(st.text(max_size=12), st.sampled_from(["string", "varchar(5)", "char(3)"]))
def test_text_is_kept_as_it_is_when_it_fits(text: str, glue: str) -> None:
    # Given any text and a text column / When converted
    converted = outcome(convert, text, parse_glue_type(glue), "c")
    # Then text within the column's length that UTF-8 can hold is kept; the rest refused
    limit = parse_glue_type(glue).precision  # type: ignore[union-attr]
    storable = not any("\ud800" <= character <= "\udfff" for character in text)
    if (limit is None or len(text) <= limit) and storable:
        assert converted == ("value", text)
    else:
        assert converted[0] == "refused"


@given(st.text(max_size=12))
def test_text_inside_json_is_written_as_json_dumps_writes_it(text: str) -> None:
    # Given any text / When written as JSON text (a map or list member)
    # Then it is what json.dumps writes, unicode kept
    assert json_text(text) == json.dumps(text, ensure_ascii=False)


# ------------------------------------------------------------------------------ literals

MOMENTS = st.datetimes(timezones=st.none() | st.sampled_from([UTC, timezone(timedelta(hours=5))]))


@given(MOMENTS)
def test_a_timestamp_literal_writes_date_time_and_microseconds(moment: datetime) -> None:
    # Given any timestamp (an offset, if any, is not written) / When written as a literal
    text = literal(moment, parse_glue_type("timestamp"))
    # Then it holds every field, zero-padded, microseconds included
    assert text == (
        f"'{moment.year:04d}-{moment.month:02d}-{moment.day:02d} "
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}.{moment.microsecond:06d}'"
    )
