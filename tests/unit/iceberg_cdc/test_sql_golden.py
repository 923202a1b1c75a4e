"""The SQL the applier starts for fixed batches, byte for byte as recorded in ``golden/``.

The other tests say what a statement must do; these pin what it *is*, so that work on the
path from the raw event to the statements (speed, refactoring) cannot change one byte of them
unnoticed. Each scenario is a deterministic batch run through the real applier over the
harness's fakes (an Athena running every statement on DuckDB); its golden file holds every
statement started, in order, and the records reported as failed with their reasons.

The files were recorded from the code before the SQL build was optimised (issue 19). When a
change to the SQL is intended, record them again and review the diff::

    ICEBERG_CDC_GOLDEN=record .venv/bin/python -m pytest tests/unit/iceberg_cdc/test_sql_golden.py
"""

import json
import os
import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from iceberg_cdc_fakes import DEMO_COLUMNS, StreamWriter, harness, order

from iceberg_cdc.changes import TtlPolicy
from iceberg_cdc.service import UnknownAttributePolicy

GOLDEN = Path(__file__).parent / "golden"
RECORD = os.environ.get("ICEBERG_CDC_GOLDEN") == "record"

# A table with a column of every type the function writes, two key columns, a column whose
# name needs quoting and one named like the synthetic operation column.
RICH_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "string"),
    ("part", "int"),
    ("note", "string"),
    ("code", "varchar(40)"),
    ("grade", "char(3)"),
    ("tiny", "tinyint"),
    ("small", "smallint"),
    ("count", "int"),
    ("big", "bigint"),
    ("ratio", "float"),
    ("score", "double"),
    ("price", "decimal(12,2)"),
    ("exact", "decimal(38,9)"),
    ("flag", "boolean"),
    ("day", "date"),
    ("at", "timestamp"),
    ("blob", "binary"),
    ("tags", "array<string>"),
    ("amounts", "array<decimal(10,2)>"),
    ("blobs", "array<binary>"),
    ("labels", "map<string,string>"),
    ("totals", "map<string,bigint>"),
    ("by_rank", "map<int,string>"),
    ("address", "struct<street:string,city:string,zip:string>"),
    ("lines", "array<struct<sku:string,qty:int,price:decimal(8,2)>>"),
    (
        "profile",
        "struct<name:string,tags:array<string>,inner:struct<level:int,weights:map<string,double>>>",
    ),
    ("doc", "string"),
    ('odd "name"', "string"),
    ("__cdc_op", "string"),
)
RICH_KEYS = ("id", "part")

# Text that must stay inside its literal: quotes, backslashes, line breaks, NUL, controls,
# unicode (astral, right-to-left override), SQL, nothing at all.
HOSTILE_TEXT = (
    "it's",
    "back\\slash\\",
    "\\'",
    "line\nbreak\r\n",
    "nul\x00in\x00side",
    "\x00",
    "tab\tand\x1fcontrol",
    "Ωmega 中文 😀 \u202e",
    "'; DROP TABLE orders; --",
    '"double" quotes',
    "",
)
TIMESTAMPS: tuple[Any, ...] = (
    "2026-11-20T10:15:30.123456Z",
    "2026-11-20T10:15:30+02:00",
    " 2026-11-20 10:15:30 ",
    "2026-02-28T23:59:59.999999-05:30",
    1795170930123,
    Decimal("1795170930123.456"),
    None,
)
# DynamoDB values a string column turns into text (maps and lists as canonical JSON).
DOCUMENTS: tuple[Any, ...] = (
    {"b": [1, Decimal("2.50"), 'x"y\\z'], "a": {"nested": True, "none": None}},
    [Decimal("1E+3"), "line\nbreak", b"\x00\xff", {"k": "v"}],
    {"one", "two", "three"},
    {Decimal("3.14"), Decimal(-1)},
    {b"\x01", b"\x02\x03"},
    Decimal("-0.000123"),
    b"\xde\xad\xbe\xef",
    True,
    "plain text",
    None,
)


