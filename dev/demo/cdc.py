"""Demo section: items written, updated, deleted and expired (TTL) in the DynamoDB source table
→ stream → iceberg_cdc → one Athena MERGE per batch → the lake's Iceberg "orders" table (DuckDB
locally), then the nightly OPTIMIZE / VACUUM run; then three more DynamoDB tables of different
schemas added by configuration alone (``cdc_tables``), each applied to its own Iceberg table.
The three tables' definitions, config and writes are shared with
tests/integration/test_cdc_many_tables.py."""

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from datalake_shared.cdc_streams import table_of_stream
from datalake_shared.pipeline_config import parse_pipeline_config
from dev.demo.support import athena_rows
from dev.paths import ROOT
from local_runtime.bridges.dynamodb_backend import DYNAMODB_LOCAL
from local_runtime.report import table

if TYPE_CHECKING:
    from local_runtime.runtime import LocalRuntime

HOSTILE = "O'Brien \\ \"quoted\"\n'; DROP TABLE orders; --"


def _order(order_id: str, status: str, amount: str, **extra: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "order_id": {"S": order_id},
        "customer_id": {"S": "c-42"},
        "status": {"S": status},
        "amount": {"N": amount},
        "quantity": {"N": "2"},
        "is_gift": {"BOOL": False},
        "order_date": {"S": "2026-11-23"},
        "updated_at": {"S": "2026-11-23T10:15:30.123456Z"},
    }
    item.update(extra)
    return item


def source_writes(now: float) -> list[tuple[str, dict[str, Any]]]:
    """(what, PutItem/DeleteItem key) in the order they happen."""
    nested = {
        "tags": {"SS": ["gift-wrap", "express"]},
        "attributes": {"M": {"channel": {"S": "web"}, "coupon": {"S": "NOV-10"}}},
        "shipping_address": {
            "M": {"street": {"S": "1 Main St"}, "city": {"S": "Zürich"}, "postcode": {"S": "8001"}}
        },
        "line_items": {
            "L": [{"M": {"sku": {"S": "sku-1"}, "qty": {"N": "1"}, "price": {"N": "19.99"}}}]
        },
        "signature": {"B": b"\x00\x01signed"},
    }
    return [
        ("put", _order("o-1001", "open", "129.90", **nested)),
        ("put", _order("o-1002", "open", "15.00", customer_id={"S": HOSTILE})),
        ("put", _order("o-1003", "open", "80.00", expires_at={"N": str(int(now) - 60)})),
        ("put", _order("o-1004", "open", "49.99")),
        ("update", _order("o-1002", "shipped", "15.00", customer_id={"S": HOSTILE})),
        ("delete", {"order_id": {"S": "o-1004"}}),
    ]


# ---------------------------------------------------------------------- three CDC tables
EXAMPLE_CONFIG = ROOT / "config" / "pipeline.yaml"


@dataclass(frozen=True)
class CdcSource:
    """A DynamoDB table of the demo and the cdc_tables entry that applies it."""

    table: str  # DynamoDB name, inside the stack's CdcSourceTablePattern (cdc-*)
    keys: tuple[tuple[str, Literal["S", "N"]], ...]  # (attribute, type), hash first
    entry: dict[str, Any]
    query: str  # the Iceberg table's rows, as the tests compare them


CDC_SOURCES: tuple[CdcSource, ...] = (
    # A hash-only string key; an array column; TTL expiries kept in the lake.
    CdcSource(
        "cdc-customers",
        (("customer_id", "S"),),
        {
            "source_table": "cdc-customers",
            "target_table": "customers",
            "key_columns": ["customer_id"],
            "ttl_deletes": "ignore",
            "columns": [
                {"name": "customer_id", "type": "string"},
                {"name": "full_name", "type": "string"},
                {"name": "tags", "type": "array<string>"},
                {"name": "signed_up", "type": "date"},
            ],
        },
        "SELECT customer_id, full_name, tags, signed_up FROM customers ORDER BY customer_id",
    ),
    # Hash and range keys, both numbers; decimal and boolean columns.
    CdcSource(
        "cdc-readings",
        (("device_id", "N"), ("reading_ts", "N")),
        {
            "source_table": "cdc-readings",
            "target_table": "device_readings",
            "key_columns": ["device_id", "reading_ts"],
            "columns": [
                {"name": "device_id", "type": "bigint"},
                {"name": "reading_ts", "type": "bigint"},
                {"name": "celsius", "type": "decimal(6,2)"},
                {"name": "ok", "type": "boolean"},
            ],
        },
        "SELECT device_id, reading_ts, celsius, ok FROM device_readings "
        "ORDER BY device_id, reading_ts",
    ),
    # A map, a struct and a list (as JSON text); new attributes become columns.
    CdcSource(
        "cdc-carts",
        (("cart_id", "S"),),
        {
            "source_table": "cdc-carts",
            "target_table": "carts",
            "key_columns": ["cart_id"],
            "unknown_attributes": "add",
            "columns": [
                {"name": "cart_id", "type": "string"},
                {"name": "labels", "type": "map<string,string>"},
                {"name": "address", "type": "struct<street:string,city:string>"},
                {"name": "items", "type": "string"},
                {"name": "total", "type": "double"},
            ],
        },
        "SELECT cart_id, labels['channel'] AS channel, address.city AS city, items, total "
        "FROM carts ORDER BY cart_id",
    ),
)


