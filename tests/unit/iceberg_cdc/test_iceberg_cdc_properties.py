"""Property: whatever the items and however they change, the SQL built from the stream leaves
the table equal to the DynamoDB table.

A random sequence of puts, deletes and TTL deletes runs against a simulated DynamoDB table,
which emits the stream records DynamoDB would (INSERT for a new item, MODIFY with the old
image, REMOVE only for an item that exists). The records, cut into random batches, go through
the function's applier; its statements run on DuckDB (transpiled from Trino by sqlglot, as the
local Athena does) against a table created from the Glue column types, and each must parse with
sqlglot's "trino" and "athena" dialects. Values are hostile on purpose: quotes, backslashes,
newlines, NUL, ``'; DROP TABLE``, unicode, numbers at the edge of their column's range, nested
maps, lists and sets.
"""

import base64
import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from iceberg_cdc_fakes import DEMO_COLUMNS, StreamWriter, harness

from tests.hostile_values import HOSTILE

EXTRA_COLUMNS = (
    ("big", "decimal(38,6)"),
    ("score", "double"),
    ("counts", "map<string,bigint>"),
    ("dims", "array<decimal(38,6)>"),
    ("meta", "struct<name:string,nums:array<bigint>>"),
)
COLUMNS = DEMO_COLUMNS + EXTRA_COLUMNS
EPOCH = datetime(1970, 1, 1)
INT64 = st.integers(-(2**63), 2**63 - 1)

texts = st.lists(
    st.one_of(st.sampled_from(HOSTILE), st.text(st.characters(codec="utf-8"), max_size=5)),
    max_size=4,
).map("".join)
names = texts.filter(bool)
keys = st.sampled_from(["k1", "k'2", "k\\3", "k\n4", "'; DROP TABLE orders; --", "é😀", "k\x007"])
# Decimal(f"{n}E-2"), not scaleb: scaleb rounds to the context's 28 digits.
amounts = st.integers(-(10**12) + 1, 10**12 - 1).map(lambda n: Decimal(f"{n}E-2"))
bigs = st.integers(-(10**38) + 1, 10**38 - 1).map(lambda n: Decimal(f"{n}E-6"))
numbers = st.integers(-(10**20), 10**20).map(Decimal) | st.decimals(
    min_value=-(10**6), max_value=10**6, places=4
)
doubles = st.floats(min_value=-1e100, max_value=1e100).filter(lambda f: f == 0 or abs(f) > 1e-100)
leaves = st.one_of(
    texts,
    numbers,
    st.booleans(),
    st.none(),
    st.binary(max_size=6),
    st.frozensets(texts, min_size=1, max_size=3),
    st.frozensets(numbers, min_size=1, max_size=3),
)
nested = st.recursive(
    leaves,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(names, children, max_size=3),
    max_leaves=8,
)
moments = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1))


@st.composite
def timestamps(draw: st.DrawFn) -> tuple[Any, datetime]:
    """(the DynamoDB value, the timestamp the table must hold): ISO text with Z or an offset,
    or epoch millis."""
    moment = draw(moments)
    form = draw(st.sampled_from(["z", "offset", "millis"]))
    if form == "z":
        return moment.isoformat() + "Z", moment
    if form == "offset":
        offset = timezone(timedelta(minutes=draw(st.integers(-12 * 60, 14 * 60))))
        return moment.replace(tzinfo=UTC).astimezone(offset).isoformat(), moment
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    delta = moment - EPOCH
    millis = delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000
    return Decimal(millis), moment


