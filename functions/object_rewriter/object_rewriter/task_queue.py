"""SQS adapter: sends a task message (datalake_shared.object_tasks.TaskMessage) to the task
queue, as a schedule does; the TTL fallback requeues tasks this way."""

from functools import cached_property
from typing import TYPE_CHECKING

import boto3

from datalake_shared.object_tasks import TaskMessage

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


class SqsTaskQueue:
    def __init__(self, queue_url: str, client: "SQSClient | None" = None) -> None:
        self.queue_url = queue_url
        self._client = client

    @cached_property
    def client(self) -> "SQSClient":
        # Created on first use, never at import: importing needs no AWS and cold starts stay short.
        return self._client or boto3.client("sqs")

    def send(self, task_id: str) -> None:
        self.client.send_message(
            QueueUrl=self.queue_url, MessageBody=TaskMessage(task_id=task_id).body()
        )
