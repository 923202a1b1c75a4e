import csv
import gzip
import io
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datalake_shared.object_tasks import ObjectTaskRule
from object_rewriter.rewrite import RewriteError, object_format, rewrite_object

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
FIELD_NAMES = st.text(min_size=1, max_size=12).filter(lambda name: "." not in name)
DOCUMENTS = st.lists(st.dictionaries(FIELD_NAMES, JSON_VALUES, max_size=6), min_size=1, max_size=8)
CSV_TEXT = st.text(max_size=12)  # any character but lone surrogates, as UTF-8 text holds


def rule(action: str, fields: list[str], mask_with: str = "") -> ObjectTaskRule:
    return ObjectTaskRule(
        name="test-rule",
        prefix="dataset/",
        after_days=1,
        action=action,  # type: ignore[arg-type]
        fields=tuple(fields),
        mask_with=mask_with,
    )


def rewritten(key: str, content: bytes, by: ObjectTaskRule) -> bytes:
    target = io.BytesIO()
    rewrite_object(key, io.BytesIO(content), target, by)
    return target.getvalue()


def json_lines(documents: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(document) + "\n" for document in documents).encode()


def parsed_lines(content: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in content.decode().split("\n") if line.strip()]


def csv_bytes(rows: list[list[str]], ending: str = "\n") -> bytes:
    text = io.StringIO(newline="")
    csv.writer(text, lineterminator=ending).writerows(rows)
    return text.getvalue().encode()


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode(), newline="")))


def fields_of(documents: list[dict[str, Any]], data: st.DataObject) -> list[str]:
    keys = sorted({key for document in documents for key in document})
    chosen = data.draw(st.lists(st.sampled_from(keys), unique=True, max_size=3)) if keys else []
    return chosen or ["absent-field"]


# --- JSON Lines -----------------------------------------------------------------------------


@settings(max_examples=150)
@given(documents=DOCUMENTS, data=st.data())
def test_remove_drops_exactly_the_rule_fields_from_every_json_line(
    documents: list[dict[str, Any]], data: st.DataObject
) -> None:
    # Given JSON Lines of any objects and a rule removing some of their top-level keys
    fields = fields_of(documents, data)
    # When rewritten
    output = rewritten("dataset/a.jsonl", json_lines(documents), rule("remove", fields))
    # Then each object equals its input without those keys
    expected = [{k: v for k, v in doc.items() if k not in fields} for doc in documents]
    assert parsed_lines(output) == expected


@settings(max_examples=150)
@given(documents=DOCUMENTS, data=st.data(), mask_with=st.text(max_size=8))
def test_mask_replaces_each_present_rule_field_and_nothing_else(
    documents: list[dict[str, Any]], data: st.DataObject, mask_with: str
) -> None:
    # Given JSON Lines and a rule masking some keys
    fields = fields_of(documents, data)
    # When rewritten
    output = rewritten("dataset/a.ndjson", json_lines(documents), rule("mask", fields, mask_with))
    # Then present fields hold the mask text, absent ones stay absent, the rest is equal
    expected = [{k: mask_with if k in fields else v for k, v in d.items()} for d in documents]
    assert parsed_lines(output) == expected


@settings(max_examples=100)
@given(
    inner=st.dictionaries(FIELD_NAMES, JSON_VALUES, max_size=4),
    secret=JSON_VALUES,
    rest=st.dictionaries(FIELD_NAMES, JSON_VALUES, max_size=3),
)
def test_dotted_path_removes_the_nested_value_only(
    inner: dict[str, Any], secret: Any, rest: dict[str, Any]
) -> None:
    # Given an object with a nested one holding "secret", next to anything else
    document = {**rest, "user": {**inner, "secret": secret}}
    # When "user.secret" is removed
    output = rewritten("dataset/a.json", json_lines([document]), rule("remove", ["user.secret"]))
    # Then only that nested key is gone
    assert parsed_lines(output) == [{**rest, "user": inner}]


