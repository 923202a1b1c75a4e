"""file_tracker: throughput of the handler and cold import time, each next to a naive baseline.

- ``file_tracker.records_per_s``: ``app.lambda_handler`` over SQS batches of 25 records shaped
  like events/file_tracker/sqs_batch.json (varied keys, full-load and CDC files). It runs with
  the real DynamoDB and EventBridge adapters over in-memory fake clients (so building items,
  the conditional write path, "File Landed" entries and the flagging transaction are measured);
  logs go to /dev/null at the template's INFO level. Baseline, same batches, same run: the
  source post's naive handler, which json-parses each body, splits the key on "/" by position,
  takes uuid4 as the file id and calls ``put_item`` on an in-memory table with no condition, no
  announcement and no partial batch failures.
- ``file_tracker.aws_calls_per_file``: AWS API calls per new file over the same batches,
  counted on the fake clients (PutItem, PutEvents, TransactWriteItems...). Baseline: the naive
  handler's calls per file, counted on its in-memory table the same way. (The per-file design
  this replaced made three calls per file: PutItem, PutEvents, UpdateItem.)
- ``file_tracker.cold_import_ms`` is measured from the built artifact by bench_cold_start.
"""

import copy
import json
import uuid
from collections import Counter
from typing import Any

from lambda_support import FakeLambdaContext

from benchmarks.in_memory_aws import AcceptingEventsClient
from benchmarks.lambda_harness import handler_module, head_to_head
from benchmarks.results import ROOT, BenchResult

BATCH_SIZE = 25
BATCHES = 40
TABLES = [("sales", "orders"), ("sales", "order_items"), ("crm", "customers"), ("hr", "staff")]
SAMPLE = ROOT / "events" / "file_tracker" / "sqs_batch.json"


def sqs_batches() -> list[dict[str, Any]]:
    """BATCHES SQS events of BATCH_SIZE distinct objects, each a copy of the sample record shape."""
    template = json.loads(SAMPLE.read_text())["Records"][1]
    body_template = json.loads(template["body"])
    batches = []
    for batch_number in range(BATCHES):
        records = []
        for position in range(BATCH_SIZE):
            n = batch_number * BATCH_SIZE + position
            schema, table = TABLES[n % len(TABLES)]
            file_name = f"LOAD{n:08d}.parquet" if n % 50 == 0 else f"20261122-10{n:07d}.parquet"
            body = copy.deepcopy(body_template)
            body["id"] = str(uuid.UUID(int=n))
            body["detail"]["object"].update(
                key=f"{schema}/{table}/2026/11/22/{file_name}",
                size=1024 + n,
                **{"version-id": f"v{n:012d}", "sequencer": f"{n:018X}"},
            )
            record = copy.deepcopy(template)
            record["messageId"] = str(uuid.UUID(int=10**9 + n))
            record["body"] = json.dumps(body, separators=(",", ":"))
            records.append(record)
        batches.append({"Records": records})
    return batches


class _ConditionalCheckFailedError(Exception):
    def __init__(self, old_item: dict[str, Any]) -> None:
        super().__init__("The conditional request failed")
        self.response = {"Item": old_item}


class _Exceptions:
    ConditionalCheckFailedException = _ConditionalCheckFailedError


class InMemoryDynamoClient:
    """The slice of the DynamoDB client the store uses, over a dict."""

    exceptions = _Exceptions

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.calls: Counter[str] = Counter()

    def put_item(self, **request: Any) -> dict[str, Any]:
        self.calls["PutItem"] += 1
        item = request["Item"]
        key = (item["source_table"]["S"], item["file_id"]["S"])
        if "ConditionExpression" in request and key in self.items:
            raise _ConditionalCheckFailedError(self.items[key])
        self.items[key] = item
        return {}

    def transact_write_items(self, TransactItems: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls["TransactWriteItems"] += 1
        assert len(TransactItems) <= 100
        keys = [
            (action["Update"]["Key"]["source_table"]["S"], action["Update"]["Key"]["file_id"]["S"])
            for action in TransactItems
        ]
        assert all(key in self.items for key in keys)  # attribute_exists(file_id)
        for key in keys:
            self.items[key]["landed_event_published"] = {"BOOL": True}
        return {}


class InMemoryTable:
    """What the naive handler writes to: boto3's resource Table.put_item, over a dict."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.calls: Counter[str] = Counter()

    def put_item(self, Item: dict[str, Any]) -> dict[str, Any]:
        self.calls["PutItem"] += 1
        self.items[Item["file_id"]] = Item
        return {}


def naive_handler(event: dict[str, Any], context: object, table: InMemoryTable) -> dict[str, int]:
    """The source post's approach: positional key split, random id, unconditional put."""
    for record in event["Records"]:
        body = json.loads(record["body"])
        detail = body["detail"]
        key = detail["object"]["key"]
        parts = key.split("/")
        table.put_item(
            Item={
                "file_id": str(uuid.uuid4()),
                "source_table": f"{parts[0]}.{parts[1]}",
                "schema_name": parts[0],
                "table_name": parts[1],
                "file_name": parts[-1],
                "bucket": detail["bucket"]["name"],
                "key": key,
                "size": detail["object"]["size"],
                "event_time": body["time"],
                "status": "raw_file_landed",
            }
        )
    return {"statusCode": 200}


def _handler_runs() -> list[BenchResult]:
    # The function's own modules resolve through run.py's sys.path (one folder per function).
    app = handler_module("file_tracker")
    from datalake_shared.event_publisher import EventPublisher  # noqa: PLC0415
    from file_tracker.announcer import EventBridgeLandedPublisher  # noqa: PLC0415
    from file_tracker.service import FileTracker, KeyLayout  # noqa: PLC0415
    from file_tracker.settings import DEFAULT_STAGING_KEY_PATTERN  # noqa: PLC0415
    from file_tracker.store import DynamoFileTrackerStore  # noqa: PLC0415

    batches = sqs_batches()
    records = BATCH_SIZE * BATCHES
    context = FakeLambdaContext()

    def ours() -> Counter[str]:
        client, events = InMemoryDynamoClient(), AcceptingEventsClient()
        tracker = FileTracker(
            KeyLayout("", DEFAULT_STAGING_KEY_PATTERN),
            DynamoFileTrackerStore("bench", client=client),  # type: ignore[arg-type]
            EventBridgeLandedPublisher(
                EventPublisher("file-tracker", "bench", client=events)  # type: ignore[arg-type]
            ),
        )
        for event in batches:
            response = app.lambda_handler(event, context, tracker=tracker)
            assert not response["batchItemFailures"]
        assert len(client.items) == records
        assert events.entries == records
        return client.calls + events.calls

    def naive() -> Counter[str]:
        table = InMemoryTable()
        for event in batches:
            naive_handler(event, context, table)
        assert len(table.items) == records
        return table.calls

    timed = head_to_head(ours, naive)
    return [
        BenchResult(
            name="file_tracker.records_per_s",
            value=records / timed.ours_s,
            unit="records/s",
            better="higher",
            baseline=records / timed.naive_s,
        ),
        BenchResult(
            name="file_tracker.aws_calls_per_file",
            value=timed.ours.total() / records,
            unit="calls/file",
            better="lower",
            baseline=timed.naive.total() / records,
        ),
    ]


def run() -> list[BenchResult]:
    return _handler_runs()