def rich_item(n: int, rng: random.Random) -> dict[str, Any]:
    """An item of the rich table: every column, its DynamoDB type varying with ``n``."""
    text = HOSTILE_TEXT[n % len(HOSTILE_TEXT)]
    item: dict[str, Any] = {
        "id": f"item-{n:04d}",
        "part": n % 3,
        "note": f"{text} #{n}",
        "code": f"C-{rng.randint(0, 10**9)}",
        "grade": rng.choice(["A+", "B", "C-", "ÅÅÅ"]),
        "tiny": rng.choice([-128, 127, 0, "42", " 7 "]),
        "small": rng.randint(-(2**15), 2**15 - 1),
        "count": rng.choice([rng.randint(-(2**31), 2**31 - 1), Decimal("1E+3")]),
        "big": rng.choice([2**63 - 1, -(2**63), rng.randint(0, 10**12)]),
        "ratio": rng.choice([Decimal("1.5"), Decimal("0.1"), Decimal("3.4028234663852886E38")]),
        "score": rng.choice([Decimal("1E-130"), Decimal("123456789.123456789"), "2.5e10"]),
        "price": rng.choice([Decimal("19.9"), Decimal("-0.01"), Decimal("1E+3"), " 42.5 "]),
        "exact": Decimal(f"{rng.randint(0, 10**20)}.{rng.randint(0, 10**9 - 1):09d}"),
        "flag": rng.choice([True, False, "TRUE", " false "]),
        "day": rng.choice(["2026-11-20", " 2026-02-28 ", "1970-01-01"]),
        "at": TIMESTAMPS[n % len(TIMESTAMPS)],
        "blob": bytes(rng.randrange(256) for _ in range(rng.randint(0, 12))),
        "tags": rng.choice([{"web", "mobile", "it's"}, ["b", "a", "b"], []]),
        "amounts": rng.choice([{Decimal("1.5"), Decimal(2)}, [Decimal("0.10"), Decimal("-3")]]),
        "blobs": {b"\x00", bytes([n % 256, 7])},
        "labels": {"channel": text, "it's": "ok", "none": None},
        "totals": {"a": n, "b": Decimal("1E+2"), "c": "12"},
        "by_rank": {"1": "gold", " 2 ": "silver", "10": text},
        "address": rng.choice(
            [
                {"Street": f"{n} Main St", "city": "Springfield", "country": "US"},
                {"street": "1 Elm", "STREET": "shadowed", "zip": "01234", "city": None},
            ]
        ),
        "lines": [
            {"sku": f"SKU-{rng.randint(1, 500):03d}", "qty": rng.randint(1, 9), "price": "9.99"}
            for _ in range(rng.randint(0, 3))
        ],
        "profile": {
            "name": text,
            "tags": ["x", text],
            "inner": {"level": n, "weights": {"w": Decimal("0.25"), "z": None}},
        },
        "doc": DOCUMENTS[n % len(DOCUMENTS)],
        'odd "name"': f"odd {n}",
        "__cdc_op": "delete",  # a real column: the operation column gets another name
        "unknown_attribute": "ignored and reported",
    }
    if n % 4 == 0:
        item["NOTE"] = "the exact name wins over this one"
    if n % 5 == 0:
        for name in ("code", "ratio", "day", "labels", "address", "lines"):
            item[name] = None  # NULL
    if n % 7 == 0:
        for name in ("grade", "score", "blob", "profile"):
            del item[name]  # absent
    return item


