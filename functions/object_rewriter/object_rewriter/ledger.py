"""DynamoDB adapter for ObjectTaskTable, the task ledger (item layout:
datalake_shared.object_tasks): reading a task, marking it done, counting a failed attempt, and,
for the TTL fallback, writing an expired task's item again (requeued, or given up as failed)."""

from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, Final

import boto3

from datalake_shared.object_tasks import (
    ATTEMPTS,
    BUCKET,
    EXPIRES_AT,
    FALLBACKS,
    FINISHED_AT,
    KEY,
    LAST_ERROR,
    OUTCOME,
    RULE,
    SCHEDULED_AT,
    STATUS,
    TASK,
    TASK_ID,
    ObjectTask,
    TaskOutcome,
    TaskStatus,
    epoch_seconds,
    iso_utc,
    item_status,
    scheduled_item,
    task_from_item,
)
from object_rewriter.fallback import ExpiredTask
from object_rewriter.service import LedgerEntry

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Done is final: a second finish (a redelivery, the fallback after the schedule) writes nothing.
_NOT_DONE: Final = "attribute_not_exists(#task_id) OR #status <> :done"
# A failure is only counted on an item that exists: an item holding nothing but the count would
# never expire. (The fallback writes an expired task's item again before its message is sent.)
_EXISTS: Final = "attribute_exists(#task_id)"
_FINISH: Final = (
    "SET #status = :done, #outcome = :outcome, #finished_at = :finished_at, "
    "#expires_at = :expires_at, #task = if_not_exists(#task, :task), "
    "#bucket = if_not_exists(#bucket, :bucket), #key = if_not_exists(#key, :key), "
    "#rule = if_not_exists(#rule, :rule) REMOVE #last_error"
)


def expired_item(
    expired: ExpiredTask, now: datetime, status: TaskStatus, expires_at: datetime
) -> dict[str, Any]:
    """The item an expired task is written back as: the scheduled item's attributes (the task,
    its coordinates), its own expiry, and what the old item knew (first scheduled, attempts,
    last error, fallbacks so far)."""
    item = scheduled_item(expired.task, now)
    item[STATUS] = {"S": status.value}
    item[EXPIRES_AT] = {"N": str(epoch_seconds(expires_at))}
    fallbacks = expired.fallbacks + 1 if status is TaskStatus.SCHEDULED else expired.fallbacks
    item[FALLBACKS] = {"N": str(fallbacks)}
    if expired.scheduled_at:
        item[SCHEDULED_AT] = {"S": expired.scheduled_at}
    if expired.attempts:
        item[ATTEMPTS] = {"N": str(expired.attempts)}
    if expired.last_error:
        item[LAST_ERROR] = {"S": expired.last_error}
    if status is TaskStatus.FAILED:
        item[FINISHED_AT] = {"S": iso_utc(now)}
    return item


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
        return LedgerEntry(task=task_from_item(dict(item)), status=item_status(item) or "")

    def finish(
        self, task: ObjectTask, outcome: TaskOutcome, finished_at: datetime, expires_at: datetime
    ) -> bool:
        """An upsert: should the TTL remove the item while the task runs, a done item holding
        the task is written all the same; it expires ``expires_at``."""
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

    def requeue(self, expired: ExpiredTask, now: datetime, expires_at: datetime) -> bool:
        return self._put_unless_done(expired_item(expired, now, TaskStatus.SCHEDULED, expires_at))

    def abandon(self, expired: ExpiredTask, now: datetime, expires_at: datetime) -> bool:
        return self._put_unless_done(expired_item(expired, now, TaskStatus.FAILED, expires_at))

    def _put_unless_done(self, item: dict[str, Any]) -> bool:
        """A task finished since its item expired (a late message ran it) wins: False."""
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=item,
                ConditionExpression=_NOT_DONE,
                ExpressionAttributeNames={"#task_id": TASK_ID, "#status": STATUS},
                ExpressionAttributeValues={":done": {"S": TaskStatus.DONE.value}},
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True
