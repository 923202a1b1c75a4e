"""SqsTaskQueue against moto."""

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from datalake_shared.object_tasks import TaskMessage
from object_rewriter.task_queue import SqsTaskQueue

TASK_ID = "ot-8b35b637e7f4c7e37b85a6aa81015c7396404ad78b9fbb3e"


@pytest.fixture
def sqs() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("sqs")


def test_send_puts_the_tasks_message_on_the_queue(sqs: Any) -> None:
    # Given the task queue / When a task is sent
    url = sqs.create_queue(QueueName="datalake-events-ObjectTaskQueue")["QueueUrl"]
    SqsTaskQueue(url, client=sqs).send(TASK_ID)
    # Then the queue holds its TaskMessage, which the queue path parses back
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in messages] == [f'{{"task_id":"{TASK_ID}"}}']
    assert TaskMessage.model_validate_json(messages[0]["Body"]).task_id == TASK_ID