def rich_batch(writer: StreamWriter, keys: int, seed: int) -> list[dict[str, Any]]:
    """Inserts, then modifies, removes and re-inserts of the same keys, a TTL removal, a key
    whose value cannot be converted and records that cannot be read (superseded or final)."""
    rng = random.Random(seed)
    items = [rich_item(n, rng) for n in range(keys)]
    records = [writer.insert(item) for item in items]
    for n in range(0, keys, 3):  # modified, some twice
        items[n] = {**rich_item(n + keys, rng), "id": items[n]["id"], "part": items[n]["part"]}
        records.append(writer.modify(items[n]))
        if n % 2 == 0:
            records.append(writer.modify({**items[n], "note": f"again {n}"}))
    for n in range(1, keys, 5):
        records.append(writer.remove(items[n]))
    for n in range(1, keys, 10):  # removed, then inserted again
        records.append(writer.insert({**items[n], "note": "back"}))
    records.append(writer.remove(items[2], ttl=True))
    records.append(writer.modify({**items[4], "tiny": 300}))  # out of range: the key fails
    unreadable = writer.modify(items[5])
    unreadable["dynamodb"]["NewImage"]["small"] = {"N": "not a number"}
    superseded = writer.modify(items[6])
    superseded["dynamodb"]["NewImage"]["blob"] = {"B": "not base64!"}
    records += [unreadable, superseded, writer.modify(items[6])]
    return records


def order_batch(writer: StreamWriter, keys: int, seed: int) -> list[dict[str, Any]]:
    """Demo orders: inserts, modifies of earlier orders, removes (the benchmark's mix)."""
    rng = random.Random(seed)
    records: list[dict[str, Any]] = []
    live: list[str] = []
    for n in range(keys):
        roll = rng.random()
        if live and roll < 0.05:
            records.append(writer.remove(order(live.pop(rng.randrange(len(live))))))
            continue
        order_id = rng.choice(live) if live and roll < 0.3 else f"ord-{n:06d}"
        if order_id not in live:
            live.append(order_id)
        fields = {
            "status": rng.choice(["placed", "paid", "shipped"]),
            "amount": Decimal(rng.randint(100, 99_999)).scaleb(-2),
            "quantity": rng.randint(1, 9),
            "customer_id": f"cust-{rng.randint(1, 5000):05d}",
            "updated_at": f"2026-11-20T10:{rng.randint(0, 59):02d}:30.123456Z",
        }
        write = writer.modify if roll < 0.3 else writer.insert
        records.append(write(order(order_id, **fields)))
    return records


# ------------------------------------------------------------------------------ scenarios


@dataclass(frozen=True)
class Run:
    statements: list[str]
    failures: dict[str, str]


def run_rich_types() -> Run:
    cdc = harness(RICH_COLUMNS, key_columns=RICH_KEYS)
    report = cdc.apply(rich_batch(StreamWriter(keys=RICH_KEYS), keys=40, seed=19))
    return Run(cdc.athena.started, report.failures)


def run_rich_types_split() -> Run:
    """The same kind of batch packed under a smaller query limit: several statements."""
    cdc = harness(RICH_COLUMNS, key_columns=RICH_KEYS, max_query_bytes=12_000)
    report = cdc.apply(rich_batch(StreamWriter(keys=RICH_KEYS), keys=40, seed=2))
    return Run(cdc.athena.started, report.failures)


def run_orders_split() -> Run:
    """Enough orders for their rows to fill more than one statement at Athena's query limit."""
    cdc = harness()
    report = cdc.apply(order_batch(StreamWriter(), keys=1300, seed=7))
    return Run(cdc.athena.started, report.failures)


def run_schema_evolution() -> Run:
    """UNKNOWN_ATTRIBUTES=add: new attributes of every DynamoDB type become columns."""
    cdc = harness(unknown_attributes=UnknownAttributePolicy.ADD)
    writer = StreamWriter()
    new_attributes: dict[str, Any] = {
        "loyalty_tier": "gold's",
        "Points": Decimal("12.5"),
        "avatar": b"\x89PNG",
        "vip": True,
        "regions": {"eu", "us"},
        "scores": {Decimal(1), Decimal("2.25")},
        "keys": {b"\x01\x02"},
        "prefs": {"lang": "fr", "emails": False},
        "history": ["a", Decimal(2)],
        "ghost": None,
        "gift note": "not a plain name",
    }
    records = [
        writer.insert(order("A", **new_attributes)),
        writer.insert(order("B", points="not a number", ghost=None)),
        writer.modify(order("C", POINTS=Decimal(3), vip=None)),
        writer.remove(order("D")),
    ]
    report = cdc.apply(records)
    return Run(cdc.athena.started, report.failures)


