"""SQS consumers' partial-batch responses: the processor every SQS consumer uses, and the
response of one that fails messages in two passes."""

from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.base import FailureResponse
from aws_lambda_powertools.utilities.batch.exceptions import ExceptionInfo
from aws_lambda_powertools.utilities.batch.types import PartialItemFailures
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel

from datalake_shared.observability import logger
from datalake_shared.validation import MAX_REPORTED_PROBLEMS, describe_error


def with_failures(
    reported: Sequence[PartialItemFailures], message_ids: Sequence[str]
) -> list[PartialItemFailures]:
    """``reported`` (Powertools' per-record failures) followed by the other message ids that
    failed in a later, per-batch step, each message listed once."""
    failures = list(reported)
    seen = {failure["itemIdentifier"] for failure in failures}
    for message_id in message_ids:
        if message_id not in seen:
            seen.add(message_id)
            failures.append({"itemIdentifier": message_id})
    return failures


class SqsRecordProcessor(BatchProcessor):
    """Powertools' SQS BatchProcessor, reporting failures per message (never raising on a whole
    failed batch: SQS retries exactly the failed ones and the DLQ bounds the retries), that logs
    every failed record once: a parsed one through ``parsed_record_failed``, and a raw one (its
    body failed the model, so Powertools hands over the raw SQS record) through
    ``malformed_record``, which by default logs "Malformed record: its body is not
    <``body_is``>" with the message id and what was wrong."""

    def __init__(self, model: type[SqsRecordModel], body_is: str = "") -> None:
        super().__init__(event_type=EventType.SQS, model=model, raise_on_entire_batch_failure=False)
        self.body_is = body_is

    def parsed_record_failed(self, record: Any, error: BaseException | None) -> None:
        raise NotImplementedError

    def malformed_record(self, record: Any, error: BaseException | None) -> None:
        if not self.body_is:
            raise NotImplementedError("say what a body is (body_is), or log it yourself")
        logger.error(
            f"Malformed record: its body is not {self.body_is}",
            extra={
                "message_id": getattr(record, "message_id", None),
                "error": describe_error(error, most=MAX_REPORTED_PROBLEMS),
            },
        )

    def failure_handler(self, record: Any, exception: ExceptionInfo) -> FailureResponse:
        model = self.model
        if model is not None and isinstance(record, model):
            self.parsed_record_failed(record, exception[1])
        else:
            self.malformed_record(record, exception[1])
        return super().failure_handler(record, exception)
