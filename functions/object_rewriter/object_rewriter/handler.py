"""object_rewriter: runs scheduled object tasks. Two event sources, one handler:

- the task queue (SQS): each body is a TaskMessage; the task is read from its ObjectTaskTable
  item and run by ``ObjectRewriter`` (service.py); skipped when the item is done already, and
  failed (so retried, then dead-lettered) when there is no item;
- ObjectTaskTable's stream: the TTL removal of an item still ``scheduled`` (a schedule that never
  delivered, or a task whose messages were dead-lettered). Nothing is rewritten there:
  ``FallbackRequeuer`` (fallback.py) writes the item again and sends its task message, so the
  task runs on the queue path with its DLQ; after MAX_FALLBACKS the item is marked failed.

Failed records are reported in ``batchItemFailures`` (SQS: message id; stream: sequence number),
so only they are retried and, retries spent, reach the queue's DLQ or the stream's on-failure
destination; both paths are idempotent, so redelivery is safe. An event of another shape is
rejected whole (``datalake_shared.event_shapes``).
"""

from collections.abc import Mapping
from functools import cache, partial
from typing import Any, Final

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.base import FailureResponse
from aws_lambda_powertools.utilities.batch.exceptions import ExceptionInfo
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from datalake_shared.batch_response import SqsRecordProcessor
from datalake_shared.event_shapes import (
    DYNAMODB_STREAM_BATCH,
    SQS_BATCH,
    EventShapeError,
    batch_records,
    record_source,
    reject,
    sqs_records,
)
from datalake_shared.object_tasks import DEFAULT_FALLBACK_GRACE
from datalake_shared.observability import logger, metrics, tracer
from object_rewriter.fallback import FallbackOutcome, FallbackRequeuer, FallbackResult
from object_rewriter.ledger import DynamoTaskLedger
from object_rewriter.s3_store import S3ObjectStore
from object_rewriter.service import ObjectRewriter, RunOutcome, RunResult, TaskItemMissingError
from object_rewriter.settings import get_settings
from object_rewriter.task_queue import SqsTaskQueue
from object_rewriter.triggers import TaskMessageSqsRecord, fallback_trigger

SQS_SOURCE: Final = "aws:sqs"
STREAM_SOURCE: Final = "aws:dynamodb"
EXPECTED: Final = f"{SQS_BATCH} or {DYNAMODB_STREAM_BATCH}"
OUTCOME_METRICS: Final = {
    RunOutcome.APPLIED: "TasksApplied",
    RunOutcome.ALREADY_APPLIED: "TasksAlreadyApplied",
    RunOutcome.SUPERSEDED: "TasksSuperseded",
    RunOutcome.OBJECT_MISSING: "ObjectsMissing",
    RunOutcome.ALREADY_DONE: "TasksAlreadyDone",
}
FALLBACK_METRICS: Final = {
    FallbackOutcome.REQUEUED: "FallbackTasks",
    FallbackOutcome.ABANDONED: "TasksAbandoned",
    FallbackOutcome.ALREADY_DONE: "TasksAlreadyDone",
}
NO_ITEM_METRIC: Final = "TasksWithoutItem"
FAILED_METRIC: Final = "TasksFailed"
BYTES_METRIC: Final = "BytesRewritten"


class _TaskMessageProcessor(SqsRecordProcessor):
    def parsed_record_failed(
        self, record: TaskMessageSqsRecord, error: BaseException | None
    ) -> None:
        if isinstance(error, TaskItemMissingError):
            logger.error(
                "No item for the message's task; SQS will redeliver it, then dead-letter it",
                extra={"message_id": record.messageId, "task_id": error.task_id},
            )
            return
        logger.error(
            "Task failed; SQS will redeliver it",
            extra={"message_id": record.messageId, "task_id": record.body.task_id},
            exc_info=error,
        )


class _StreamProcessor(BatchProcessor):
    """Powertools' DynamoDB-stream BatchProcessor, reporting failures by sequence number and
    logging each failed record once."""

    def __init__(self) -> None:
        super().__init__(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)

    def failure_handler(self, record: Any, exception: ExceptionInfo) -> FailureResponse:
        raw = getattr(record, "raw_event", {})
        logger.error(
            "Requeuing an expired task failed; Lambda retries the stream record, then sends it "
            "to the on-failure destination",
            extra={
                "sequence_number": raw.get("dynamodb", {}).get("SequenceNumber"),
                "event_id": raw.get("eventID"),
            },
            exc_info=exception[1],
        )
        return super().failure_handler(record, exception)


sqs_processor = _TaskMessageProcessor(TaskMessageSqsRecord, body_is="a task message")
stream_processor = _StreamProcessor()


@cache
def default_ledger() -> DynamoTaskLedger:
    """Built on first use, so importing needs neither environment nor AWS; then reused by both
    paths (one DynamoDB client)."""
    return DynamoTaskLedger(get_settings().object_task_table)


