"""batch_planner: planning a cadence of 3,000 tables, next to the naive one-query-per-table lookup.

The scene: 3,000 active tables in one cadence, each with 10 pending files (30,000 pending items
in the file tracker), batches of 25 tables.

- ``batch_planner.plan_ms_3000_tables``: median ms of ``app.lambda_handler`` (input parsing,
  planning, rendering the output and its size check, Powertools logging and metrics) with a
  ``BatchPlanner`` whose pending lookup is the real ``DynamoPendingTables`` over an in-memory
  DynamoDB client. The client answers a Query like DynamoDB: items in sort-key order, pages cut
  when the items read (whole index items, whatever the projection) pass 1 MB, then only the
  projected attributes returned. Configs come from an in-memory source (the same for both
  sides). Batches name their tables, so the plan of 3,000 tables passes the planner's 256 KiB
  Step Functions check like any real run.
  Baseline, same run, same handler, same fake: the source post's approach, one Query per
  configured table (3,000 Queries, each returning that table's 10 files).
- ``batch_planner.queries_3000_tables``: DynamoDB calls made by one planning, counted on the
  fake client. Baseline: the naive lookup's calls, counted the same way (3,000).

No per-call latency is modelled: in memory a call costs next to nothing, so the wall-time entry
compares the Python work only, and the call count shows what a network round trip per call
would add.
"""

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from lambda_support import FakeLambdaContext

from benchmarks.lambda_harness import handler_module, head_to_head
from benchmarks.results import ROOT, BenchResult

TABLES: Final = 3_000
FILES_PER_TABLE: Final = 10
BATCH_SIZE: Final = 25
CADENCE: Final = "hourly"
RUN_ID: Final = "hourly-2026-11-23T10-00-00Z"
FUNCTION_DIR: Final = ROOT / "functions" / "batch_planner"
INDEX_KEYS: Final = ("pending_status", "pending_order", "source_table", "file_id")
INDEX_PROJECTION: Final = ("bucket", "key", "size", "load_type", "event_time", "file_name")
PAGE_BYTES: Final = 1_000_000


def source_tables() -> list[str]:
    return [f"schema{n // 100:02d}.table_{n:04d}" for n in range(TABLES)]


def tracker_items() -> list[dict[str, Any]]:
    """FILES_PER_TABLE pending items per table, shaped like the file tracker writes them."""
    items = []
    for table in source_tables():
        schema, name = table.split(".")
        for n in range(FILES_PER_TABLE):
            file_id = hashlib.sha256(f"{table}/{n}".encode()).hexdigest()
            event_time = f"2026-11-23T09:{n:02d}:00.000Z"
            items.append(
                {
                    "source_table": {"S": table},
                    "file_id": {"S": file_id},
                    "bucket": {"S": "datalake-staging-example"},
                    "key": {"S": f"{schema}/{name}/2026/11/23/20261123-09{n:02d}00000.csv"},
                    "size": {"N": "1048576"},
                    "etag": {"S": "b1946ac92492d2347c6235b4d2611184"},
                    "version_id": {"S": "3HL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY"},
                    "event_time": {"S": event_time},
                    "schema_name": {"S": schema},
                    "table_name": {"S": name},
                    "file_name": {"S": f"20261123-09{n:02d}00000.csv"},
                    "load_type": {"S": "cdc"},
                    "status": {"S": "raw_file_landed"},
                    "tracked_at": {"S": event_time},
                    "landed_event_published": {"BOOL": True},
                    "pending_status": {"S": "raw_file_landed"},
                    "pending_order": {"S": f"{table}#{event_time}#{file_id}"},
                }
            )
    return items


def _value_size(value: dict[str, Any]) -> int:
    (kind, raw), *_ = value.items()
    return 1 if kind == "BOOL" else len(str(raw).encode())


def item_size(item: dict[str, Any]) -> int:
    """DynamoDB's item size: attribute name lengths plus value lengths."""
    return sum(len(name) + _value_size(value) for name, value in item.items())