# Each attribute: (the DynamoDB value, the value the table must hold).
OPTIONAL = {
    "customer_id": st.one_of(texts, st.none()).map(lambda v: (v, v)),
    "status": texts.map(lambda v: (v, v)),
    "amount": amounts.map(lambda v: (v, v)),
    "quantity": INT64.map(lambda v: (v, v)),
    "is_gift": st.booleans().map(lambda v: (v, v)),
    "tags": st.one_of(
        st.frozensets(texts, min_size=1, max_size=4).map(lambda v: (v, sorted(v))),
        st.lists(st.one_of(texts, st.none()), max_size=4).map(lambda v: (v, v)),
    ),
    "attributes": st.dictionaries(names, st.one_of(texts, st.none()), max_size=4).map(
        lambda v: (v, v)
    ),
    "shipping_address": st.fixed_dictionaries(
        {}, optional={"street": texts, "city": texts, "postcode": texts, "country": texts}
    ).map(lambda v: (v, {f: v.get(f) for f in ("street", "city", "postcode")})),
    "line_items": st.lists(st.dictionaries(names, nested, max_size=3), max_size=3).map(
        lambda v: (v, v)
    ),
    "signature": st.binary(max_size=16).map(lambda v: (v, v)),
    "order_date": st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 1, 1)).map(
        lambda v: (v.isoformat(), v)
    ),
    "updated_at": timestamps(),
    "expires_at": INT64.map(lambda v: (v, v)),
    "big": bigs.map(lambda v: (v, v)),
    "score": doubles.map(lambda v: (Decimal(repr(v)), v)),
    "counts": st.dictionaries(names, INT64, max_size=3).map(lambda v: (v, v)),
    "dims": st.one_of(
        st.frozensets(bigs, min_size=1, max_size=3).map(lambda v: (v, sorted(v))),
        st.lists(bigs, max_size=3).map(lambda v: (v, v)),
    ),
    "meta": st.fixed_dictionaries(
        {}, optional={"name": texts, "nums": st.lists(INT64, max_size=3)}
    ).map(lambda v: (v, {"name": v.get("name"), "nums": v.get("nums")})),
    "not_a_column": texts.map(lambda v: (v, None)),
}


@st.composite
def items(draw: st.DrawFn, key: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the DynamoDB item, the row the table must hold for it)."""
    drawn = draw(st.fixed_dictionaries({}, optional=OPTIONAL))
    item = {"order_id": key} | {name: value for name, (value, _) in drawn.items()}
    row: dict[str, Any] = {name: None for name, _ in COLUMNS}
    row |= {name: expected for name, (_, expected) in drawn.items() if name in row}
    row["order_id"] = key
    return item, row


@st.composite
def operations(draw: st.DrawFn) -> list[tuple[str, str, Any]]:
    count = draw(st.integers(1, 14))
    ops: list[tuple[str, str, Any]] = []
    for _ in range(count):
        key = draw(keys)
        kind = draw(st.sampled_from(["put", "put", "put", "delete", "ttl"]))
        ops.append((kind, key, draw(items(key)) if kind == "put" else None))
    return ops


def tagged(value: Any) -> Any:  # noqa: PLR0911 - one return per JSON kind
    """A JSON value with its kind kept (so true never equals 1), numbers compared by value."""
    match value:
        case bool():
            return ("bool", value)
        case None:
            return ("null",)
        case str():
            return ("str", value)
        case Decimal():
            return ("num", value)
        case int():
            return ("num", Decimal(value))
        case bytes():
            return ("str", base64.b64encode(value).decode())
        case dict():
            return ("map", {name: tagged(member) for name, member in value.items()})
        case list():
            return ("list", [tagged(member) for member in value])
        case frozenset():
            return ("list", [tagged(member) for member in sorted(value)])
    raise TypeError(type(value))


def comparable(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    if out.get("line_items") is not None:
        text = out["line_items"]
        if isinstance(text, str):
            out["line_items"] = tagged(json.loads(text, parse_float=Decimal, parse_int=Decimal))
        else:
            out["line_items"] = tagged(text)
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ops=operations(),
    cuts=st.lists(st.integers(1, 12), min_size=1, max_size=2),
    small_statements=st.booleans(),
)
def test_stream_applied_as_sql_leaves_the_table_equal_to_dynamodb(
    ops: list[tuple[str, str, Any]], cuts: list[int], small_statements: bool
) -> None:
    # Given a DynamoDB table changed by random operations, and the records its stream emits
    writer = StreamWriter()
    dynamodb: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    records: list[dict[str, Any]] = []
    for kind, key, drawn in ops:
        old = dynamodb.get(key)
        if kind == "put":
            item, row = drawn
            records.append(writer.modify(item, old[0]) if old else writer.insert(item))
            dynamodb[key] = (item, row)
        elif old is not None:
            records.append(writer.remove(old[0], ttl=kind == "ttl"))
            del dynamodb[key]
    cdc = harness(COLUMNS, max_query_bytes=12_000 if small_statements else 262_144)

    # When the records are applied in consecutive batches of random sizes
    start = 0
    for size in [*cuts, len(records)]:
        report = cdc.apply(records[start : start + size])
        # Then no record fails (every value fits its column)
        assert report.failures == {}
        start += size
        if start >= len(records):
            break

    # Then the table holds exactly the items DynamoDB holds, value for value
    actual = {key: comparable(row) for key, row in cdc.warehouse.rows().items()}
    expected = {key: comparable(row) for key, (_, row) in dynamodb.items()}
    assert actual == expected
    # And every statement run parsed as Trino and as Athena SQL (checked by the fake Athena)
    assert cdc.athena.succeeded == cdc.athena.started