@settings(max_examples=60)
@given(documents=DOCUMENTS, data=st.data())
def test_gzip_in_gives_gzip_out_with_the_same_rewrite(
    documents: list[dict[str, Any]], data: st.DataObject
) -> None:
    # Given the same JSON Lines plain and gzip-compressed
    by = rule("remove", fields_of(documents, data))
    plain = json_lines(documents)
    # When both are rewritten
    zipped = rewritten("dataset/a.jsonl.gz", gzip.compress(plain), by)
    # Then the .gz output decompresses to exactly the plain output
    assert gzip.decompress(zipped) == rewritten("dataset/a.jsonl", plain, by)


@given(documents=DOCUMENTS)
def test_lines_without_rule_fields_are_kept_byte_for_byte(
    documents: list[dict[str, Any]],
) -> None:
    # Given lines written with spaces and escapes, none holding the rule's field
    content = "".join(json.dumps(d, indent=None) + "\r\n" for d in documents).encode()
    # When rewritten / Then the bytes are unchanged
    assert rewritten("dataset/a.jsonl", content, rule("remove", ["absent.path"])) == content


def test_blank_lines_and_line_endings_are_kept() -> None:
    # Given lines ending in CRLF, a blank line between them and no final newline
    content = b'{"a":1,"b":2}\r\n\r\n   \n{"b":3}'
    # When "b" is removed
    output = rewritten("dataset/a.jsonl", content, rule("remove", ["b"]))
    # Then only the changed objects differ
    assert output == b'{"a":1}\r\n\r\n   \n{}'


def test_unicode_is_written_as_utf8_and_a_lone_surrogate_stays_escaped() -> None:
    # Given a line with non-ASCII text and one with an escaped lone surrogate
    content = '{"name":"Zoë 🚀","x":1}\n{"name":"\\ud800","x":2}\n'.encode()
    # When "x" is removed
    output = rewritten("dataset/a.jsonl", content, rule("remove", ["x"]))
    # Then both lines round-trip
    assert output == '{"name":"Zoë 🚀"}\n{"name":"\\ud800"}\n'.encode()


def test_absent_and_non_object_paths_leave_the_line_alone() -> None:
    # Given a path through a value that is not an object
    content = b'{"user": "plain", "list": [{"secret": 1}]}\n'
    # When "user.secret" and "list.secret" are masked / Then nothing changes
    assert rewritten("d/a.json", content, rule("mask", ["user.secret", "list.secret"])) == content


def test_masking_a_null_or_nested_value_replaces_it_with_the_text() -> None:
    content = b'{"email":null,"card":{"number":4111}}\n'
    output = rewritten("d/a.json", content, rule("mask", ["email", "card.number"], "***"))
    assert parsed_lines(output) == [{"email": "***", "card": {"number": "***"}}]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b'{"a":1}\n[1,2]\n', "line 2 is not a JSON object"),
        (b'{"a":1}\n{"secret-value": \n', "line 2 is not valid JSON"),
        (b'{"a":"\xff secret"}\n', "line 1 is not valid UTF-8"),
        (b'{"a":1}\n{"a":NaN}\n', "line 2 is not valid JSON"),
        (b'{"a":-Infinity}\n', "line 1 is not valid JSON"),
    ],
)
def test_a_bad_line_is_a_rewrite_error_naming_the_line_not_its_content(
    content: bytes, problem: str
) -> None:
    # Given content with one bad line / When rewritten / Then the error names the line only
    with pytest.raises(RewriteError) as raised:
        rewritten("dataset/a.jsonl", content, rule("remove", ["a"]))
    assert str(raised.value) == problem
    assert "secret" not in str(raised.value)


# A JSON number as text: up to 60 digits before and after the point, and an exponent.
JSON_NUMBERS = st.from_regex(r"\A-?(0|[1-9][0-9]{0,59})(\.[0-9]{1,60})?([eE][+-]?[0-9]{1,4})?\Z")


