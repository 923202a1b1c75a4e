"""DynamoDB adapter for the file tracker table (FileTrackerTable in template.yaml); the item
layout is datalake_contracts.file_tracker_item's."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Final

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from datalake_contracts import file_tracker_item as item_layout
from file_tracker.service import MarkFailure, PutResult, TrackedFile

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import (
        AttributeValueTypeDef,
        TransactWriteItemTypeDef,
    )

_WRITE_ONCE: Final = f"attribute_not_exists({item_layout.FILE_ID})"
# Never create a stray item that holds nothing but the flag.
_UPDATE_ONLY: Final = f"attribute_exists({item_layout.FILE_ID})"
# TransactWriteItems takes at most 100 actions.
MAX_ITEMS_PER_TRANSACTION: Final = 100


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _attribute(value: str | int | bool) -> "AttributeValueTypeDef":
    if isinstance(value, bool):  # before int: bool is an int
        return {"BOOL": value}
    if isinstance(value, int):
        return {"N": str(value)}
    return {"S": value}


def pending_order(file: TrackedFile) -> str:
    """Sort key of the pending-files index for ``file`` (see the contract's pending_order)."""
    return item_layout.pending_order(file.source_table, file.event_time, file.file_id)


class DynamoFileTrackerStore:
    """One item per landed file, keyed (source_table, file_id), written once.

    Items of files still waiting to be merged carry ``pending_status`` ("raw_file_landed") and
    ``pending_order``, the keys of the sparse ``pending-files-index``; whoever marks a file
    processed sets its status to "raw_file_processed" and REMOVEs those two attributes, which
    takes the file out of the index while the item stays as history.
    """

    def __init__(
        self,
        table_name: str,
        client: "DynamoDBClient | None" = None,
        now: Callable[[], str] = _now_iso,
    ) -> None:
        self.table_name = table_name
        self._client = client
        self._now = now

    @cached_property
    def client(self) -> "DynamoDBClient":
        # Created on first use, never at import: importing needs no AWS and cold starts stay short.
        return self._client or boto3.client("dynamodb")

    def item(self, file: TrackedFile) -> dict[str, "AttributeValueTypeDef"]:
        item: dict[str, AttributeValueTypeDef] = {}
        for field in fields(file):
            value = getattr(file, field.name)
            if value is not None:  # optional S3 fields (etag, version id...) are left out
                item[field.name] = _attribute(value)
        item[item_layout.TRACKED_AT] = _attribute(self._now())
        item[item_layout.ANNOUNCED] = _attribute(False)
        item[item_layout.PENDING_STATUS] = _attribute(item_layout.LANDED_STATUS)
        item[item_layout.PENDING_ORDER] = _attribute(pending_order(file))
        return item

    def put_if_absent(self, file: TrackedFile) -> PutResult:
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=self.item(file),
                ConditionExpression=_WRITE_ONCE,
                # The existing item comes back in the error, so a duplicate needs no GetItem
                # (and the function needs no read permission) to know if it was announced.
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self.client.exceptions.ConditionalCheckFailedException as error:
            response: Mapping[str, object] = error.response
            old_item = response.get("Item")
            # Without the old item we cannot know: announcing again is the safe side
            # ("File Landed" is at-least-once; consumers dedupe by file_id).
            announced = isinstance(old_item, Mapping) and old_item.get(item_layout.ANNOUNCED) == {
                "BOOL": True
            }
            return PutResult(created=False, announced=announced)
        return PutResult(created=True, announced=False)

    def _mark_announced(self, file: TrackedFile) -> "TransactWriteItemTypeDef":
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": {
                    item_layout.SOURCE_TABLE: {"S": file.source_table},
                    item_layout.FILE_ID: {"S": file.file_id},
                },
                "UpdateExpression": "SET #announced = :true",
                "ConditionExpression": _UPDATE_ONLY,
                "ExpressionAttributeNames": {"#announced": item_layout.ANNOUNCED},
                "ExpressionAttributeValues": {":true": {"BOOL": True}},
            }
        }

    def mark_announced_batch(self, files: Sequence[TrackedFile]) -> list[MarkFailure]:
        """Sets the announced flag with one TransactWriteItems call per 100 files.

        A transaction is all or nothing, so a failed call (throttled, or an item missing) leaves
        its whole chunk unflagged and is reported, not raised: the files are tracked and
        announced either way. A transaction cannot touch one item twice, so callers pass each
        file once.
        """
        failures: list[MarkFailure] = []
        for start in range(0, len(files), MAX_ITEMS_PER_TRANSACTION):
            chunk = tuple(files[start : start + MAX_ITEMS_PER_TRANSACTION])
            try:
                self.client.transact_write_items(
                    TransactItems=[self._mark_announced(file) for file in chunk]
                )
            except (BotoCoreError, ClientError) as error:
                failures.append(MarkFailure(chunk, f"{type(error).__name__}: {error}"))
        return failures

    def record_unmatched(
        self, bucket: str, key: str, file_id: str, event_time: str, reason: str
    ) -> None:
        """Quarantine record for a key the pattern does not map: kept apart, never pending."""
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item={
                    item_layout.SOURCE_TABLE: {"S": item_layout.UNMATCHED_SOURCE_TABLE},
                    item_layout.FILE_ID: {"S": file_id},
                    item_layout.BUCKET: {"S": bucket},
                    item_layout.KEY: {"S": key},
                    item_layout.EVENT_TIME: {"S": event_time},
                    item_layout.REASON: {"S": reason},
                    item_layout.STATUS: {"S": item_layout.UNMATCHED_STATUS},
                    item_layout.TRACKED_AT: {"S": self._now()},
                },
                ConditionExpression=_WRITE_ONCE,
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return  # already quarantined by an earlier delivery
