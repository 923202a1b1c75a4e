"""The file tracker table, seen from the merge job: a table's pending files, and marking them done.

Items are keyed (source_table, file_id); files waiting to be merged carry ``pending_status`` and
``pending_order`` ("<table>#<event_time>#<file_id>"), the keys of the sparse pending-files index.
Marking a file processed sets its status and REMOVEs both, which takes it out of the index the
batch planner queries.

The index returns only the attributes template.yaml projects into it (``INDEX_ATTRIBUTES``
names what this module reads; a unit test holds the template to it).
"""

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, Final, Literal

import boto3

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PROCESSED_STATUS: Final = "raw_file_processed"
LoadType = Literal["full", "cdc"]


@dataclass(frozen=True)
class PendingFile:
    source_table: str
    file_id: str
    bucket: str
    key: str
    load_type: LoadType
    event_time: str
    file_name: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


PENDING_INDEX: Final = "pending-files-index"
LANDED_STATUS: Final = "raw_file_landed"
# The non-key attributes ``pending_file`` reads: the index must project each of them.
INDEX_ATTRIBUTES: Final = ("bucket", "key", "load_type", "event_time", "file_name")
# The file tracker (functions/file_tracker/file_tracker/store.py) keeps pending_order within
# DynamoDB's 1,024-byte sort key: a table name longer than this is cut and hashed there, the
# same way as here (a unit test compares the two).
MAX_ORDER_PREFIX_BYTES: Final = 1024 - len("#2026-11-22T10:15:00Z#") - 32
_PREFIX_DIGEST_CHARS: Final = 32


def order_prefix(source_table: str) -> str:
    """The table part of the index sort key, as the file tracker writes it."""
    encoded = source_table.encode()
    if len(encoded) <= MAX_ORDER_PREFIX_BYTES:
        return source_table
    digest = hashlib.sha256(encoded).hexdigest()[:_PREFIX_DIGEST_CHARS]
    head = encoded[: MAX_ORDER_PREFIX_BYTES - len(digest) - 1].decode(errors="ignore")
    return f"{head}~{digest}"


def _text(item: dict[str, Any], name: str, default: str = "") -> str:
    value = item.get(name)
    if isinstance(value, dict) and isinstance(value.get("S"), str):
        return str(value["S"])
    return default


def pending_file(item: dict[str, Any]) -> PendingFile:
    """A file as the index returns it. An attribute missing (not projected by the index) raises:
    guessing the file name from the key would plan a full load as inserts when the key
    pattern's file name is not the key's last segment."""
    missing = [name for name in INDEX_ATTRIBUTES if not _text(item, name)]
    if missing:
        raise ValueError(
            f"file {_text(item, 'file_id')!r} lacks {missing}: does the {PENDING_INDEX} "
            "projection in template.yaml include them?"
        )
    load_type = _text(item, "load_type")
    if load_type not in ("full", "cdc"):
        raise ValueError(f"file {_text(item, 'file_id')!r} has load_type {load_type!r}")
    return PendingFile(
        source_table=_text(item, "source_table"),
        file_id=_text(item, "file_id"),
        bucket=_text(item, "bucket"),
        key=_text(item, "key"),
        load_type="full" if load_type == "full" else "cdc",
        event_time=_text(item, "event_time"),
        file_name=_text(item, "file_name"),
    )


def landing_order(files: Iterable[PendingFile]) -> list[PendingFile]:
    """By event time; S3 events carry whole seconds, so within one second DMS's own order
    decides: full-load files before CDC files, each by name (LOAD00000001 < LOAD00000002; CDC
    files are named by their timestamp)."""
    return sorted(
        files,
        key=lambda file: (file.event_time, file.load_type != "full", file.file_name, file.file_id),
    )


def _utc_now() -> datetime:
    return datetime.now(UTC)


class DynamoFileTracker:
    def __init__(
        self,
        table_name: str,
        client: "DynamoDBClient | None" = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.table_name = table_name
        self._client = client
        self._clock = clock

    @cached_property
    def client(self) -> "DynamoDBClient":
        return self._client or boto3.client("dynamodb")

    def pending_files(self, source_table: str) -> list[PendingFile]:
        """The table's files still waiting to be merged, in landing order.

        Read from the sparse pending-files index, which holds pending files only: the cost does
        not grow with the table's history of processed files. The sort key's prefix selects the
        table's range; the filter on the table's own name drops files of a table whose name
        merely starts the same way ("sales.orders#2026" after "sales.orders#").
        """
        items: list[dict[str, Any]] = []
        paginator = self.client.get_paginator("query")
        for page in paginator.paginate(
            TableName=self.table_name,
            IndexName=PENDING_INDEX,
            KeyConditionExpression=(
                "pending_status = :landed AND begins_with(pending_order, :prefix)"
            ),
            FilterExpression="source_table = :table",
            ExpressionAttributeValues={
                ":landed": {"S": LANDED_STATUS},
                ":prefix": {"S": f"{order_prefix(source_table)}#"},
                ":table": {"S": source_table},
            },
        ):
            items.extend(page.get("Items", []))
        return landing_order(pending_file(item) for item in items)

    def mark_processed(self, files: Sequence[PendingFile], run_id: str) -> None:
        """Marks each file processed by this run (one conditional UpdateItem per file)."""
        processed_at = self._clock().isoformat()
        for file in files:
            self.client.update_item(
                TableName=self.table_name,
                Key={"source_table": {"S": file.source_table}, "file_id": {"S": file.file_id}},
                UpdateExpression=(
                    "SET #status = :processed, processed_at = :at, processed_by_run = :run"
                    " REMOVE pending_status, pending_order"
                ),
                ConditionExpression="attribute_exists(file_id)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":processed": {"S": PROCESSED_STATUS},
                    ":at": {"S": processed_at},
                    ":run": {"S": run_id},
                },
            )