@settings(max_examples=150)
@given(numbers=st.lists(JSON_NUMBERS, min_size=1, max_size=6))
def test_numbers_on_a_changed_line_keep_every_digit(numbers: list[str]) -> None:
    # Given a line of numbers far more precise than a float, at the top level and in a list
    members = ",".join(f'"n{index}":{number}' for index, number in enumerate(numbers))
    content = f'{{{members},"list":[{",".join(numbers)}],"secret":"x"}}\n'.encode()
    # When "secret" is removed (the line is re-encoded)
    output = rewritten("dataset/a.jsonl", content, rule("remove", ["secret"]))
    # Then every number kept equals the input's, read as a Decimal, and keeps its text
    for number in numbers:
        assert number.encode() in output
    kept = json.loads(output, parse_float=Decimal, parse_int=Decimal)
    expected = [Decimal(number) for number in numbers]
    assert [kept[f"n{index}"] for index in range(len(numbers))] == expected
    assert (kept["list"], "secret" in kept) == (expected, False)


def test_a_number_a_float_would_change_is_written_as_it_came() -> None:
    # Given numbers a float would round or reformat, next to one it writes back unchanged
    content = (
        b'{"x":1.1234567890123456789,"big":1e9999999999999999999,"e":1.5e1,"p":1.50,'
        b'"f":0.25,"z":-0,"n":12345678901234567890123,"secret":1}\n'
    )
    # When the line is re-encoded
    output = rewritten("dataset/a.jsonl", content, rule("remove", ["secret"]))
    # Then each keeps its text
    assert output == (
        b'{"x":1.1234567890123456789,"big":1e9999999999999999999,"e":1.5e1,"p":1.50,'
        b'"f":0.25,"z":-0,"n":12345678901234567890123}\n'
    )


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity"])
def test_a_number_that_is_not_finite_fails_the_line(number: str) -> None:
    # Given a line holding a constant JSON does not have / When rewritten / Then it is refused
    content = f'{{"a":{number},"secret":1}}\n'.encode()
    with pytest.raises(RewriteError, match=r"line 1 is not valid JSON"):
        rewritten("dataset/a.jsonl", content, rule("remove", ["secret"]))


def test_a_utf8_byte_order_mark_is_accepted() -> None:
    content = b'\xef\xbb\xbf{"a":1,"b":2}\n'
    assert rewritten("d/a.jsonl", content, rule("remove", ["b"])) == b'{"a":1}\n'


@pytest.mark.parametrize(
    ("key", "kind", "gzipped"),
    [
        ("d/a.json", "jsonl", False),
        ("d/a.JSONL.GZ", "jsonl", True),
        ("d/a.ndjson.gz", "jsonl", True),
        ("d/a.csv", "csv", False),
        ("d/a.csv.gz", "csv", True),
    ],
)
def test_format_comes_from_the_key_suffix(key: str, kind: str, gzipped: bool) -> None:
    shape = object_format(key)
    assert (shape.kind, shape.gzipped) == (kind, gzipped)


@pytest.mark.parametrize("key", ["d/a.parquet", "d/a.gz", "d/a.json.zip", "d/json"])
def test_an_unknown_suffix_is_a_rewrite_error(key: str) -> None:
    with pytest.raises(RewriteError, match=r"unknown object format"):
        rewritten(key, b'{"a":1}\n', rule("remove", ["a"]))


def test_content_that_is_not_gzip_under_a_gz_key_is_a_rewrite_error() -> None:
    with pytest.raises(RewriteError, match=r"not valid gzip"):
        rewritten("d/a.jsonl.gz", b'{"a":1}\n', rule("remove", ["a"]))


def test_gzip_output_is_deterministic() -> None:
    # Given the same input twice / Then the same compressed bytes (no timestamp in the header)
    content = gzip.compress(b'{"a":1,"b":2}\n')
    by = rule("remove", ["b"])
    assert rewritten("d/a.json.gz", content, by) == rewritten("d/a.json.gz", content, by)


