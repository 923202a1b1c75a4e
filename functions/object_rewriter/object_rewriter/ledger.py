"""DynamoDB adapter for ObjectTaskTable, the task ledger (item layout:
datalake_shared.object_tasks): reading a task, marking it done, and counting a failed attempt."""

from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Final

import boto3

from datalake_shared.object_tasks import (
    ATTEMPTS,
    BUCKET,
    EXPIRES_AT,
    FINISHED_AT,
    KEY,
    LAST_ERROR,
    OUTCOME,
    RULE,
    STATUS,
    TASK,
    TASK_ID,
    ObjectTask,
    TaskOutcome,
    TaskStatus,
    epoch_seconds,
    task_from_item,
)
from object_rewriter.service import LedgerEntry

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Done is final: a second finish (a redelivery, the fallback after the schedule) writes nothing.
_NOT_DONE: Final = "attribute_not_exists(#task_id) OR #status <> :done"
# A failure is only counted on an item that exists: after the TTL removed it (the fallback path)
# an item holding nothing but the count would never expire. The stream's retries and its
# on-failure destination keep that record.
_EXISTS: Final = "attribute_exists(#task_id)"
_FINISH: Final = (
    "SET #status = :done, #outcome = :outcome, #finished_at = :finished_at, "
    "#expires_at = :expires_at, #task = if_not_exists(#task, :task), "
    "#bucket = if_not_exists(#bucket, :bucket), #key = if_not_exists(#key, :key), "
    "#rule = if_not_exists(#rule, :rule) REMOVE #last_error"
)


def iso_utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class DynamoTaskLedger:
    def __init__(self, table_name: str, client: "DynamoDBClient | None" = None) -> None:
        self.table_name = table_name
        self._client = client

    @cached_property
    def client(self) -> "DynamoDBClient":
        # Created on first use, never at import: importing needs no AWS and cold starts stay short.
        return self._client or boto3.client("dynamodb")

    def load(self, task_id: str) -> LedgerEntry | None:
        response = self.client.get_item(
            TableName=self.table_name, Key={TASK_ID: {"S": task_id}}, ConsistentRead=True
        )
        item = response.get("Item")
        if item is None:
            return None
        status = item.get(STATUS, {}).get("S", "")
        return LedgerEntry(task=task_from_item(dict(item)), status=status)

    def finish(
        self, task: ObjectTask, outcome: TaskOutcome, finished_at: datetime, expires_at: datetime
    ) -> bool:
        """An upsert: it creates the item when the TTL already removed it (the fallback path),
        with the task for the record, and expires it ``expires_at``."""
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key={TASK_ID: {"S": task.task_id}},
                UpdateExpression=_FINISH,
                ConditionExpression=_NOT_DONE,
                ExpressionAttributeNames={
                    "#task_id": TASK_ID,
                    "#status": STATUS,
                    "#outcome": OUTCOME,
                    "#finished_at": FINISHED_AT,
                    "#expires_at": EXPIRES_AT,
                    "#task": TASK,
                    "#bucket": BUCKET,
                    "#key": KEY,
                    "#rule": RULE,
                    "#last_error": LAST_ERROR,
                },
                ExpressionAttributeValues={
                    ":done": {"S": TaskStatus.DONE.value},
                    ":outcome": {"S": outcome.value},
                    ":finished_at": {"S": iso_utc(finished_at)},
                    ":expires_at": {"N": str(epoch_seconds(expires_at))},
                    ":task": {"S": task.to_json()},
                    ":bucket": {"S": task.bucket},
                    ":key": {"S": task.key},
                    ":rule": {"S": task.rule.name},
                },
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def record_failure(self, task_id: str, error: str) -> None:
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key={TASK_ID: {"S": task_id}},
                UpdateExpression="ADD #attempts :one SET #last_error = :error",
                ConditionExpression=_EXISTS,
                ExpressionAttributeNames={
                    "#task_id": TASK_ID,
                    "#attempts": ATTEMPTS,
                    "#last_error": LAST_ERROR,
                },
                ExpressionAttributeValues={":one": {"N": "1"}, ":error": {"S": error}},
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return
