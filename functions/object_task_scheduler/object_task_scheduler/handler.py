"""object_task_scheduler: S3 "Object Created" (EventBridge → SQS) → one task per matching rule.

Thin handler: Powertools parses each SQS record into a typed event and ``ObjectTaskScheduler``
gives the upload its tasks (the item in ObjectTaskTable, then the trigger: a one-time schedule,
or a delayed message when due within 15 minutes). Failed records, malformed ones included, are
reported in ``batchItemFailures`` so SQS redelivers only them; every step is idempotent, so
redelivery is safe. Objects written by object_rewriter are ignored (no loop); an event that is
not an SQS batch is rejected whole (``datalake_shared.event_shapes``).
"""

from datetime import timedelta
from functools import cache, partial
from typing import Any, Final

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from datalake_shared.batch_response import SqsRecordProcessor
from datalake_shared.event_shapes import sqs_records
from datalake_shared.observability import logger, metrics, tracer
from datalake_shared.s3_events import S3ObjectEventSqsRecord
from datalake_shared.validation import MAX_REPORTED_PROBLEMS, describe_error
from object_task_scheduler.ledger import DynamoTaskLedger
from object_task_scheduler.objects import S3ObjectHeads
from object_task_scheduler.planning import ScheduleAt, SendNow
from object_task_scheduler.service import (
    ObjectTaskScheduler,
    TaskResult,
    TaskStep,
    UploadOutcome,
    UploadResult,
)
from object_task_scheduler.settings import get_settings
from object_task_scheduler.triggers import QueueAndSchedulerTriggers, ScheduleTarget

STEP_METRICS: Final = {
    TaskStep.SCHEDULED: "TasksScheduled",
    TaskStep.SENT_NOW: "TasksSentNow",
    TaskStep.ALREADY_SCHEDULED: "TasksAlreadyScheduled",
    TaskStep.ALREADY_DONE: "TasksAlreadyDone",
}
REWRITES_IGNORED: Final = "RewritesIgnored"
OBJECTS_IGNORED: Final = "ObjectsIgnored"
FAILED_METRIC: Final = "RecordsFailed"


class _LoggingBatchProcessor(SqsRecordProcessor):
    """Logs every failed record once, with its message id and, when it parsed, its object."""

    def parsed_record_failed(
        self, record: S3ObjectEventSqsRecord, error: BaseException | None
    ) -> None:
        detail = record.body.detail
        logger.error(
            "Could not schedule the object's tasks; SQS will redeliver it",
            extra={
                "message_id": record.messageId,
                "bucket": detail.bucket.name,
                "object_key": detail.object.key,
                "error": describe_error(error, most=MAX_REPORTED_PROBLEMS),
            },
            exc_info=error,
        )


processor = _LoggingBatchProcessor(S3ObjectEventSqsRecord, body_is="an EventBridge S3 object event")


@cache
def default_scheduler() -> ObjectTaskScheduler:
    """Built on first use, so importing needs neither environment nor AWS; then reused."""
    settings = get_settings()
    target = ScheduleTarget(
        group=settings.schedule_group,
        queue_arn=settings.task_queue_arn,
        role_arn=settings.scheduler_role_arn,
        dlq_arn=settings.schedule_dlq_arn,
    )
    return ObjectTaskScheduler(
        rules=settings.object_task_rules,
        heads=S3ObjectHeads(),
        ledger=DynamoTaskLedger(
            settings.object_task_table, timedelta(hours=settings.fallback_grace_hours)
        ),
        triggers=QueueAndSchedulerTriggers(settings.task_queue_url, target),
    )


def _log_task(result: TaskResult) -> None:
    task, trigger = result.task, result.trigger
    extra: dict[str, Any] = {
        "task_id": task.task_id,
        "rule": task.rule.name,
        "due_at": task.due_at.isoformat(),
        "step": result.step.value,
    }
    if isinstance(trigger, SendNow):
        extra["delay_seconds"] = trigger.delay_seconds
    elif isinstance(trigger, ScheduleAt):
        extra["schedule_expression"] = trigger.expression
        extra["schedule_created"] = result.trigger_created
    if result.step is TaskStep.ALREADY_SCHEDULED and result.existing_status is None:
        logger.warning("Task item exists without a status; its trigger was ensured", extra=extra)
    else:
        logger.info("Task handled", extra=extra)


def _count(result: UploadResult) -> None:
    if result.outcome is UploadOutcome.TASKS:
        for task in result.tasks:
            metrics.add_metric(name=STEP_METRICS[task.step], unit=MetricUnit.Count, value=1)
            _log_task(task)
        return
    name = REWRITES_IGNORED if result.outcome is UploadOutcome.REWRITE else OBJECTS_IGNORED
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    extra = {"outcome": result.outcome.value, "reason": result.note}
    if result.outcome is UploadOutcome.NOT_CREATED:
        # The rule routes only "Object Created"; another type here means a changed rule.
        logger.warning("Not a new object; skipped", extra=extra)
    elif result.outcome is UploadOutcome.MISSING:
        logger.warning("Object gone before its tasks were scheduled; skipped", extra=extra)
    else:
        logger.info("Object ignored", extra=extra)


# Not traced per record: the handler's segment and the boto3 calls it makes are traced.
def schedule_record(record: S3ObjectEventSqsRecord, scheduler: ObjectTaskScheduler) -> str:
    event = record.body
    obj = event.detail.object
    with logger.append_context_keys(
        message_id=record.messageId,
        bucket=event.detail.bucket.name,
        object_key=obj.key,
        version_id=obj.version_id,
    ):
        result = scheduler.schedule(event)
        _count(result)
    return result.outcome.value


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(
    event: dict[str, Any], context: LambdaContext, scheduler: ObjectTaskScheduler | None = None
) -> PartialItemFailureResponse:
    """``scheduler`` lets tests inject an ObjectTaskScheduler with fakes; Lambda never passes it."""
    records = sqs_records(event)
    scheduler = scheduler or default_scheduler()
    with processor(records=records, handler=partial(schedule_record, scheduler=scheduler)):
        processor.process()
    failures = processor.response()["batchItemFailures"]
    if failures:
        metrics.add_metric(name=FAILED_METRIC, unit=MetricUnit.Count, value=len(failures))
    logger.info("Batch handled", extra={"records": len(records), "failed": len(failures)})
    return {"batchItemFailures": failures}
