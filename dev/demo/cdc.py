"""Demo section: items written, updated, deleted and expired (TTL) in the DynamoDB source table
→ stream → iceberg_cdc → one Athena MERGE per batch → the lake's Iceberg "orders" table (DuckDB
locally), then the nightly OPTIMIZE / VACUUM run."""

import time
from typing import TYPE_CHECKING, Any

from dev.demo.support import athena_rows
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
