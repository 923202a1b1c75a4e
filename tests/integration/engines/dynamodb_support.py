"""What the DynamoDB Local tests share: S3 events from the events corpus, a settable clock, and
a recorder of the calls a client makes."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from datalake_shared.s3_events import S3ObjectEvent

ROOT: Final = Path(__file__).resolve().parents[3]

STAGING_BUCKET: Final = "datalake-staging-example"
# DynamoDB's limits (DynamoDB Local 3.3.1 enforces each, as measured by these tests).
MAX_ITEM_BYTES: Final = 400 * 1024
MAX_PARTITION_KEY_BYTES: Final = 2048
MAX_SORT_KEY_BYTES: Final = 1024
MAX_S3_KEY_BYTES: Final = 1024


def utf8_len(text: str) -> int:
    return len(text.encode())


def object_created(
    key: str,
    *,
    time: str = "2026-11-22T10:15:00Z",
    version_id: str | None = "v1",
    size: int = 1024,
) -> S3ObjectEvent:
    """An EventBridge "Object Created" event for ``key``, shaped like events/file_tracker's."""
    sample = json.loads((ROOT / "events" / "file_tracker" / "sqs_batch.json").read_text())
    body = json.loads(sample["Records"][0]["body"])
    body["time"] = time
    body["detail"]["bucket"]["name"] = STAGING_BUCKET
    body["detail"]["object"] = {
        "key": key,
        "size": size,
        "etag": "b1946ac92492d2347c6235b4d2611184",
        "version-id": version_id,
        "sequencer": "0062F4A7B3C1D2E3F4",
    }
    return S3ObjectEvent.model_validate(body)


def sqs_batch(*events: S3ObjectEvent) -> dict[str, Any]:
    """An SQS batch (the sample's record shape) carrying the events, message ids m0, m1..."""
    sample = json.loads((ROOT / "events" / "file_tracker" / "sqs_batch.json").read_text())
    template = sample["Records"][0]
    records = []
    for index, event in enumerate(events):
        record = json.loads(json.dumps(template))
        record["messageId"] = f"m{index}"
        record["body"] = event.model_dump_json(by_alias=True)
        records.append(record)
    return {"Records": records}


class Clock:
    """A clock the test moves by hand, starting at the wall-clock second it is made.

    Never a fixed date: DynamoDB Local sweeps TTL-expired items seconds after their TTL passes
    (see local_runtime/bridges/dynamodb_local.py), and these tables keep the template's TTL on, so
    a lease written by a clock set in the past vanishes mid-test once the wall clock overtakes it.
    """

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now


def scan_all(client: Any, table: str, **extra: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in client.get_paginator("scan").paginate(TableName=table, **extra):
        items.extend(page["Items"])
    return items