def run_bisection() -> Run:
    """Athena rejects the statements holding one key's value: bisected down to that key."""
    cdc = harness(max_query_bytes=4000)
    cdc.athena.poison = ("POISON",)
    writer = StreamWriter()
    records = [writer.insert(order(f"o-{n:02d}", status=f"s{n}")) for n in range(12)]
    records[5] = writer.insert(order("o-05", status="POISON"))
    report = cdc.apply(records)
    return Run(cdc.athena.started, report.failures)


def run_ttl_ignored() -> Run:
    """TTL_DELETES=ignore and two key attributes: TTL removals never reach the SQL."""
    keys = ("order_id", "customer_id")
    cdc = harness(ttl_policy=TtlPolicy.IGNORE, key_columns=keys)
    writer = StreamWriter(keys=keys)
    records = [
        writer.insert(order("A")),
        writer.insert(order("B", customer_id="cust-7")),
        writer.remove(order("A"), ttl=True),
        writer.remove(order("B", customer_id="cust-7")),
        writer.modify(order("A", status="paid")),
        writer.remove(order("C"), ttl=True),
    ]
    report = cdc.apply(records)
    return Run(cdc.athena.started, report.failures)


SCENARIOS: dict[str, Callable[[], Run]] = {
    "rich_types": run_rich_types,
    "rich_types_split": run_rich_types_split,
    "orders_split": run_orders_split,
    "schema_evolution": run_schema_evolution,
    "bisection": run_bisection,
    "ttl_ignored": run_ttl_ignored,
}


def golden(name: str, run: Run) -> dict[str, Any]:
    """The scenario's golden file (written first when recording)."""
    path = GOLDEN / f"{name}.json"
    if RECORD:
        recorded = {"statements": run.statements, "failures": run.failures}
        # ASCII only (non-ASCII escaped): no editor or hook can change a byte of the SQL.
        path.write_text(json.dumps(recorded, indent=1, ensure_ascii=True) + "\n", "ascii")
    loaded: dict[str, Any] = json.loads(path.read_text("ascii"))
    return loaded


@pytest.fixture(scope="module")
def runs() -> dict[str, Run]:
    """Each scenario run once for the module's tests (the large ones take a while)."""
    return {name: scenario() for name, scenario in SCENARIOS.items()}


@pytest.mark.parametrize("name", SCENARIOS)
def test_statements_are_byte_for_byte_the_golden_ones(name: str, runs: dict[str, Run]) -> None:
    # Given a fixed batch / When the applier writes it
    run = runs[name]
    # Then every statement it starts is, byte for byte, the recorded one
    expected = [sql.encode("utf-8") for sql in golden(name, run)["statements"]]
    assert [sql.encode("utf-8") for sql in run.statements] == expected


@pytest.mark.parametrize("name", SCENARIOS)
def test_records_reported_are_the_golden_ones(name: str, runs: dict[str, Run]) -> None:
    # Given a fixed batch / When the applier writes it
    run = runs[name]
    # Then the same records are reported, for the same reasons
    assert run.failures == golden(name, run)["failures"]


def test_the_split_scenarios_need_more_than_one_statement(runs: dict[str, Run]) -> None:
    # Given the batches meant to exceed Athena's query limit / Then each took 2+ MERGEs
    for name in ("rich_types_split", "orders_split"):
        merges = [sql for sql in runs[name].statements if sql.startswith("MERGE")]
        assert len(merges) >= 2, name


def test_the_rich_table_covers_every_column_type() -> None:
    # Given the golden table / Then it has a column of every Glue type the function writes
    names = {glue.split("(")[0].split("<")[0] for _, glue in RICH_COLUMNS}
    scalars = {"string", "varchar", "char", "tinyint", "smallint", "int", "bigint", "float"}
    scalars |= {"double", "decimal", "boolean", "date", "timestamp", "binary"}
    assert names >= scalars | {"array", "map", "struct"}
    assert DEMO_COLUMNS  # the demo table serves the other scenarios
