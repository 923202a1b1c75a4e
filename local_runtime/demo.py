"""`make demo`: land DMS-style files in the staging bucket and show what the event graph did.

Everything runs from template.yaml on moto in this process: S3 → EventBridge rule → SQS →
file_tracker → DynamoDB. Then EventBridge's at-least-once delivery is played out by sending
some of the same events again; the tracker must still hold exactly one item per file.
"""

import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from local_runtime.activity import emitted_metrics
from local_runtime.report import table
from local_runtime.runtime import LocalRuntime

REDELIVERED = 3


@dataclass(frozen=True)
class LandedObject:
    key: str
    body: bytes
    why: str


def _csv(*rows: str) -> bytes:
    return ("\n".join(rows) + "\n").encode()


def dms_output() -> Iterator[LandedObject]:
    """What AWS DMS writes for a full load followed by ongoing replication (CDC), plus the
    odd objects every staging bucket collects."""
    yield LandedObject(
        "sales/orders/LOAD00000001.csv",
        _csv("1001,42,2026-11-20,129.90,shipped", "1002,7,2026-11-21,15.00,open"),
        "full load",
    )
    yield LandedObject(
        "sales/orders/LOAD00000002.csv",
        _csv("1003,42,2026-11-21,80.00,open"),
        "full load, 2nd file",
    )
    yield LandedObject(
        "sales/orders/2026/11/23/20261123-101500123.csv",
        _csv(
            "I,2026-11-23 10:14:59,1004,9,2026-11-23,49.99,open",
            "U,2026-11-23 10:15:00,1002,7,2026-11-21,15.00,shipped",
        ),
        "CDC",
    )
    yield LandedObject(
        "sales/orders/2026/11/23/20261123-103000456.csv",
        _csv("D,2026-11-23 10:29:58,1003,42,2026-11-21,80.00,open"),
        "CDC",
    )
    yield LandedObject(
        "sales/customers/LOAD00000001.csv",
        _csv("42,Ada Lovelace,GB", "7,Grace Hopper,US", "9,Alan Turing,GB"),
        "full load",
    )
    yield LandedObject(
        "sales/customers/2026/11/23/20261123-101501789.csv",
        _csv("U,2026-11-23 10:15:01,9,Alan M. Turing,GB"),
        "CDC",
    )
    yield LandedObject(
        "inventory/products/LOAD00000001.csv",
        _csv("sku-1,Widget,12", "sku-2,Gadget,0"),
        "full load",
    )
    yield LandedObject(
        "inventory/products/2026/11/23/20261123-102000001.csv",
        _csv("U,2026-11-23 10:20:00,sku-2,Gadget,25"),
        "CDC",
    )
    yield LandedObject("inventory/products/2026/11/23/", b"", "folder marker: ignored")
    yield LandedObject("manifest.json", b'{"tables": 3}', "stray key: quarantined")


def _count_items(runtime: LocalRuntime, table_name: str) -> int:
    paginator = runtime.dynamodb.get_paginator("scan")
    return sum(page["Count"] for page in paginator.paginate(TableName=table_name, Select="COUNT"))


def _queue_depth(runtime: LocalRuntime, url: str) -> int:
    attributes = runtime.sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def _tracker_rows(runtime: LocalRuntime, table_name: str) -> list[list[Any]]:
    items = []
    for page in runtime.dynamodb.get_paginator("scan").paginate(TableName=table_name):
        items.extend(page["Items"])
    rows = []
    for item in items:
        value = {name: next(iter(attr.values())) for name, attr in item.items()}
        rows.append(
            [
                value["source_table"],
                value.get("load_type", "-"),
                value["key"],
                value.get("size", "-"),
                value["status"],
                str(value["file_id"])[:12],
            ]
        )
    return sorted(
        rows, key=lambda row: (row[0] == "__unmatched__", row[0], row[1] != "full", row[2])
    )