@cache
def default_rewriter() -> ObjectRewriter:
    """Built on first use, like default_ledger."""
    settings = get_settings()
    return ObjectRewriter(
        store=S3ObjectStore(),
        ledger=default_ledger(),
        done_retention=settings.done_retention,
        max_object_bytes=settings.max_object_bytes,
    )


@cache
def default_requeuer() -> FallbackRequeuer:
    """Built on first use, like default_ledger."""
    settings = get_settings()
    return FallbackRequeuer(
        ledger=default_ledger(),
        queue=SqsTaskQueue(settings.task_queue_url),
        fallback_grace=DEFAULT_FALLBACK_GRACE,
        done_retention=settings.done_retention,
    )


def _count(result: RunResult) -> None:
    name = OUTCOME_METRICS.get(result.outcome)
    if name is not None:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    if result.bytes_rewritten:
        metrics.add_metric(name=BYTES_METRIC, unit=MetricUnit.Bytes, value=result.bytes_rewritten)


def _log_result(result: RunResult) -> None:
    task = result.task
    logger.info(
        "Task handled",
        extra={
            "outcome": result.outcome.value,
            "bucket": task.bucket if task else None,
            "object_key": task.key if task else None,
            "rule": task.rule.name if task else None,
            "records": result.stats.records if result.stats else None,
            "changed": result.stats.changed if result.stats else None,
            "bytes_rewritten": result.bytes_rewritten,
            "deleted_version": result.deleted_version,
        },
    )


def run_message(record: TaskMessageSqsRecord, rewriter: ObjectRewriter) -> RunResult:
    with logger.append_context_keys(message_id=record.messageId, task_id=record.body.task_id):
        try:
            result = rewriter.run_scheduled(record.body.task_id)
        except TaskItemMissingError:
            metrics.add_metric(name=NO_ITEM_METRIC, unit=MetricUnit.Count, value=1)
            raise
        _count(result)
        _log_result(result)
    return result


def _log_fallback(result: FallbackResult, last_error: str | None) -> None:
    task = result.task
    where = {"bucket": task.bucket, "object_key": task.key, "rule": task.rule.name}
    if result.outcome is FallbackOutcome.ABANDONED:
        # last_error is the item's own failure text (service.failure_text): never content.
        logger.error(
            "Task given up: its item expired while scheduled after every fallback; marked failed",
            extra={**where, "fallbacks": result.fallbacks, "last_error": last_error},
        )
        return
    logger.info(
        "Expired task handled",
        extra={**where, "outcome": result.outcome.value, "fallbacks": result.fallbacks},
    )


def run_fallback(record: DynamoDBRecord, requeuer: FallbackRequeuer) -> FallbackResult | None:
    raw = record.raw_event
    with logger.append_context_keys(event_id=raw.get("eventID")):
        trigger = fallback_trigger(raw)
        if trigger.expired is None:
            logger.warning("Stream record skipped", extra={"reason": trigger.skipped})
            return None
        with logger.append_context_keys(task_id=trigger.expired.task.task_id):
            result = requeuer.handle(trigger.expired)
            metrics.add_metric(
                name=FALLBACK_METRICS[result.outcome], unit=MetricUnit.Count, value=1
            )
            _log_fallback(result, trigger.expired.last_error)
    return result


def _event_source(event: object) -> str | None:
    """The source of the batch's first record: which of the two paths the batch takes."""
    records = event.get("Records") if isinstance(event, Mapping) else None
    return record_source(records[0]) if isinstance(records, list) and records else None


def _stream_records(event: object) -> list[dict[str, Any]]:
    records = batch_records(event, source=STREAM_SOURCE, expected=DYNAMODB_STREAM_BATCH)
    for position, record in enumerate(records):
        stream = record.get("dynamodb")
        if not isinstance(stream, Mapping) or not isinstance(stream.get("SequenceNumber"), str):
            problem = f"Records[{position}] has no text dynamodb.SequenceNumber"
            reject(EventShapeError(DYNAMODB_STREAM_BATCH, event, problem))
    return records


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(
    event: dict[str, Any],
    context: LambdaContext,
    rewriter: ObjectRewriter | None = None,
    requeuer: FallbackRequeuer | None = None,
) -> PartialItemFailureResponse:
    """``rewriter`` and ``requeuer`` let tests inject collaborators over fakes; Lambda never
    passes them."""
    source = _event_source(event)
    if source == SQS_SOURCE:
        records = sqs_records(event)
        processor: BatchProcessor = sqs_processor
        handler: Any = partial(run_message, rewriter=rewriter or default_rewriter())
    elif source == STREAM_SOURCE:
        records = _stream_records(event)
        processor = stream_processor
        handler = partial(run_fallback, requeuer=requeuer or default_requeuer())
    else:
        reject(EventShapeError(EXPECTED, event))
    with processor(records=records, handler=handler):
        processor.process()
    failures = processor.response()["batchItemFailures"]
    if failures:
        metrics.add_metric(name=FAILED_METRIC, unit=MetricUnit.Count, value=len(failures))
    logger.info(
        "Batch handled",
        extra={"source": source, "records": len(records), "failed": len(failures)},
    )
    return {"batchItemFailures": failures}
