"""DynamoDB adapter for ObjectTaskTable: each task's item, written once (the ledger)."""

from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, Final

import boto3

from datalake_shared.object_tasks import (
    DEFAULT_FALLBACK_GRACE,
    TASK_ID,
    ObjectTask,
    item_status,
    scheduled_item,
)
from object_task_scheduler.service import LedgerPut

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_WRITE_ONCE: Final = f"attribute_not_exists({TASK_ID})"


class DynamoTaskLedger:
    def __init__(
        self,
        table_name: str,
        fallback_grace: timedelta = DEFAULT_FALLBACK_GRACE,
        client: "DynamoDBClient | None" = None,
    ) -> None:
        self.table_name = table_name
        self.fallback_grace = fallback_grace
        self._client = client

    @cached_property
    def client(self) -> "DynamoDBClient":
        # Created on first use, never at import: importing needs no AWS and cold starts stay short.
        return self._client or boto3.client("dynamodb")

    def put_if_absent(self, task: ObjectTask, now: datetime) -> LedgerPut:
        """Writes the task's ``scheduled`` item unless it exists; then says its status."""
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=scheduled_item(task, now, self.fallback_grace),
                ConditionExpression=_WRITE_ONCE,
                # The existing item comes back in the error: a redelivery needs no GetItem (and
                # the function no read permission) to know whether the task already ran.
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self.client.exceptions.ConditionalCheckFailedException as error:
            response: Mapping[str, Any] = error.response
            return LedgerPut(created=False, status=item_status(response.get("Item")))
        return LedgerPut(created=True)