def run_demo() -> int:
    started = time.perf_counter()
    with LocalRuntime() as runtime:
        deployed_s = time.perf_counter() - started
        outputs = runtime.outputs
        bucket = outputs["StagingBucketName"]
        tracker_table = outputs["FileTrackerTableName"]
        print("datalake-events local demo: template.yaml on moto, in-process (no Docker, no AWS)")
        print(
            f"  deployed stack {runtime.stack.name}: {len(runtime.stack.resources)} resources "
            f"in {deployed_s:.1f} s"
        )
        if runtime.stack.skipped_by_moto:
            skipped = sorted({n.rsplit(" ", 1)[-1] for n in runtime.stack.skipped_by_moto})
            print(f"  moto does not create: {', '.join(skipped)} (deployed on AWS only)")

        landed = list(dms_output())
        for obj in landed:
            runtime.s3.put_object(Bucket=bucket, Key=obj.key, Body=obj.body)
        runtime.settle()

        # At-least-once: the same EventBridge events arrive a second time.
        queue_url = outputs["FileTrackerQueueUrl"]
        for routed in runtime.activity.routed[:REDELIVERED]:
            runtime.sqs.send_message(QueueUrl=queue_url, MessageBody=_json(routed.event))
        runtime.settle()

        print(f"\nLanded {len(landed)} objects in s3://{bucket}:")
        print(table(["key", "what"], [[o.key, o.why] for o in landed]))

        metrics: Counter[str] = Counter()
        by_function: dict[tuple[str, str], list[int]] = {}
        for invocation in runtime.invocations:
            metrics += emitted_metrics(invocation.logs)
            stats = by_function.setdefault((invocation.function, invocation.trigger), [0, 0, 0])
            stats[0] += 1
            stats[1] += invocation.records
            stats[2] += invocation.failed_records + (0 if invocation.ok else invocation.records)

        rows: list[list[Any]] = [["objects landed", f"s3://{bucket}", len(landed)]]
        for (via, target), count in sorted(runtime.activity.routes().items()):
            rows.append(["events routed", f"{via} → {runtime_logical(runtime, target)}", count])
        published = Counter(
            (event.source, event.detail_type, event.bus) for event in runtime.activity.published
        )
        for (source, detail_type, bus), count in sorted(published.items()):
            rows.append(["events published", f"{source} '{detail_type}' on bus {bus}", count])
        rows.append(["events redelivered", "same events sent to the queue again", REDELIVERED])
        for (function, trigger), (calls, records, failed) in by_function.items():
            rows.append(
                [
                    "function invoked",
                    f"{function} ← {trigger}",
                    f"{calls} invocations, {records} records, {failed} failed",
                ]
            )
        for name, value in sorted(metrics.items()):
            rows.append(["metric", name, int(value)])
        rows.append(
            [
                "items written",
                f"FileTrackerTable ({tracker_table})",
                _count_items(runtime, tracker_table),
            ]
        )
        for dlq in ("FileTrackerDLQ", "StagingEventsDLQ"):
            depth = _queue_depth(runtime, outputs[f"{dlq}Url"])
            rows.append(["dead-lettered", dlq, depth])
        rows.extend(["not routed", note, ""] for note in runtime.activity.notes)
        print("\nWhat happened:")
        print(table(["what", "where", "count"], rows))

        print("\nFile tracker contents (one item per file, even after redelivery):")
        print(
            table(
                ["source_table", "load", "key", "bytes", "status", "file_id"],
                _tracker_rows(runtime, tracker_table),
            )
        )
    print(f"\nDone in {time.perf_counter() - started:.1f} s.")
    return 0


def runtime_logical(runtime: LocalRuntime, physical: str) -> str:
    for logical, value in runtime.stack.resources.items():
        if value == physical or value.endswith(f"/{physical}"):
            return logical
    return physical


def _json(event: dict[str, Any]) -> str:
    return json.dumps(event)