# --- CSV --------------------------------------------------------------------------------------


@st.composite
def csv_tables(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    header = draw(st.lists(CSV_TEXT.filter(bool), min_size=1, max_size=5, unique=True))
    rows = draw(
        st.lists(st.lists(CSV_TEXT, min_size=len(header), max_size=len(header)), max_size=6)
    )
    return header, rows


@settings(max_examples=150)
@given(table=csv_tables(), data=st.data())
def test_csv_remove_drops_the_rule_columns_and_keeps_every_other_cell(
    table: tuple[list[str], list[list[str]]], data: st.DataObject
) -> None:
    # Given a CSV whose cells hold quotes, commas and newlines, and a rule naming some columns
    header, rows = table
    fields = data.draw(st.lists(st.sampled_from(header), min_size=1, unique=True))
    # When rewritten
    output = rewritten("dataset/a.csv", csv_bytes([header, *rows]), rule("remove", fields))
    # Then those columns are gone and every other cell is as it was
    keep = [index for index, name in enumerate(header) if name not in fields]
    assert csv_rows(output) == [[row[i] for i in keep] for row in [header, *rows]]


@settings(max_examples=100)
@given(table=csv_tables(), data=st.data(), mask_with=CSV_TEXT)
def test_csv_mask_replaces_the_rule_columns_cells(
    table: tuple[list[str], list[list[str]]], data: st.DataObject, mask_with: str
) -> None:
    header, rows = table
    fields = data.draw(st.lists(st.sampled_from(header), min_size=1, unique=True))
    output = rewritten(
        "dataset/a.csv.gz",
        gzip.compress(csv_bytes([header, *rows])),
        rule("mask", fields, mask_with),
    )
    masked = [[mask_with if header[i] in fields else c for i, c in enumerate(r)] for r in rows]
    assert csv_rows(gzip.decompress(output)) == [header, *masked]


def test_csv_keeps_crlf_line_endings_and_leaves_short_rows_alone() -> None:
    # Given a CRLF CSV with a row shorter than the header and a column the rule does not name
    content = b"id,name,email\r\n1,Ada,ada@example.com\r\n2\r\n"
    # When "email" and "phone" are masked
    output = rewritten("d/a.csv", content, rule("mask", ["email", "phone"], "***"))
    # Then the short row keeps its one cell and the endings stay CRLF
    assert output == b"id,name,email\r\n1,Ada,***\r\n2\r\n"


@pytest.mark.parametrize("content", [b"", b"\n\n"])
def test_a_csv_without_a_header_row_is_a_rewrite_error(content: bytes) -> None:
    with pytest.raises(RewriteError, match=r"no header row"):
        rewritten("d/a.csv", content, rule("remove", ["a"]))


def test_a_csv_that_is_not_utf8_is_a_rewrite_error() -> None:
    with pytest.raises(RewriteError, match=r"not valid UTF-8"):
        rewritten("d/a.csv", b"a,b\n1,\xe9t\xe9\n", rule("remove", ["a"]))


def test_a_csv_with_an_unclosed_quote_is_a_rewrite_error_naming_the_line() -> None:
    with pytest.raises(RewriteError, match=r"^line \d+ is not valid CSV$"):
        rewritten("d/a.csv", b'a,b\n1,"secret\n', rule("remove", ["a"]))


def test_a_csv_cell_longer_than_pythons_default_limit_is_removed() -> None:
    # Given a 200 KB cell (Python's csv refuses over 131,072 characters by default)
    secret = "s" * 200_000
    content = f'id,blob,name\n1,"{secret}",Ada\n'.encode()
    # When its column is removed / Then the row is read and the cell is gone
    assert rewritten("d/a.csv", content, rule("remove", ["blob"])) == b"id,name\n1,Ada\n"