def create_cdc_sources(runtime: "LocalRuntime") -> None:
    """The three DynamoDB tables, with streams of new and old images (as a team's would be)."""
    for source in CDC_SOURCES:
        runtime.dynamodb.create_table(
            TableName=source.table,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": t} for n, t in source.keys],
            KeySchema=[
                {"AttributeName": name, "KeyType": "HASH" if index == 0 else "RANGE"}
                for index, (name, _) in enumerate(source.keys)
            ],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )


def cdc_tables_config(*, inactive: tuple[str, ...] = ()) -> dict[str, Any]:
    """A config file naming the three tables (the example config's batches, which a file
    needs); ``inactive`` source tables get ``active: false``."""
    example = parse_pipeline_config(EXAMPLE_CONFIG.read_text(), EXAMPLE_CONFIG.name)
    batches = example.model_dump(mode="json")["batches"]
    entries = [
        {**source.entry, **({"active": False} if source.table in inactive else {})}
        for source in CDC_SOURCES
    ]
    return {"batches": batches, "cdc_tables": entries}


def upload_cdc_config(runtime: "LocalRuntime", config: dict[str, Any]) -> None:
    """Uploaded under the config prefix, as a team would: the config loader applies it."""
    runtime.s3.put_object(
        Bucket=runtime.outputs["ConfigBucketName"],
        Key="config/cdc-tables.json",
        Body=json.dumps(config).encode(),
    )
    runtime.settle()


def _n(value: str) -> dict[str, str]:
    return {"N": value}


def _s(value: str) -> dict[str, str]:
    return {"S": value}


CDC_WRITES: tuple[tuple[str, str, dict[str, Any]], ...] = (
    # (DynamoDB table, put | delete, item or key), in the order they happen
    (
        "cdc-customers",
        "put",
        {
            "customer_id": _s("c-1"),
            "full_name": _s("Ada"),
            "tags": {"SS": ["vip"]},
            "signed_up": _s("2026-01-05"),
        },
    ),
    (
        "cdc-customers",
        "put",
        {"customer_id": _s("c-2"), "full_name": _s("Bob"), "signed_up": _s("2026-02-01")},
    ),
    (
        "cdc-customers",
        "put",
        {"customer_id": _s("c-3"), "full_name": _s("Cy"), "signed_up": _s("2026-03-09")},
    ),
    (
        "cdc-customers",
        "put",
        {"customer_id": _s("c-2"), "full_name": _s("Bob O'Hara"), "signed_up": _s("2026-02-01")},
    ),
    ("cdc-customers", "delete", {"customer_id": _s("c-3")}),
    (
        "cdc-readings",
        "put",
        {
            "device_id": _n("1"),
            "reading_ts": _n("100"),
            "celsius": _n("21.5"),
            "ok": {"BOOL": True},
        },
    ),
    (
        "cdc-readings",
        "put",
        {"device_id": _n("1"), "reading_ts": _n("200"), "celsius": _n("22"), "ok": {"BOOL": True}},
    ),
    (
        "cdc-readings",
        "put",
        {
            "device_id": _n("2"),
            "reading_ts": _n("100"),
            "celsius": _n("-4.25"),
            "ok": {"BOOL": False},
        },
    ),
    (
        "cdc-readings",
        "put",
        {
            "device_id": _n("1"),
            "reading_ts": _n("200"),
            "celsius": _n("23.75"),
            "ok": {"BOOL": False},
        },
    ),
    ("cdc-readings", "delete", {"device_id": _n("2"), "reading_ts": _n("100")}),
    (
        "cdc-carts",
        "put",
        {
            "cart_id": _s("k-1"),
            "labels": {"M": {"channel": _s("web")}},
            "address": {"M": {"street": _s("1 Main St"), "city": _s("Bern")}},
            "items": {"L": [{"M": {"sku": _s("s-1"), "qty": _n("2")}}]},
            "total": _n("19.5"),
        },
    ),
    ("cdc-carts", "put", {"cart_id": _s("k-2"), "total": _n("5")}),
    (
        "cdc-carts",
        "put",
        {
            "cart_id": _s("k-1"),
            "labels": {"M": {"channel": _s("app")}},
            "address": {"M": {"street": _s("1 Main St"), "city": _s("Basel")}},
            "items": {"L": []},
            "total": _n("0"),
            "coupon": _s("NOV"),
        },
    ),
    ("cdc-carts", "delete", {"cart_id": _s("k-2")}),
)