@dataclass
class InMemoryTrackerClient:
    """The file tracker table and its pending-files index, for ``query`` only.

    Index Queries (``IndexName``) read the index partition ``pending_status = :landed`` in
    ``pending_order`` order and page at 1 MB of index items (keys plus the INCLUDE projection,
    as DynamoDB counts them); base-table Queries read one ``source_table`` partition, with the
    naive planner's ``FilterExpression`` on pending_status. ``calls`` counts every call.
    """

    items: list[dict[str, Any]]
    calls: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.index = sorted(
            (item for item in self.items if "pending_status" in item),
            key=lambda item: item["pending_order"]["S"],
        )
        self.index_sizes = [
            item_size({name: item[name] for name in (*INDEX_KEYS, *INDEX_PROJECTION)})
            for item in self.index
        ]
        self.positions = {item["pending_order"]["S"]: n for n, item in enumerate(self.index)}
        self.partitions: dict[str, list[dict[str, Any]]] = {}
        for item in self.items:
            self.partitions.setdefault(item["source_table"]["S"], []).append(item)

    def query(self, **request: Any) -> dict[str, Any]:
        self.calls["Query"] += 1
        if "IndexName" in request:
            return self._query_index(request)
        return self._query_partition(request)

    def _query_index(self, request: dict[str, Any]) -> dict[str, Any]:
        assert request["IndexName"] == "pending-files-index"
        assert request["KeyConditionExpression"] == "#status = :landed"
        projected = [
            request["ExpressionAttributeNames"].get(name, name)
            for name in request.get("ProjectionExpression", "").split(",")
            if name
        ]
        start = 0
        if "ExclusiveStartKey" in request:
            start = self.positions[request["ExclusiveStartKey"]["pending_order"]["S"]] + 1
        page, read, position = [], 0, start
        while position < len(self.index) and read + self.index_sizes[position] <= PAGE_BYTES:
            item = self.index[position]
            page.append({name: item[name] for name in projected} if projected else item)
            read += self.index_sizes[position]
            position += 1
        response: dict[str, Any] = {"Items": page, "Count": len(page)}
        if position < len(self.index):
            last = self.index[position - 1]
            response["LastEvaluatedKey"] = {name: last[name] for name in INDEX_KEYS}
        return response

    def _query_partition(self, request: dict[str, Any]) -> dict[str, Any]:
        table = request["ExpressionAttributeValues"][":table"]["S"]
        status = request["ExpressionAttributeValues"][":landed"]["S"]
        items = [
            item
            for item in self.partitions.get(table, [])
            if item.get("pending_status", {}).get("S") == status
        ]
        return {"Items": items, "Count": len(items)}  # 10 files: one page


@dataclass
class NaivePendingTables:
    """The source post's lookup: for each configured table, one Query for its pending files."""

    client: InMemoryTrackerClient
    tables: Sequence[str]

    def pending_tables(self) -> set[str]:
        pending = set()
        for table in self.tables:
            response = self.client.query(
                TableName="file-tracker",
                KeyConditionExpression="source_table = :table",
                FilterExpression="pending_status = :landed",
                ExpressionAttributeValues={
                    ":table": {"S": table},
                    ":landed": {"S": "raw_file_landed"},
                },
            )
            if response["Items"]:
                pending.add(table)
        return pending


@dataclass
class InMemoryConfigs:
    batch: Any
    tables: list[Any]

    def load_batch_config(self, cadence: str) -> Any:
        return self.batch if cadence == self.batch.cadence else None

    def load_table_configs(self, cadence: str) -> list[Any]:
        return self.tables


def _configs() -> InMemoryConfigs:
    from datalake_shared.pipeline_config import BatchConfig, TableConfig  # noqa: PLC0415

    batch = BatchConfig(cadence=CADENCE, batch_size=BATCH_SIZE, max_parallel_batches=10)
    tables = [
        TableConfig.model_validate(
            {
                "cadence": CADENCE,
                "source_table": table,
                "target_database": table.split(".")[0],
                "target_table": table.split(".")[1],
                "columns": [
                    {"name": "id", "type": "bigint"},
                    {"name": "name", "type": "string"},
                    {"name": "amount", "type": "decimal(12,2)"},
                    {"name": "updated_at", "type": "timestamp"},
                ],
                "primary_key": ["id"],
                "sequence_column": "change_ts",
            }
        )
        for table in source_tables()
    ]
    return InMemoryConfigs(batch, tables)


def run() -> list[BenchResult]:
    app = handler_module("batch_planner")
    from batch_planner.service import BatchPlanner  # noqa: PLC0415
    from batch_planner.store import DynamoPendingTables  # noqa: PLC0415

    configs = _configs()
    items = tracker_items()
    event = {"cadence": CADENCE, "run_id": RUN_ID}
    context = FakeLambdaContext()

    # One fake per side, built once (its index sorts 30,000 items); each run resets its count.
    our_client, naive_client = InMemoryTrackerClient(items), InMemoryTrackerClient(items)
    naive_lookup = NaivePendingTables(naive_client, [t.source_table for t in configs.tables])

    def ours() -> Counter[str]:
        our_client.calls.clear()
        pending = DynamoPendingTables("file-tracker", client=our_client)  # type: ignore[arg-type]
        planner = BatchPlanner(configs, pending, "cdc-merge")
        output = app.lambda_handler(event, context, planner=planner)
        assert output["table_count"] == TABLES
        assert output["batch_count"] == TABLES // BATCH_SIZE
        return Counter(our_client.calls)

    def naive() -> Counter[str]:
        naive_client.calls.clear()
        planner = BatchPlanner(configs, naive_lookup, "cdc-merge")
        output = app.lambda_handler(event, context, planner=planner)
        assert output["table_count"] == TABLES
        return Counter(naive_client.calls)

    timed = head_to_head(ours, naive)
    return [
        BenchResult(
            name="batch_planner.plan_ms_3000_tables",
            value=timed.ours_s * 1000,
            unit="ms",
            better="lower",
            baseline=timed.naive_s * 1000,
        ),
        BenchResult(
            name="batch_planner.queries_3000_tables",
            value=timed.ours.total(),
            unit="calls",
            better="lower",
            baseline=timed.naive.total(),
        ),
    ]
