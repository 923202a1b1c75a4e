"""SQS event source mappings, polled the way Lambda's poller does it.

moto's own mapping invokes the function once per sent message and ignores the response. Lambda
instead receives batches of up to BatchSize, deletes the messages of a successful batch, and,
with ReportBatchItemFailures, leaves exactly the reported failures on the queue to be received
again; after maxReceiveCount receives SQS moves a message to the DLQ. We take over moto's
mappings and do that. A failed message becomes visible again at once: local time is compressed.
"""

import base64
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from local_runtime.bridges import RuntimeServices
from local_runtime.moto_adapter.services import sqs_queue

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

_RECEIVE_MAX = 10  # per ReceiveMessage call


@dataclass(frozen=True)
class SqsMapping:
    uuid: str
    queue_arn: str
    queue_url: str
    function_arn: str
    batch_size: int
    report_batch_item_failures: bool


def lambda_record(message: "MessageTypeDef", queue_arn: str, region: str) -> dict[str, Any]:
    """One SQS message in the shape Lambda hands it to a function."""
    attributes: dict[str, dict[str, Any]] = {
        name: {
            "stringValue": value.get("StringValue"),
            # Lambda hands binary attributes over base64-encoded.
            "binaryValue": (
                base64.b64encode(value["BinaryValue"]).decode() if "BinaryValue" in value else None
            ),
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": value["DataType"],
        }
        for name, value in message.get("MessageAttributes", {}).items()
    }
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": attributes,
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


class SqsEventSourceBridge:
    def __init__(self) -> None:
        self.mappings: list[SqsMapping] = []
        self._services: RuntimeServices | None = None
        self._sqs: SQSClient | None = None

    def install(self, services: RuntimeServices) -> None:
        self._services = services
        session = services.session
        self._sqs = session.client("sqs")
        lambda_client = session.client("lambda")
        for page in lambda_client.get_paginator("list_event_source_mappings").paginate():
            for mapping in page["EventSourceMappings"]:
                source = mapping.get("EventSourceArn", "")
                if ":sqs:" not in source:
                    continue
                queue_name = source.rsplit(":", 1)[-1]
                account_id = source.split(":")[4]
                queue_url = self._sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
                # moto's mapping would invoke per message and ignore partial failures.
                queue = sqs_queue(account_id, session.region_name, queue_name)
                queue.lambda_event_source_mappings.clear()
                if mapping.get("State", "Enabled") not in {"Enabled", "Creating", "Enabling"}:
                    continue
                self.mappings.append(
                    SqsMapping(
                        uuid=mapping["UUID"],
                        queue_arn=source,
                        queue_url=queue_url,
                        function_arn=mapping["FunctionArn"],
                        batch_size=int(mapping.get("BatchSize", 10)),
                        report_batch_item_failures="ReportBatchItemFailures"
                        in mapping.get("FunctionResponseTypes", []),
                    )
                )

    def uninstall(self) -> None:
        self.mappings.clear()

    def pump(self) -> int:
        return sum(self._poll(mapping) for mapping in self.mappings)

    def _poll(self, mapping: SqsMapping) -> int:
        assert self._sqs is not None
        assert self._services is not None
        messages: list[MessageTypeDef] = []
        while len(messages) < mapping.batch_size:
            received = self._sqs.receive_message(
                QueueUrl=mapping.queue_url,
                MaxNumberOfMessages=min(_RECEIVE_MAX, mapping.batch_size - len(messages)),
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not received:
                break
            messages.extend(received)
        if not messages:
            return 0
        region = self._services.session.region_name
        event = {"Records": [lambda_record(m, mapping.queue_arn, region) for m in messages]}
        via = f"queue {self._services.logical_id(mapping.queue_url)}"
        invocation = self._services.runner.invoke(mapping.function_arn, event, trigger=via)
        failed = self._failed_message_ids(invocation.ok, invocation.response, mapping, messages)
        for message in messages:
            if message["MessageId"] in failed:
                self._sqs.change_message_visibility(
                    QueueUrl=mapping.queue_url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=0,
                )
            else:
                self._sqs.delete_message(
                    QueueUrl=mapping.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
        return len(messages)

    @staticmethod
    def _failed_message_ids(
        ok: bool, response: Any, mapping: SqsMapping, messages: list["MessageTypeDef"]
    ) -> set[str]:
        every = {m["MessageId"] for m in messages}
        if not ok:
            return every
        if not mapping.report_batch_item_failures:
            return set()
        # Lambda's rules: an empty or null response or list is a full success; anything it
        # cannot read as a list of known, non-empty itemIdentifiers fails the whole batch.
        failures = response.get("batchItemFailures") if isinstance(response, dict) else response
        if not failures:
            return set()
        readable = isinstance(failures, list) and all(
            isinstance(f, dict) and f.get("itemIdentifier") in every for f in failures
        )
        return {f["itemIdentifier"] for f in failures} if readable else every