def write_cdc_sources(runtime: "LocalRuntime") -> None:
    for table_name, action, item in CDC_WRITES:
        if action == "delete":
            runtime.dynamodb.delete_item(TableName=table_name, Key=item)
        else:
            runtime.dynamodb.put_item(TableName=table_name, Item=item)
    runtime.settle()


def run_many_tables(runtime: "LocalRuntime") -> None:
    """Three DynamoDB tables added by a config upload, no template change."""
    if runtime.dynamodb_backend.name == DYNAMODB_LOCAL:
        # moto's Lambda API maps only moto's own streams; tables made after the deploy live on
        # DynamoDB Local alone (the integration tier covers them on moto).
        print("\n   Three more CDC tables: skipped on DynamoDB Local (run `make demo` on moto)")
        return
    create_cdc_sources(runtime)
    upload_cdc_config(runtime, cdc_tables_config())
    write_cdc_sources(runtime)
    tables = {source.table for source in CDC_SOURCES}
    listed = runtime.client("lambda").list_event_source_mappings()["EventSourceMappings"]
    mappings = [m for m in listed if table_of_stream(m["EventSourceArn"]) in tables]
    print(
        f"\n   Three more DynamoDB tables, added by configuration (cdc_tables): "
        f"{len(CDC_WRITES)} writes → {len(mappings)} stream mapping(s) of the one iceberg_cdc "
        "function → a created Iceberg table each:"
    )
    for source in CDC_SOURCES:
        headers, rows = athena_rows(runtime, source.query)
        print(f"   {source.table} → {source.entry['target_table']}")
        print(table(headers, [[cell[:40] for cell in row] for row in rows]))


def run(runtime: "LocalRuntime") -> None:
    dynamodb = runtime.dynamodb
    source = runtime.outputs["CdcSourceTableName"]
    now = time.time()
    writes = source_writes(now)
    for action, item in writes:
        if action == "delete":
            dynamodb.delete_item(TableName=source, Key=item)
        else:
            dynamodb.put_item(TableName=source, Item=item)
    runtime.settle()
    expired = runtime.streams_bridge.expire_items("CdcSourceTable", now)
    runtime.settle()

    invocations = [i for i in runtime.invocations if "IcebergCdc" in i.function]
    merges = [
        q for q in runtime.athena_bridge.queries if q.sql.lstrip().upper().startswith("MERGE")
    ]
    print(
        f"\n3. DynamoDB → Iceberg: {len(writes)} writes and {expired} TTL expiry in the source "
        f"table → {len(invocations)} iceberg_cdc invocation(s) → {len(merges)} MERGE statement(s):"
    )
    headers, rows = athena_rows(
        runtime,
        "SELECT order_id, status, amount, customer_id, tags, shipping_address.city AS city,"
        " line_items FROM orders ORDER BY order_id",
    )
    shown = [[cell.replace("\n", "⏎")[:40] for cell in row] for row in rows]
    print(table(headers, shown))
    print(
        "   o-1003 expired (TTL) and o-1004 was deleted; the hostile customer_id is data, not SQL."
    )

    arn = runtime.fire_schedule("IcebergMaintenanceStateMachineNightly")
    runtime.settle()
    execution = runtime.stepfunctions_bridge.describe(arn)
    maintenance = [
        q.sql.split(" REWRITE")[0]
        for q in runtime.athena_bridge.queries
        if q.sql.startswith(("OPTIMIZE", "VACUUM"))
    ]
    print(f"   Nightly maintenance ({execution['status']}): {'; '.join(maintenance)}")
    run_many_tables(runtime)
